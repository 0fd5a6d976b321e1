import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll } from 'vitest';

/** The PostgreSQL every test uses (trust auth, database `test`); TEST_DATABASE_URL overrides it. */
export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const schemas: string[] = [];

afterAll(async () => {
  if (schemas.length === 0) return;
  const client = new pg.Client(PG_URL);
  await client.connect();
  try {
    for (const schema of schemas.splice(0)) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
});

/**
 * Creates an empty schema and returns a DATABASE_URL whose connections use it (through the `options`
 * parameter: `-c search_path=…`), so test files never see each other's tables. Dropped after the file.
 */
export async function freshSchemaUrl(): Promise<string> {
  return (await freshSchema()).url;
}

/** {@link freshSchemaUrl}, with the schema's name. */
export async function freshSchema(): Promise<{ url: string; schema: string }> {
  const schema = `switchboard_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client(PG_URL);
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await client.end();
  }
  schemas.push(schema);
  return { url: `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`, schema };
}
