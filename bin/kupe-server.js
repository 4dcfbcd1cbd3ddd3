#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx: nothing to build after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/kupe-server.ts');
const code = await main(process.argv.slice(2));
if (code !== 0) process.exitCode = code;
