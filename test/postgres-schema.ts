import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * A fresh schema in the PostgreSQL database `baseUrl` names, and a URL whose
 * connections use it (through search_path): how tests (in parallel) and the
 * benchmark get a database of their own. `drop` removes it with its tables.
 */
export async function createSchema(baseUrl: string, prefix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  const run = async (statement: string) => {
    const client = new pg.Client({ connectionString: baseUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await run(`create schema ${schema}`);
  const url = new URL(baseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { url: url.toString(), drop: () => run(`drop schema ${schema} cascade`) };
}
