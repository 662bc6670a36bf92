/**
 * RC4, for the standard security handler's revisions 2-4 (V1, V2 and /V2 crypt filters).
 * node:crypto offers RC4 only through OpenSSL's legacy provider, which Node 20 does not load
 * (`crypto.getCiphers()` lists no 'rc4' and createCipheriv('rc4') fails), so it is written out
 * here: it is a few lines, and decrypting old PDFs is not a hot path.
 */
export function rc4(key: Uint8Array, data: Uint8Array): Buffer {
  if (key.length === 0) throw new RangeError('RC4 needs a key');
  const s = new Uint8Array(256);
  for (let i = 0; i < 256; i++) s[i] = i;
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + s[i]! + key[i % key.length]!) & 0xff;
    const t = s[i]!;
    s[i] = s[j]!;
    s[j] = t;
  }
  const out = Buffer.allocUnsafe(data.length);
  for (let n = 0, i = 0, j = 0; n < data.length; n++) {
    i = (i + 1) & 0xff;
    j = (j + s[i]!) & 0xff;
    const t = s[i]!;
    s[i] = s[j]!;
    s[j] = t;
    out[n] = data[n]! ^ s[(s[i]! + s[j]!) & 0xff]!;
  }
  return out;
}
