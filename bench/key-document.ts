// A secret-scanning key document (test/leaks/scanner.ts) in a process of its own, for bench/leak-flood.ts:
// the benchmark's own process is busy waiting for wrk, and would answer Kupe's fetches late. Prints
// {"url", "keyId"} as one JSON line, then serves until killed.
import { startKeyDocument } from '../test/leaks/scanner.ts';

const keys = await startKeyDocument();
const keyId = keys.addKey();
console.log(JSON.stringify({ url: keys.url, keyId }));
