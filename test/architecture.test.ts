import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { test } from 'node:test';

/**
 * Every module of src/ with the modules of src/ it imports, `import type` included; dynamic `import()` too
 * when asked (a module loaded only when a feature is on is still reached).
 */
function importGraph(options: { dynamic?: boolean } = {}): Map<string, string[]> {
  const files = readdirSync('src', { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => join('src', f));
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const dynamic = options.dynamic ? [...text.matchAll(/\bimport\('(\.{1,2}\/[^']+)'\)/g)] : [];
    const targets = [...text.matchAll(/^(?:import|export)\b[^'"]*?\bfrom\s+'(\.{1,2}\/[^']+)'/gm), ...dynamic]
      .map((m) => normalize(join(dirname(file), m[1]!)));
    graph.set(file, targets.filter((t) => files.includes(t)));
  }
  return graph;
}

/** The cycles of a graph, each as the path that closes it (depth-first, each cycle found once per entry). */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return found;
}

test('src/ has no import cycle, type imports included', () => {
  const graph = importGraph();
  assert.ok(graph.size > 40, `the graph was read (${graph.size} modules)`);
  assert.deepEqual(cycles(graph).map((c) => c.join(' -> ')), []);
});

test('the cycle finder finds a cycle', () => {
  const graph = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]);
  assert.deepEqual(cycles(graph), [['a', 'b', 'c', 'a']]);
});

test('one root: every module of src/ is reached from the CLI entry, which nothing imports', () => {
  const graph = importGraph({ dynamic: true });
  const imported = new Set([...graph.values()].flat());
  const roots = [...graph.keys()].filter((m) => !imported.has(m));
  assert.deepEqual(roots, [join('src', 'cli', 'kupe-server.ts')]);
  // Long-lived parts are made by the root and src/services.ts only: no module of the app news a Metrics,
  // a fault reporter, a lastUsedAt tracker or the provider's keys.
  for (const [file] of graph) {
    if ([join('src', 'server.ts'), join('src', 'services.ts')].includes(file)) continue;
    const text = readFileSync(file, 'utf8');
    assert.doesNotMatch(text, /new (?:Metrics|StoreFaults|LastUsedTracker|IssuerKeys|VerifiedTokens|ConsoleSignIn)\(/, `${file} builds a long-lived part`);
  }
});

test('every room of src/ has its import rule in eslint.config.js, and the README names each room', () => {
  const lint = readFileSync('eslint.config.js', 'utf8');
  const readme = readFileSync('README.md', 'utf8');
  const layers = readme.slice(readme.indexOf('Dependencies point one way'), readme.indexOf('Why it is\nbuilt this way'));
  const rooms = readdirSync('src', { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  assert.ok(rooms.length >= 6, `the rooms were read (${rooms.join(', ')})`);
  for (const room of rooms) {
    assert.match(lint, new RegExp(`files: \\['src/${room}/\\*\\*'`), `eslint.config.js has no rule for src/${room}/`);
    assert.ok(layers.includes(`\`${room}\``), `README's dependency paragraph does not name ${room}`);
  }
  for (const module of ['config.ts', 'settings.ts', 'server.ts']) assert.ok(layers.includes(`\`${module}\``), `README names ${module}`);
});
