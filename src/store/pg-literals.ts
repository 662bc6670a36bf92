import pg from 'pg';
import type { SqlParam } from './db.js';

/**
 * A value written as a PostgreSQL literal, for statements sent several to a message (the simple
 * query protocol, which takes no parameters). Text goes through node-postgres's own escaping,
 * which doubles quotes and backslashes and marks text holding a backslash as an E'' string, so
 * the literal means the same whatever `standard_conforming_strings` says; the connection speaks
 * UTF-8 (node-postgres sets it), where no multi-byte character holds a quote or backslash byte.
 * A NUL, which PostgreSQL text cannot hold and which would end the query's text early, is
 * refused, as PostgreSQL refuses it as a parameter.
 */
export function pgLiteral(value: SqlParam): string {
  if (value === null) return 'NULL';
  // A negative number in parentheses: after a minus sign, its own would begin a comment (`--`).
  if (typeof value === 'bigint') return value < 0n ? `(${value})` : value.toString();
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`${value} cannot be written as an SQL number`);
    return value < 0 ? `(${value})` : String(value);
  }
  if (Buffer.isBuffer(value)) return `decode('${value.toString('hex')}', 'hex')`;
  if (value.includes('\0')) throw new RangeError('text with a NUL character cannot be stored');
  return pg.escapeLiteral(value);
}
