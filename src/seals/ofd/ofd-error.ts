/** A seal's OFD picture that cannot be read or drawn, with the reason (the caller names the field). */
export class OfdError extends Error {
  override name = 'OfdError';
}
