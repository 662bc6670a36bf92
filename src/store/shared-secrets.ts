import { randomBytes } from 'node:crypto';
import type { Db } from './db.js';

/**
 * A random secret made once and kept in the database, so every instance that shares the
 * database uses the same one (the first instance to ask creates it).
 */
export async function sharedSecret(db: Db, name: string): Promise<string> {
  await db.run('INSERT INTO service_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING', [name, randomBytes(32).toString('base64url')]);
  const row = await db.get<{ value: string }>('SELECT value FROM service_secrets WHERE name = ?', [name]);
  if (!row) throw new Error(`the shared secret ${name} could not be stored`);
  return row.value;
}
