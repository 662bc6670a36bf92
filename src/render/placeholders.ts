const PLACEHOLDER = /\{([^{}]+)\}/g;

/** The placeholders of a letter paragraph, in order: holder.name, holder.code or a field key. */
export function placeholders(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/** `text` with each placeholder replaced by `value(key)`. */
export function fillPlaceholders(text: string, value: (key: string) => string): string {
  return text.replace(PLACEHOLDER, (_, key: string) => value(key));
}
