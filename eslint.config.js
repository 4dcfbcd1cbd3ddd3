// Typed lint rules, plus the layer rules that keep the dependency arrows pointing one way:
// http and cli -> domain <- store; http -> limits, oidc, outbound; oidc -> domain, outbound; config -> domain; server.ts (the
// composition root) -> everything; the console -> the vocabulary and the schemas' types; domain imports no framework.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
const FRAMEWORKS = [
  { group: ['fastify', 'fastify-*', '@fastify/*'], message: 'Only src/http speaks HTTP.' },
  { group: ['kysely', 'better-sqlite3', 'pg'], message: 'Only src/store speaks SQL.' },
  { group: ['pino'], message: 'The domain does not log; it returns values or throws AppError.' },
];

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', '.tmp/', 'dist/', 'console/dist/', '.venv-clients/', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['bin/*.js', 'scripts/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }],
      }],
      // Interface methods may be async without awaiting (a shared store implementation will await).
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  { files: ['src/domain/**'], rules: restrict([...FRAMEWORKS, { group: ['**/http/**', '**/store/**', '**/cli/**'], message: 'The domain imports no outer layer.' }]) },
  { files: ['src/store/**'], rules: restrict([{ group: ['**/http/**', '**/cli/**', 'fastify', 'pino'], message: 'The store knows nothing of HTTP or the CLI.' }]) },
  { files: ['src/cli/**'], rules: restrict([...FRAMEWORKS.slice(0, 2), { group: ['**/http/**', '**/store/*', '!**/store/index.ts'], message: 'The CLI calls the domain (and opens the store through src/store/index.ts); never src/http.' }, { group: ['**/limits/**'], message: 'The CLI does not serve requests.' }]) },
  { files: ['src/limits/**'], rules: restrict([...FRAMEWORKS, { group: ['**/http/**', '**/store/**', '**/cli/**', '**/domain/**'], message: 'The limiters only count; they know no HTTP, store or domain.' }]) },
  { files: ['src/http/**'], rules: restrict([{ group: ['kysely', 'better-sqlite3', 'pg', '**/store/*'], message: 'HTTP calls the domain, never the store implementation.' }]) },
  { files: ['src/gateway/**'], rules: restrict([...FRAMEWORKS, { group: ['**/http/**', '**/store/**', '**/cli/**', '**/limits/**', '**/oidc/**', '**/config.ts'], message: 'The gateway policy is pure: its rules and the domain\'s, nothing that runs.' }]) },
  { files: ['src/oidc/**'], rules: restrict([...FRAMEWORKS, { group: ['**/http/**', '**/store/**', '**/cli/**', '**/limits/**', '**/config.ts'], message: 'The identity-provider client speaks to the provider and the domain only; its settings are passed in.' }]) },
  { files: ['src/outbound/**'], rules: restrict([...FRAMEWORKS, { group: ['**/http/**', '**/store/**', '**/cli/**', '**/limits/**', '**/oidc/**', '**/config.ts'], message: 'Outbound fetches know only what they fetch; their settings are passed in.' }]) },
  { files: ['src/config.ts', 'src/settings.ts'], rules: restrict([...FRAMEWORKS, { group: ['./http/**', './store/**', '!./store/tuning.ts', './cli/**', './limits/**', './oidc/**', './server.ts', './services.ts'], message: 'Configuration reads the environment, the domain\'s rules and what the store needs told (src/store/tuning.ts), nothing that runs.' }]) },
  {
    files: ['console/src/**'],
    rules: restrict([
      { group: ['**/src/*.ts', '**/src/*/*', '**/src/*/*/*', '!**/src/domain/vocabulary.ts', '!**/src/http/schemas.ts'], message: 'The console is a client of the API: from the server it takes only the vocabulary (src/domain/vocabulary.ts) and the schemas\' types.' },
      { group: ['**/src/http/schemas.ts'], allowTypeImports: true, message: 'The console takes the schemas as types only (import type).' },
      { group: ['fastify', 'kysely', 'pg', 'better-sqlite3', 'pino', 'jose', 'openid-client'], message: 'Server packages do not belong in the browser bundle.' },
    ]),
  },
  {
    files: ['test/**', 'bench/**', 'scripts/**', 'bin/**'],
    rules: {
      // Without a message, a failing assert.ok makes node parse the test's source to write one: under tsx
      // that took 18 s of CPU per failure in a large test file (a loop of them looks like a hang).
      'no-restricted-syntax': ['error', {
        selector: "CallExpression[callee.object.name='assert'][callee.property.name='ok'][arguments.length<2]",
        message: 'Give assert.ok a message (its second argument).',
      }],
      '@typescript-eslint/no-unsafe-member-access': 'off', '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off', '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off', '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  { files: ['bin/**', 'scripts/**'], languageOptions: { globals: { process: 'readonly', console: 'readonly' } } },
);
