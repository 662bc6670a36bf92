import { pdfErrorCode } from '../helpers/tools.js';
import { execFileSync } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PDFDocument, PDFName } from 'pdf-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { aesDecryptPdf } from '../../src/pdf/crypt/aes.js';
import { rc4 } from '../../src/pdf/crypt/rc4.js';
import { decodeStream } from '../../src/pdf/filters.js';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString, type PdfValue } from '../../src/pdf/objects.js';
import { ObjectParser } from '../../src/pdf/parser.js';
import { decryptValue, openStandardSecurity, type ObjectDecryptor } from '../../src/pdf/security-handler.js';
import { makePdf } from '../helpers/pdfs.js';
import { tempDir } from '../helpers/tools.js';

const TITLE = 'Prüfbericht 检验报告 No. 7';
const XMP = '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"></x:xmpmeta><?xpacket end="w"?>';


/** A file read with our parser, object locations taken from qpdf's view of the cross-reference data. */
class ParsedFile {
  readonly bytes: Buffer;
  readonly offsets = new Map<number, number>();
  readonly compressed = new Map<number, { stream: number; index: number }>();
  readonly trailer: PdfDict;

  constructor(
    readonly file: string,
    readonly password?: string,
  ) {
    this.bytes = readFileSync(file);
    const xref = this.qpdf('--show-xref').toString();
    for (const match of xref.matchAll(/^(\d+)\/0: uncompressed; offset = (\d+)$/gm)) this.offsets.set(Number(match[1]), Number(match[2]));
    for (const match of xref.matchAll(/^(\d+)\/0: compressed; stream = (\d+), index = (\d+)$/gm)) {
      this.compressed.set(Number(match[1]), { stream: Number(match[2]), index: Number(match[3]) });
    }
    const startxref = Number(/startxref\s+(\d+)\s+%%EOF\s*$/.exec(this.bytes.toString('latin1'))![1]);
    if (this.bytes.toString('latin1', startxref, startxref + 4) === 'xref') {
      const parser = new ObjectParser(this.bytes, this.bytes.indexOf('trailer', startxref, 'latin1') + 7);
      this.trailer = parser.parseValue() as PdfDict;
    } else {
      this.trailer = (this.object(new ObjectParser(this.bytes, startxref).parseIndirectObject(() => undefined).num) as PdfStream).dict;
    }
  }

  qpdf(...args: string[]): Buffer {
    return execFileSync('qpdf', [...(this.password !== undefined ? [`--password=${this.password}`] : []), ...args, this.file], { maxBuffer: 64 << 20 });
  }

  /** The object as stored: strings and streams still encrypted. */
  object(num: number): PdfValue {
    const offset = this.offsets.get(num);
    if (offset === undefined) throw new Error(`object ${num} is not stored uncompressed`);
    const parsed = new ObjectParser(this.bytes, offset).parseIndirectObject((ref) => this.object(ref.num) as number);
    expect(parsed.num).toBe(num);
    return parsed.value;
  }

  ref(value: PdfValue | undefined): number {
    expect(value).toBeInstanceOf(PdfRef);
    return (value as PdfRef).num;
  }

  encryptDict(): PdfDict {
    return this.object(this.ref(this.trailer.get('Encrypt'))) as PdfDict;
  }

  firstId(): Buffer {
    return ((this.trailer.get('ID') as PdfValue[])[0] as PdfString).bytes;
  }

  open(password?: string): ObjectDecryptor {
    return openStandardSecurity(this.encryptDict(), this.firstId(), password);
  }

  /** The first page's content stream object numbers. */
  contentRefs(): number[] {
    const catalog = this.object(this.ref(this.trailer.get('Root'))) as PdfDict;
    const pages = this.object(this.ref(catalog.get('Pages'))) as PdfDict;
    const page = this.object(this.ref((pages.get('Kids') as PdfValue[])[0])) as PdfDict;
    const contents = page.get('Contents')!;
    return (Array.isArray(contents) ? contents : [contents]).map((ref) => this.ref(ref));
  }
}

/** The plain document: a title with non-ASCII text (a UTF-16 hex string), a page, an XMP metadata stream. */
async function plainPdf(): Promise<Buffer> {
  const pdf = await PDFDocument.load(await makePdf(1));
  pdf.setTitle(TITLE);
  const metadata = pdf.context.stream(XMP, { Type: 'Metadata', Subtype: 'XML' });
  pdf.catalog.set(PDFName.of('Metadata'), pdf.context.register(metadata));
  return Buffer.from(await pdf.save({ useObjectStreams: false }));
}

let dir: string;
let plainFile: string;
let plain: ParsedFile;

function encrypt(name: string, user: string, owner: string, args: string[], extra: string[] = []): ParsedFile {
  const out = path.join(dir, `${name}.pdf`);
  execFileSync('qpdf', ['--allow-weak-crypto', ...extra, '--encrypt', user, owner, ...args, '--', plainFile, out]);
  return new ParsedFile(out, user === '' ? undefined : user);
}

beforeAll(async () => {
  dir = tempDir('crypt');
  plainFile = path.join(dir, 'plain.pdf');
  writeFileSync(plainFile, await plainPdf());
  plain = new ParsedFile(plainFile);
});

function decodedContent(file: ParsedFile, decryptor: ObjectDecryptor): Buffer {
  return Buffer.concat(
    file.contentRefs().map((num) => {
      const stream = file.object(num) as PdfStream;
      return decodeStream(new PdfStream(stream.dict, decryptor.decryptStream(stream.raw, stream.dict, num, 0)));
    }),
  );
}

function titleOf(file: ParsedFile, decryptor: ObjectDecryptor): string {
  const infoNum = file.ref(file.trailer.get('Info'));
  const info = decryptValue(file.object(infoNum), decryptor, infoNum, 0) as PdfDict;
  return (info.get('Title') as PdfString).toText();
}

const CASES = [
  { name: 'R2 RC4 40', args: ['40'], v: 1, r: 2, cfm: undefined },
  { name: 'R3 RC4 128', args: ['128', '--use-aes=n'], v: 2, r: 3, cfm: undefined },
  { name: 'R4 RC4 crypt filter', args: ['128', '--use-aes=n', '--force-V4'], v: 4, r: 4, cfm: 'V2' },
  { name: 'R4 AES-128', args: ['128', '--use-aes=y'], v: 4, r: 4, cfm: 'AESV2' },
  { name: 'R5 AES-256', args: ['256', '--force-R5'], v: 5, r: 5, cfm: 'AESV3' },
  { name: 'R6 AES-256', args: ['256'], v: 5, r: 6, cfm: 'AESV3' },
] as const;

describe.each(CASES)('standard security handler, $name (qpdf-encrypted)', ({ name, args, v, r, cfm }) => {
  let open: ParsedFile;
  let locked: ParsedFile;
  let expectedContent: Buffer;

  beforeAll(() => {
    const slug = name.replace(/\W+/g, '-');
    open = encrypt(`${slug}-open`, '', 'owner secret', [...args]);
    locked = encrypt(`${slug}-locked`, 'user secret', 'owner secret', [...args]);
    expectedContent = Buffer.concat(plain.contentRefs().map((num) => decodeStream(plain.object(num) as PdfStream)));
  });

  it('is the handler version it claims to be', () => {
    const dict = open.encryptDict();
    expect(dict.get('V')).toBe(v);
    expect(dict.get('R')).toBe(r);
    const cf = dict.get('CF') as PdfDict | undefined;
    expect(((cf?.get('StdCF') as PdfDict | undefined)?.get('CFM') as PdfName | undefined)?.value).toBe(cfm);
  });

  it('opens with the empty user password and decrypts the content stream and the /Info title', () => {
    const decryptor = open.open();
    expect(decryptor.authenticatedAs).toBe('user');
    const [num] = open.contentRefs();
    const stored = open.object(num!) as PdfStream;
    expect(stored.raw.includes('Page 1')).toBe(false); // it really is encrypted
    const content = decodedContent(open, decryptor);
    expect(content.toString('latin1')).toContain('Tj');
    expect(content.equals(open.qpdf(`--show-object=${num}`, '--filtered-stream-data'))).toBe(true);
    expect(content.equals(expectedContent)).toBe(true);
    expect(titleOf(open, decryptor)).toBe(TITLE);
  });

  it('opens with the owner password, deriving the file key from /O (and /OE)', () => {
    const decryptor = open.open('owner secret');
    expect(decryptor.authenticatedAs).toBe('owner');
    expect(titleOf(open, decryptor)).toBe(TITLE);
    expect(decodedContent(open, decryptor).equals(expectedContent)).toBe(true);
  });

  it('needs the user password when there is one, and refuses wrong ones', () => {
    expect(pdfErrorCode(() => locked.open())).toBe('ENCRYPTED');
    expect(pdfErrorCode(() => locked.open('user secreT'))).toBe('ENCRYPTED');
    expect(pdfErrorCode(() => locked.open('owner secret '))).toBe('ENCRYPTED');
    const asUser = locked.open('user secret');
    expect(asUser.authenticatedAs).toBe('user');
    expect(titleOf(locked, asUser)).toBe(TITLE);
    const asOwner = locked.open('owner secret');
    expect(asOwner.authenticatedAs).toBe('owner');
    expect(decodedContent(locked, asOwner).equals(expectedContent)).toBe(true);
  });

  it('decrypts the XMP metadata stream, which qpdf encrypted too', () => {
    const decryptor = open.open();
    const catalog = open.object(open.ref(open.trailer.get('Root'))) as PdfDict;
    const num = open.ref(catalog.get('Metadata'));
    const stream = open.object(num) as PdfStream;
    expect(stream.raw.includes('xmpmeta')).toBe(false);
    const decrypted = new PdfStream(stream.dict, decryptor.decryptStream(stream.raw, stream.dict, num, 0));
    expect(decodeStream(decrypted).toString('utf8')).toBe(XMP); // qpdf compressed it
  });
});

describe('standard security handler, further cases', () => {
  it('uses UTF-8 passwords for AES-256 and Latin-1 for RC4', () => {
    const r6 = encrypt('r6-utf8', 'pässwörd 検証', 'öwner', ['256']);
    expect(r6.open('pässwörd 検証').authenticatedAs).toBe('user');
    expect(r6.open('öwner').authenticatedAs).toBe('owner');
    expect(pdfErrorCode(() => r6.open('passwort'))).toBe('ENCRYPTED');
    const r3 = encrypt('r3-latin1', 'pässwörd', 'öwner', ['128', '--use-aes=n']);
    expect(titleOf(r3, r3.open('pässwörd'))).toBe(TITLE);
    expect(r3.open('öwner').authenticatedAs).toBe('owner');
  });

  it('leaves metadata streams alone with EncryptMetadata false, and still opens the document', () => {
    for (const args of [['128', '--use-aes=y'], ['256']]) {
      const file = encrypt(`clear-meta-${args[0]}`, 'u', 'o', args, []);
      const clear = encrypt(`clear-meta-${args[0]}-c`, 'u', 'o', [...args, '--cleartext-metadata']);
      expect(clear.encryptDict().get('EncryptMetadata')).toBe(false);
      const decryptor = clear.open('u');
      const catalog = clear.object(clear.ref(clear.trailer.get('Root'))) as PdfDict;
      const num = clear.ref(catalog.get('Metadata'));
      const stream = clear.object(num) as PdfStream;
      expect(stream.raw.toString('utf8')).toBe(XMP);
      expect(decryptor.decryptStream(stream.raw, stream.dict, num, 0).toString('utf8')).toBe(XMP);
      expect(titleOf(clear, decryptor)).toBe(TITLE);
      // R4's file key depends on the flag; R6's does not
      expect(titleOf(file, file.open('o'))).toBe(TITLE);
    }
  });

  it('with object streams: decrypts the object stream as a whole, whose strings are then plain, and not the xref stream', () => {
    const file = encrypt('objstm', '', 'o', ['128', '--use-aes=y'], ['--object-streams=generate']);
    const decryptor = file.open();
    const infoNum = file.ref(file.trailer.get('Info'));
    const location = file.compressed.get(infoNum);
    expect(location).toBeDefined();
    const objStm = file.object(location!.stream) as PdfStream;
    const data = decodeStream(new PdfStream(objStm.dict, decryptor.decryptStream(objStm.raw, objStm.dict, location!.stream, 0)));
    const header = new ObjectParser(data);
    const pairs: number[][] = [];
    for (let i = 0; i < (objStm.dict.get('N') as number); i++) pairs.push([header.readNumber(), header.readNumber()]);
    const [, relative] = pairs.find(([num]) => num === infoNum)!;
    const info = new ObjectParser(data, (objStm.dict.get('First') as number) + relative!).parseValue() as PdfDict;
    expect((info.get('Title') as PdfString).toText()).toBe(TITLE);

    // the trailer is the xref stream's dictionary, stored unencrypted
    expect(file.trailer.get('Type')).toEqual(PdfName.of('XRef'));
    const startxref = Number(/startxref\s+(\d+)/.exec(file.bytes.toString('latin1', file.bytes.length - 64))![1]);
    const xref = new ObjectParser(file.bytes, startxref).parseIndirectObject(() => undefined);
    const xrefStream = xref.value as PdfStream;
    expect(decryptor.decryptStream(xrefStream.raw, xrefStream.dict, xref.num, 0)).toBe(xrefStream.raw);
    const rows = decodeStream(xrefStream);
    const widths = (xrefStream.dict.get('W') as number[]).reduce((a, b) => a + b, 0);
    expect(rows.length).toBe((xrefStream.dict.get('Size') as number) * widths);
  });

  it('honours a stream-level /Crypt filter: /Identity leaves the bytes, a named filter decrypts', () => {
    const file = encrypt('crypt-filter', '', 'o', ['128', '--use-aes=y']);
    const decryptor = file.open();
    const [num] = file.contentRefs();
    const stored = file.object(num!) as PdfStream;
    const viaDefault = decryptor.decryptStream(stored.raw, stored.dict, num!, 0);
    const named = (filterName?: string): PdfDict =>
      new PdfDict([
        ['Filter', [PdfName.of('Crypt'), PdfName.of('FlateDecode')]],
        ['DecodeParms', [filterName ? new PdfDict([['Name', PdfName.of(filterName)]]) : new PdfDict(), null]],
      ]);
    expect(decryptor.decryptStream(stored.raw, named('StdCF'), num!, 0).equals(viaDefault)).toBe(true);
    expect(decryptor.decryptStream(stored.raw, named('Identity'), num!, 0)).toBe(stored.raw);
    expect(decryptor.decryptStream(stored.raw, named(), num!, 0)).toBe(stored.raw);
    expect(pdfErrorCode(() => decryptor.decryptStream(stored.raw, named('Nowhere'), num!, 0))).toBe('MALFORMED');
    // the Crypt filter then passes through decodeStream
    expect(decodeStream(new PdfStream(named('StdCF'), viaDefault)).toString('latin1')).toContain('Tj');
  });

  it('decrypts values deeply without touching the input, keeping signature /Contents as stored', () => {
    const file = encrypt('values', '', 'o', ['128', '--use-aes=n']);
    const decryptor = file.open();
    // RC4 is its own inverse, so "decrypting" plain text gives what a writer would store
    const seal = (text: string, num: number): PdfString => new PdfString(decryptor.decryptString(Buffer.from(text, 'latin1'), num, 0));
    const contents = new PdfString(randomBytes(64), true);
    const sig = new PdfDict([
      ['Type', PdfName.of('Sig')],
      ['Name', seal('E-Seal Dept.', 12)],
      ['M', seal('D:20240101000000Z', 12)],
      ['Contents', contents],
      ['Reference', [new PdfDict([['Data', seal('nested', 12)]])]],
    ]);
    const decrypted = decryptValue(sig, decryptor, 12, 0) as PdfDict;
    expect((decrypted.get('Name') as PdfString).toText()).toBe('E-Seal Dept.');
    expect((decrypted.get('M') as PdfString).toText()).toBe('D:20240101000000Z');
    expect(decrypted.get('Contents')).toBe(contents);
    expect(((decrypted.get('Reference') as PdfDict[])[0]!.get('Data') as PdfString).toText()).toBe('nested');
    expect((sig.get('Name') as PdfString).toText()).not.toBe('E-Seal Dept.'); // input unchanged
    const untyped = new PdfDict([['ByteRange', [0, 1, 2, 3]], ['Contents', contents]]);
    expect((decryptValue(untyped, decryptor, 12, 0) as PdfDict).get('Contents')).toBe(contents);
    const forced = decryptValue(sig, decryptor, 12, 0, { decryptSignatureContents: true }) as PdfDict;
    expect((forced.get('Contents') as PdfString).bytes.equals(decryptor.decryptString(contents.bytes, 12, 0))).toBe(true);
    // any other dictionary's /Contents is decrypted
    const annot = decryptValue(new PdfDict([['Contents', seal('a note', 13)]]), decryptor, 13, 0) as PdfDict;
    expect((annot.get('Contents') as PdfString).toText()).toBe('a note');
    // streams: raw bytes decrypted, dictionary strings too
    const stream = new PdfStream(new PdfDict([['Note', seal('x', 14)]]), decryptor.decryptString(Buffer.from('BT ET'), 14, 0));
    const plainStream = decryptValue(stream, decryptor, 14, 0) as PdfStream;
    expect(plainStream.raw.toString()).toBe('BT ET');
    expect((plainStream.dict.get('Note') as PdfString).toText()).toBe('x');
  });
});

describe('AES-256 revision 6 hash (algorithm 2.B), fixed qpdf vectors', () => {
  interface Vector {
    O: string;
    U: string;
    OE: string;
    UE: string;
    Perms: string;
    P: number;
    ID: string;
    infoNum: number;
    producer: string;
  }
  const { vectors } = JSON.parse(readFileSync(new URL('./fixtures/r6-qpdf-vectors.json', import.meta.url), 'utf8')) as { vectors: Vector[] };

  it.each(vectors.map((vector, i) => ({ i, vector })))('vector $i opens with both passwords to the same file key', ({ vector }) => {
    const hex = (value: string): PdfString => new PdfString(Buffer.from(value, 'hex'), true);
    const dict = new PdfDict([
      ['Filter', PdfName.of('Standard')],
      ['V', 5],
      ['R', 6],
      ['Length', 256],
      ['P', vector.P],
      ['O', hex(vector.O)],
      ['U', hex(vector.U)],
      ['OE', hex(vector.OE)],
      ['UE', hex(vector.UE)],
      ['Perms', hex(vector.Perms)],
      ['CF', new PdfDict([['StdCF', new PdfDict([['CFM', PdfName.of('AESV3')], ['AuthEvent', PdfName.of('DocOpen')], ['Length', 32]])]])],
      ['StmF', PdfName.of('StdCF')],
      ['StrF', PdfName.of('StdCF')],
    ]);
    const producer = Buffer.from(vector.producer, 'hex');
    for (const password of ['user secret', 'owner secret']) {
      const decryptor = openStandardSecurity(dict, Buffer.from(vector.ID, 'hex'), password);
      expect(new PdfString(decryptor.decryptString(producer, vector.infoNum, 0)).toText()).toBe('pdf-lib (https://github.com/Hopding/pdf-lib)');
    }
    expect(pdfErrorCode(() => openStandardSecurity(dict, Buffer.from(vector.ID, 'hex')))).toBe('ENCRYPTED');
  });
});

describe('hostile encryption dictionaries and ciphertexts', () => {
  let legacy: ParsedFile;
  let aes: ParsedFile;
  let modern: ParsedFile;
  beforeAll(() => {
    legacy = encrypt('hostile-rc4', '', 'o', ['128', '--use-aes=n']);
    aes = encrypt('hostile-aes', '', 'o', ['128', '--use-aes=y']);
    modern = encrypt('hostile-r6', '', 'o', ['256']);
  });

  function altered(file: ParsedFile, changes: Record<string, PdfValue | undefined>): PdfDict {
    const dict = file.encryptDict().clone();
    for (const [key, value] of Object.entries(changes)) {
      if (value === undefined) dict.delete(key);
      else dict.set(key, value);
    }
    return dict;
  }

  function truncated(file: ParsedFile, key: string, length: number): PdfString {
    return new PdfString((file.encryptDict().get(key) as PdfString).bytes.subarray(0, length));
  }

  it('reports truncated /O, /U, /OE, /UE as MALFORMED', () => {
    for (const [file, key, length] of [
      [legacy, 'O', 31],
      [legacy, 'U', 10],
      [modern, 'O', 40],
      [modern, 'U', 47],
      [modern, 'UE', 31],
      [modern, 'OE', 0],
    ] as const) {
      expect(pdfErrorCode(() => openStandardSecurity(altered(file, { [key]: truncated(file, key, length) }), file.firstId())), `${key}`).toBe('MALFORMED');
    }
    expect(pdfErrorCode(() => openStandardSecurity(altered(legacy, { U: undefined }), legacy.firstId()))).toBe('MALFORMED');
    expect(pdfErrorCode(() => openStandardSecurity(altered(legacy, { P: undefined }), legacy.firstId()))).toBe('MALFORMED');
  });

  it('rejects bad key lengths, unknown versions and other handlers', () => {
    expect(pdfErrorCode(() => openStandardSecurity(altered(legacy, { Length: 41 }), legacy.firstId()))).toBe('MALFORMED');
    expect(pdfErrorCode(() => openStandardSecurity(altered(legacy, { Length: 256 }), legacy.firstId()))).toBe('MALFORMED');
    expect(pdfErrorCode(() => openStandardSecurity(altered(legacy, { Length: new PdfString(Buffer.from('128')) }), legacy.firstId()))).toBe('MALFORMED');
    // a 40-bit key makes a valid-looking AESV2 key impossible
    expect(pdfErrorCode(() => openStandardSecurity(altered(aes, { Length: 40 }), aes.firstId()))).toBe('MALFORMED');
    expect(pdfErrorCode(() => openStandardSecurity(altered(legacy, { V: 99 }), legacy.firstId()))).toBe('UNSUPPORTED');
    expect(pdfErrorCode(() => openStandardSecurity(altered(legacy, { V: 3 }), legacy.firstId()))).toBe('UNSUPPORTED');
    expect(pdfErrorCode(() => openStandardSecurity(altered(modern, { R: 7 }), modern.firstId()))).toBe('UNSUPPORTED');
    expect(pdfErrorCode(() => openStandardSecurity(altered(legacy, { R: undefined }), legacy.firstId()))).toBe('MALFORMED');
    expect(pdfErrorCode(() => openStandardSecurity(altered(legacy, { Filter: PdfName.of('Adobe.PubSec') }), legacy.firstId()))).toBe('UNSUPPORTED');
    expect(pdfErrorCode(() => openStandardSecurity(altered(legacy, { Filter: undefined }), legacy.firstId()))).toBe('UNSUPPORTED');
    const badCfm = new PdfDict([['StdCF', new PdfDict([['CFM', PdfName.of('AESV9')]])]]);
    expect(pdfErrorCode(() => openStandardSecurity(altered(aes, { CF: badCfm }), aes.firstId()))).toBe('UNSUPPORTED');
    expect(pdfErrorCode(() => openStandardSecurity(altered(aes, { StmF: PdfName.of('Missing') }), aes.firstId()))).toBe('MALFORMED');
    // AES-256 is not a V4 method
    const v4WithAes256 = new PdfDict([['StdCF', new PdfDict([['CFM', PdfName.of('AESV3')]])]]);
    expect(pdfErrorCode(() => openStandardSecurity(altered(aes, { CF: v4WithAes256 }), aes.firstId()))).toBe('UNSUPPORTED');
    // a different /ID changes the R2-R4 key: the password no longer fits
    expect(pdfErrorCode(() => openStandardSecurity(legacy.encryptDict(), Buffer.alloc(16)))).toBe('ENCRYPTED');
  });

  it('uses /EFF for embedded file streams only, and /StrF and /StmF independently', () => {
    const decryptor = openStandardSecurity(altered(aes, { EFF: PdfName.of('Identity'), StrF: PdfName.of('Identity') }), aes.firstId());
    const [num] = aes.contentRefs();
    const stored = aes.object(num!) as PdfStream;
    const embedded = new PdfDict([['Type', PdfName.of('EmbeddedFile')]]);
    expect(decryptor.decryptStream(stored.raw, embedded, num!, 0)).toBe(stored.raw);
    expect(decodeStream(new PdfStream(stored.dict, decryptor.decryptStream(stored.raw, stored.dict, num!, 0))).toString('latin1')).toContain('Tj');
    expect(decryptor.decryptString(Buffer.from('as stored'), num!, 0).toString()).toBe('as stored');
    // without /EFF, embedded files follow /StmF
    expect(aes.open().decryptStream(stored.raw, embedded, num!, 0).equals(aes.open().decryptStream(stored.raw, stored.dict, num!, 0))).toBe(true);
  });

  it('rejects AES data that is not an IV and whole blocks, or has bad padding', () => {
    for (const file of [aes, modern]) {
      const decryptor = file.open();
      const infoNum = file.ref(file.trailer.get('Info'));
      const title = ((file.object(infoNum) as PdfDict).get('Title') as PdfString).bytes;
      expect(pdfErrorCode(() => decryptor.decryptString(title.subarray(0, title.length - 1), infoNum, 0))).toBe('MALFORMED');
      expect(pdfErrorCode(() => decryptor.decryptString(title.subarray(0, 20), infoNum, 0))).toBe('MALFORMED');
      expect(pdfErrorCode(() => decryptor.decryptString(title, infoNum + 1, 0))).toMatch(/MALFORMED|none/); // wrong key: garbage or bad padding
      expect(decryptor.decryptString(Buffer.alloc(0), infoNum, 0).length).toBe(0);
    }
    const key = randomBytes(16);
    const iv = randomBytes(16);
    const encryptRaw = (plaintext: Buffer): Buffer => {
      const cipher = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
      return Buffer.concat([iv, cipher.update(plaintext), cipher.final()]);
    };
    expect(aesDecryptPdf(key, encryptRaw(Buffer.from('fifteen bytes..\x01'))).toString()).toBe('fifteen bytes..');
    expect(aesDecryptPdf(key, encryptRaw(Buffer.alloc(16, 16))).length).toBe(0);
    for (const lastBlock of [Buffer.alloc(16, 0), Buffer.alloc(16, 17), Buffer.concat([Buffer.alloc(14, 3), Buffer.from([2, 3])])]) {
      expect(pdfErrorCode(() => aesDecryptPdf(key, encryptRaw(lastBlock)))).toBe('MALFORMED');
    }
    // a large stream decrypts whole
    const large = encryptRaw(Buffer.concat([Buffer.alloc(32 << 20, 0x41), Buffer.alloc(16, 16)]));
    expect(aesDecryptPdf(key, large).equals(Buffer.alloc(32 << 20, 0x41))).toBe(true);
  });
});

describe('RC4', () => {
  it('matches the published test vectors', () => {
    expect(rc4(Buffer.from('Key'), Buffer.from('Plaintext')).toString('hex')).toBe('bbf316e8d940af0ad3');
    expect(rc4(Buffer.from('Wiki'), Buffer.from('pedia')).toString('hex')).toBe('1021bf0420');
    expect(rc4(Buffer.from('Secret'), Buffer.from('Attack at dawn')).toString('hex')).toBe('45a01f645fc35b383552544b9bf5');
  });

  it('matches OpenSSL (legacy provider) for 40- and 128-bit keys', () => {
    const data = randomBytes(5000);
    for (const [cipher, key] of [['rc4-40', randomBytes(5)], ['rc4', randomBytes(16)]] as const) {
      const args = ['enc', `-${cipher}`, '-K', key.toString('hex'), '-nosalt', '-provider', 'legacy', '-provider', 'default'];
      const expected = execFileSync('openssl', args, { input: data });
      expect(rc4(key, data).equals(expected)).toBe(true);
    }
  });
});
