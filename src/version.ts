import { readFileSync } from 'node:fs';

/** This Kupe's version (package.json), the same from src/ and from dist/ (one folder below the package's root). */
export const KUPE_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
