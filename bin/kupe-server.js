#!/usr/bin/env -S node --max-semi-space-size=1
// Runs the compiled server (dist/, made by `npm run build`): nothing is compiled at run time.
// --max-semi-space-size=1 (MB) keeps V8's young generation small: about 20 MB less resident memory, with
// no measurable cost to authenticated requests (docs/performance.md). Started as `node bin/kupe-server.js`,
// Node's defaults apply instead.
let cli;
try {
  cli = await import('../dist/cli/kupe-server.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('/dist/cli/kupe-server.js')) throw error;
  process.stderr.write('kupe-server: not built yet (dist/ is missing); in a source checkout run: npm run build\n');
  process.exit(1);
}
const code = await cli.main(process.argv.slice(2));
if (code !== 0) process.exitCode = code;
