/**
 * A bounded cache of what was parsed out of DER bytes (certificates above all: the same few
 * certificates come back in every signature, timestamp, DSS and status request). Keyed by the
 * bytes themselves, so equal bytes share one parse and no caller can be handed another
 * certificate's result. Least recently used entries go first.
 */
export class DerCache<T> {
  private readonly entries = new Map<string, T>();

  constructor(
    private readonly maxEntries: number,
    /** Larger inputs are parsed without caching (and without building a key from them). */
    private readonly maxKeyBytes = 64 * 1024,
  ) {}

  get(der: Buffer, parse: () => T): T {
    if (der.length > this.maxKeyBytes) return parse();
    const key = der.toString('latin1');
    const known = this.entries.get(key);
    if (known !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, known);
      return known;
    }
    const value = parse();
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, value);
    return value;
  }
}
