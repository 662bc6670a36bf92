import { createCipheriv, createDecipheriv } from 'node:crypto';
import { PdfError } from '../errors.js';

const BLOCK = 16;

/**
 * Decrypts a PDF AES string or stream (ISO 32000-2 7.6.3): a 16-byte IV, then CBC ciphertext
 * with PKCS#5 padding; `key` is 16 (AESV2) or 32 (AESV3) bytes. Empty data and a bare IV are
 * empty (writers emit both for empty strings); any other length that is not whole blocks, or
 * bad padding, is MALFORMED. One pass over the data.
 */
export function aesDecryptPdf(key: Buffer, data: Buffer): Buffer {
  if (data.length === 0 || data.length === BLOCK) return Buffer.alloc(0);
  if (data.length < 2 * BLOCK || data.length % BLOCK !== 0) {
    throw new PdfError('MALFORMED', `AES-encrypted data of ${data.length} bytes is not an IV and whole blocks`);
  }
  const decipher = createDecipheriv(`aes-${key.length * 8}-cbc`, key, data.subarray(0, BLOCK));
  decipher.setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(data.subarray(BLOCK)), decipher.final()]);
  const pad = plain[plain.length - 1]!;
  if (pad < 1 || pad > BLOCK) throw new PdfError('MALFORMED', 'AES-encrypted data has bad padding');
  for (let i = plain.length - pad; i < plain.length; i++) {
    if (plain[i] !== pad) throw new PdfError('MALFORMED', 'AES-encrypted data has bad padding');
  }
  return plain.subarray(0, plain.length - pad);
}

/** AES-256 CBC decryption with a zero IV and no padding (the /OE and /UE keys, ISO 32000-2 7.6.4.3.3). */
export function aes256DecryptNoPadding(key: Buffer, data: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-cbc', key, Buffer.alloc(BLOCK));
  decipher.setAutoPadding(false);
  return Buffer.concat([decipher.update(data), decipher.final()]);
}

/** AES-128 CBC encryption without padding (a step of the revision 6 hash, algorithm 2.B). */
export function aes128EncryptNoPadding(key: Buffer, iv: Buffer, data: Buffer): Buffer {
  const cipher = createCipheriv('aes-128-cbc', key, iv);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}
