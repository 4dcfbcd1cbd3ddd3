// Writes the settings tables of README.md ("Configuration") and docs/oidc.md from src/settings.ts
// (npm run docs:settings); test/docs.test.ts checks that they are up to date.
import { readFileSync, writeFileSync } from 'node:fs';
import { settingsTable } from '../src/settings.ts';

/** Where each table goes: between `<!-- settings:NAME -->` and `<!-- /settings -->`. */
export const SETTINGS_TABLES = [
  { file: 'README.md', table: 'server' },
  { file: 'docs/oidc.md', table: 'oidc' },
  { file: 'docs/leaks.md', table: 'leaks' },
  { file: 'docs/notifications.md', table: 'mail' },
] as const;

/** The document with its table replaced by the one rendered now. */
export function withSettingsTable(document: string, table: (typeof SETTINGS_TABLES)[number]['table']): string {
  const start = `<!-- settings:${table} -->\n`;
  const end = '\n<!-- /settings -->';
  const from = document.indexOf(start);
  const to = document.indexOf(end, from);
  if (from === -1 || to === -1) throw new Error(`no ${start.trim()} ... ${end.trim()} block`);
  return document.slice(0, from + start.length) + settingsTable(table) + document.slice(to);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const { file, table } of SETTINGS_TABLES) {
    const url = new URL(`../${file}`, import.meta.url);
    writeFileSync(url, withSettingsTable(readFileSync(url, 'utf8'), table));
    console.log(`wrote the ${table} settings table of ${file}`);
  }
}
