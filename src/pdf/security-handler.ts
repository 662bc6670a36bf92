import { aesDecryptPdf } from './crypt/aes.js';
import { authenticateAes256 } from './crypt/password-aes256.js';
import { authenticateLegacy, objectKey } from './crypt/password-legacy.js';
import { rc4 } from './crypt/rc4.js';
import { PdfError } from './errors.js';
import { PdfDict, PdfName, PdfStream, PdfString, isName, type PdfValue } from './objects.js';

/**
 * The PDF standard security handler (ISO 32000-2 7.6.4): RC4 40 to 128 bits (V1, V2; R2, R3),
 * crypt filters with RC4 or AES-128 (V4; R4) and AES-256 (V5; R5 and R6), opened with the user
 * or the owner password.
 *
 * What a document loader must leave alone (7.6.2): the cross-reference stream, the /Encrypt
 * dictionary, the trailer (with /ID), the strings inside objects of an object stream (the object
 * stream is decrypted as a whole) and the /Contents of signature dictionaries — see
 * decryptValue().
 */
export interface ObjectDecryptor {
  /** Which password opened the document. */
  readonly authenticatedAs: 'user' | 'owner';
  /** Decrypts a string of object (num, gen). */
  decryptString(bytes: Buffer, num: number, gen: number): Buffer;
  /**
   * Decrypts a stream's raw (still-filtered) bytes. Honours a leading /Crypt filter (its
   * /DecodeParms /Name, /Identity by default), /EFF for embedded files, EncryptMetadata false
   * for /Type /Metadata streams, and leaves /Type /XRef streams as they are.
   */
  decryptStream(raw: Buffer, dict: PdfDict, num: number, gen: number): Buffer;
}

type Method = 'identity' | 'rc4' | 'aes128' | 'aes256';

function malformed(message: string): never {
  throw new PdfError('MALFORMED', `encryption dictionary: ${message}`);
}

function integer(value: PdfValue | undefined, key: string, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value)) malformed(`/${key} is not an integer`);
  return value;
}

function bytes(encrypt: PdfDict, key: string, length: number): Buffer {
  const value = encrypt.get(key);
  if (!(value instanceof PdfString)) malformed(`/${key} is missing or not a string`);
  if (value.bytes.length < length) malformed(`/${key} has ${value.bytes.length} bytes, fewer than ${length}`);
  return value.bytes.subarray(0, length);
}

function asArray(value: PdfValue | undefined): PdfValue[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** The crypt filters of V4/V5 (/CF), resolved by name once each. */
class CryptFilters {
  private readonly resolved = new Map<string, Method>([['Identity', 'identity']]);
  constructor(
    private readonly cf: PdfDict | undefined,
    private readonly version: 4 | 5,
  ) {}

  method(name: string): Method {
    const known = this.resolved.get(name);
    if (known) return known;
    const filter = this.cf?.get(name);
    if (!(filter instanceof PdfDict)) malformed(`crypt filter /${name} is not defined in /CF`);
    const cfm = filter.get('CFM') ?? PdfName.of('None');
    if (!(cfm instanceof PdfName)) malformed(`crypt filter /${name} has a bad /CFM`);
    const method = this.toMethod(cfm.value);
    if (!method) throw new PdfError('UNSUPPORTED', `crypt filter method /${cfm.value} with /V ${this.version} is not supported`);
    this.resolved.set(name, method);
    return method;
  }

  private toMethod(cfm: string): Method | undefined {
    if (cfm === 'None') return 'identity';
    if (this.version === 4 && cfm === 'V2') return 'rc4';
    if (this.version === 4 && cfm === 'AESV2') return 'aes128';
    if (this.version === 5 && cfm === 'AESV3') return 'aes256';
    return undefined;
  }
}

/** The file key length in bytes for revisions 2-4 (algorithm 2, step i). */
function legacyKeyLength(encrypt: PdfDict, version: number, revision: number): number {
  if (revision === 2) return 5;
  let bits = encrypt.get('Length');
  if (bits === undefined && version === 4) {
    const cf = encrypt.get('CF');
    const stmF = encrypt.get('StmF');
    const filter = cf instanceof PdfDict && stmF instanceof PdfName ? cf.get(stmF.value) : undefined;
    const length = filter instanceof PdfDict ? filter.get('Length') : undefined;
    // crypt filter lengths are bits, though some writers give bytes
    bits = typeof length === 'number' && length > 0 && length <= 16 ? length * 8 : length;
  }
  const value = integer(bits, 'Length', version === 4 ? 128 : 40);
  if (value < 40 || value > 128 || value % 8 !== 0) malformed(`key length ${value} is not a multiple of 8 from 40 to 128 bits`);
  return value / 8;
}

function passwordFailure(password: string | undefined): PdfError {
  return password
    ? new PdfError('ENCRYPTED', 'the password is neither the user nor the owner password of the document')
    : new PdfError('ENCRYPTED', 'the document is encrypted with a user password; give the password');
}

interface Methods {
  string: Method;
  stream: Method;
  embeddedFile: Method;
  /** The crypt filters a stream may name in a /Crypt filter (V4 and V5). */
  filters?: CryptFilters;
}

/** The methods for strings, streams and embedded files: RC4 for V1/V2, /StrF, /StmF and /EFF for V4/V5. */
function cryptMethods(encrypt: PdfDict, version: number, revision: number): Methods {
  if (version < 4) return { string: 'rc4', stream: 'rc4', embeddedFile: 'rc4' };
  const cf = encrypt.get('CF');
  if (cf !== undefined && !(cf instanceof PdfDict)) malformed('/CF is not a dictionary');
  const filters = new CryptFilters(cf, version as 4 | 5);
  const named = (key: string, fallback: Method): Method => {
    const value = encrypt.get(key);
    if (value === undefined) return fallback;
    if (!(value instanceof PdfName)) malformed(`/${key} is not a name`);
    return filters.method(value.value);
  };
  const stream = named('StmF', 'identity');
  const methods = { string: named('StrF', 'identity'), stream, embeddedFile: named('EFF', stream), filters };
  const usesAes128 = [methods.string, methods.stream, methods.embeddedFile].includes('aes128');
  if (usesAes128 && legacyKeyLength(encrypt, version, revision) < 11) malformed('AESV2 needs a key of at least 88 bits (an object key of 128)');
  return methods;
}

/** The file key, from the password as the user or the owner password (algorithms 2, 6, 7, 2.A). */
function authenticate(encrypt: PdfDict, version: number, revision: number, firstId: Buffer, password: string | undefined): {
  key: Buffer;
  as: 'user' | 'owner';
} {
  const result =
    revision <= 4
      ? authenticateLegacy(
          {
            revision: revision as 2 | 3 | 4,
            keyLength: legacyKeyLength(encrypt, version, revision),
            o: bytes(encrypt, 'O', 32),
            u: bytes(encrypt, 'U', 32),
            p: integer(encrypt.get('P'), 'P'),
            firstId,
            encryptMetadata: encrypt.get('EncryptMetadata') !== false,
          },
          Buffer.from(password ?? '', 'latin1'),
        )
      : authenticateAes256(
          {
            revision: revision as 5 | 6,
            o: bytes(encrypt, 'O', 48),
            u: bytes(encrypt, 'U', 48),
            oe: bytes(encrypt, 'OE', 32),
            ue: bytes(encrypt, 'UE', 32),
          },
          Buffer.from(password ?? '', 'utf8').subarray(0, 127),
        );
  if (!result) throw passwordFailure(password);
  return result;
}

/**
 * Opens the standard security handler of an `/Encrypt` dictionary (resolved, with its /CF
 * entries direct) with the first element of the trailer's /ID (empty when there is none). The
 * password (default: the empty user password) may be the user or the owner password; it is
 * Latin-1 for revisions 2-4 and UTF-8 (not SASLprep-normalised) truncated to 127 bytes for 5-6.
 *
 * Throws ENCRYPTED for a missing or wrong password, UNSUPPORTED for other security handlers
 * (public-key, unknown /Filter) and versions, MALFORMED for an inconsistent dictionary.
 */
export function openStandardSecurity(encrypt: PdfDict, firstId: Buffer, password?: string): ObjectDecryptor {
  const filter = encrypt.get('Filter');
  if (!isName(filter, 'Standard')) {
    const name = filter instanceof PdfName ? filter.value : 'without a /Filter name';
    throw new PdfError('UNSUPPORTED', `the security handler ${name} is not supported (only the standard password handler is)`);
  }
  const version = integer(encrypt.get('V'), 'V', 0);
  const revision = integer(encrypt.get('R'), 'R');
  const supported =
    ((version === 1 || version === 2) && (revision === 2 || revision === 3)) ||
    (version === 4 && revision === 4) ||
    (version === 5 && (revision === 5 || revision === 6));
  if (!supported) throw new PdfError('UNSUPPORTED', `standard security handler /V ${version} /R ${revision} is not supported`);
  const methods = cryptMethods(encrypt, version, revision);
  const { key: fileKey, as: authenticatedAs } = authenticate(encrypt, version, revision, firstId, password);
  // EncryptMetadata exists from V4 on; before, metadata streams are encrypted like any other
  const encryptMetadata = version < 4 || encrypt.get('EncryptMetadata') !== false;

  const apply = (method: Method, data: Buffer, num: number, gen: number): Buffer => {
    switch (method) {
      case 'identity':
        return data;
      case 'rc4':
        return rc4(objectKey(fileKey, num, gen, false), data);
      case 'aes128':
        return aesDecryptPdf(objectKey(fileKey, num, gen, true), data);
      case 'aes256':
        return aesDecryptPdf(fileKey, data);
    }
  };

  /** The method for one stream: a leading /Crypt filter, else /EFF for embedded files, else /StmF. */
  const methodOfStream = (dict: PdfDict): Method => {
    const streamFilters = asArray(dict.get('Filter'));
    if (isName(streamFilters[0], 'Crypt')) {
      const { filters } = methods;
      if (!filters) malformed('a /Crypt stream filter needs /V 4 or 5');
      const parms = asArray(dict.get('DecodeParms'))[0];
      const name = parms instanceof PdfDict ? parms.get('Name') : undefined;
      if (name !== undefined && !(name instanceof PdfName)) malformed('a /Crypt filter /Name is not a name');
      return filters.method(name?.value ?? 'Identity');
    }
    return isName(dict.get('Type'), 'EmbeddedFile') ? methods.embeddedFile : methods.stream;
  };

  return {
    authenticatedAs,
    decryptString: (data, num, gen) => apply(methods.string, data, num, gen),
    decryptStream: (raw, dict, num, gen) => {
      const type = dict.get('Type');
      if (isName(type, 'XRef')) return raw;
      if (!encryptMetadata && isName(type, 'Metadata')) return raw;
      return apply(methodOfStream(dict), raw, num, gen);
    },
  };
}

export interface DecryptValueOptions {
  /**
   * Also decrypt the /Contents of signature dictionaries. Off by default: ISO 32000-2 7.6.2
   * leaves that string unencrypted, so the signature bytes are used as stored.
   */
  decryptSignatureContents?: boolean;
}

/** How deep decryptValue follows arrays and dictionaries (the parser allows 64). */
const MAX_DEPTH = 100;

/** A signature or document timestamp dictionary, whose /Contents is stored unencrypted. */
export function isSignatureDict(dict: PdfDict): boolean {
  const type = dict.get('Type');
  return isName(type, 'Sig') || isName(type, 'DocTimeStamp') || (dict.has('ByteRange') && dict.has('Contents'));
}

/**
 * Returns `value` of object (num, gen) with every string decrypted, in nested arrays and
 * dictionaries too, and a stream's raw bytes decrypted (still filtered: decode afterwards).
 * New objects are returned; `value` is not changed. The /Contents of a signature dictionary
 * (/Type /Sig or /DocTimeStamp, or /ByteRange with /Contents) stays as stored unless
 * `decryptSignatureContents` is set.
 */
export function decryptValue(value: PdfValue, decryptor: ObjectDecryptor, num: number, gen: number, options: DecryptValueOptions = {}): PdfValue {
  const walk = (item: PdfValue, depth: number): PdfValue => {
    if (depth > MAX_DEPTH) throw new PdfError('LIMIT_EXCEEDED', 'objects nested too deeply to decrypt');
    if (item instanceof PdfString) return new PdfString(decryptor.decryptString(item.bytes, num, gen), item.hex);
    if (Array.isArray(item)) return item.map((element) => walk(element, depth + 1));
    if (item instanceof PdfDict) {
      const keepContents = !options.decryptSignatureContents && isSignatureDict(item);
      const result = new PdfDict();
      for (const [key, entry] of item.entries) result.set(key, keepContents && key === 'Contents' ? entry : walk(entry, depth + 1));
      return result;
    }
    if (item instanceof PdfStream) {
      return new PdfStream(walk(item.dict, depth + 1) as PdfDict, decryptor.decryptStream(item.raw, item.dict, num, gen));
    }
    return item;
  };
  return walk(value, 0);
}
