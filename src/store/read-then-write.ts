import type { Db, Statement, WriteStep } from './db.js';

/** `Db.readThenWrite`'s two steps as statements of a transaction that `tx` holds already. */
export async function readThenWriteIn<T>(tx: Db, reads: readonly Statement[], write: (rows: unknown[][]) => WriteStep<T>): Promise<T> {
  const rows: unknown[][] = [];
  for (const { sql, params } of reads) rows.push(await tx.all(sql, params));
  const { statements, value } = write(rows);
  for (const { sql, params } of statements) await tx.run(sql, params);
  return value;
}
