/**
 * The message digest an SM2 signature signs (GB/T 32918.2 6.1): e = SM3(Z || M), where
 * Z = SM3(ENTL || ID || a || b || Gx || Gy || xA || yA) binds the signer's distinguishing ID
 * and public key. SM3 is node:crypto's (OpenSSL's), which is correct and fast.
 */
import { createHash } from 'node:crypto';

/** The distinguishing ID every SM2 signature here uses unless told otherwise (GM/T 0009). */
export const DEFAULT_SM2_ID = Buffer.from('1234567812345678', 'latin1');

/** a, b, Gx, Gy of the SM2 recommended curve (GB/T 32918.5), each 32 bytes. */
const CURVE_PARAMETERS = Buffer.from(
  'FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC' +
    '28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93' +
    '32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7' +
    'BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0',
  'hex',
);

/** An uncompressed SM2 public point: 0x04 || x || y. */
export const SM2_POINT_BYTES = 65;

function requirePoint(publicPoint: Buffer): void {
  if (publicPoint.length !== SM2_POINT_BYTES || publicPoint[0] !== 0x04) throw new Error('an SM2 public key must be an uncompressed point of 65 bytes');
}

export function sm3(chunks: readonly Buffer[]): Buffer {
  const hash = createHash('sm3');
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest();
}

/** Z of a signer: its ID (at most 8191 bytes, ENTL being a 16-bit bit count) and public point. */
export function sm2ZValue(publicPoint: Buffer, id: Buffer = DEFAULT_SM2_ID): Buffer {
  requirePoint(publicPoint);
  if (id.length >= 8192) throw new Error('an SM2 distinguishing ID is at most 8191 bytes');
  const entl = Buffer.alloc(2);
  entl.writeUInt16BE(id.length * 8);
  return sm3([entl, id, CURVE_PARAMETERS, publicPoint.subarray(1)]);
}

/** e = SM3(Z || M), with the message given in pieces. */
export function sm2MessageDigest(zValue: Buffer, message: readonly Buffer[]): Buffer {
  return sm3([zValue, ...message]);
}
