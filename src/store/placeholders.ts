/**
 * Replaces each `?` placeholder of `sql` with `replacement(n)` (n counting from 1), leaving
 * question marks inside quoted strings and identifiers alone.
 */
function replacePlaceholders(sql: string, replacement: (n: number) => string): string {
  let out = '';
  let n = 0;
  let quote: string | undefined;
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = undefined;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else if (ch === '?') {
      out += replacement(++n);
    } else {
      out += ch;
    }
  }
  return out;
}

/** Rewrites `?` placeholders as PostgreSQL's `$1, $2, ...`. */
export function numberPlaceholders(sql: string): string {
  return replacePlaceholders(sql, (n) => `$${n}`);
}

/**
 * Writes `literals[n - 1]` in place of the n-th `?` placeholder. The literals are SQL already
 * (`store/pg-literals.ts`); a count that does not match the placeholders is an error.
 */
export function inlinePlaceholders(sql: string, literals: readonly string[]): string {
  let used = 0;
  const inlined = replacePlaceholders(sql, (n) => {
    used = n;
    const literal = literals[n - 1];
    if (literal === undefined) throw new Error(`the statement has more placeholders than the ${literals.length} values given`);
    return literal;
  });
  if (used !== literals.length) throw new Error(`the statement has ${used} placeholders for ${literals.length} values`);
  return inlined;
}
