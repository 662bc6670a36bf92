import { pdfErrorCode } from '../helpers/tools.js';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { PDFContext, PDFRawStream, decodePDFRawStream } from 'pdf-lib';
import { describe, expect, it } from 'vitest';
import { PdfError } from '../../src/pdf/errors.js';
import { decodeStream } from '../../src/pdf/filters.js';
import { PdfDict, PdfName, PdfStream, type PdfValue } from '../../src/pdf/objects.js';
import { lzwEncode, runLengthEncode } from '../helpers/test-encoders.js';
import { writeTemp } from '../helpers/tools.js';

function stream(filter: string | string[], raw: Buffer, params?: PdfValue): PdfStream {
  const dict = new PdfDict([['Filter', Array.isArray(filter) ? filter.map((f) => PdfName.of(f)) : PdfName.of(filter)]]);
  if (params !== undefined) dict.set('DecodeParms', params);
  return new PdfStream(dict, raw);
}

function params(entries: Record<string, number>): PdfDict {
  return new PdfDict(Object.entries(entries));
}


/** Decodes with pdf-lib's decoders, an implementation independent of ours. */
function pdfLibDecode(filter: string, raw: Buffer, decodeParms?: Record<string, number>): Buffer {
  const context = PDFContext.create();
  const dict = context.obj(decodeParms ? { Filter: filter, DecodeParms: decodeParms } : { Filter: filter });
  return Buffer.from(decodePDFRawStream(PDFRawStream.of(dict, raw)).decode());
}

/** ASCII85 by Python's base64.a85encode, one process for all `inputs`. */
function a85Python(...inputs: Buffer[]): Buffer[] {
  // Adobe framing <~ ... ~>, lines wrapped at 40 columns; the PDF filter has no leading <~
  const script = [
    'import base64, sys',
    'for line in sys.stdin.read().split():',
    '    print(base64.a85encode(bytes.fromhex(line[1:]), adobe=True, wrapcol=40).hex())',
  ].join('\n');
  const input = inputs.map((b) => `x${b.toString('hex')}`).join('\n');
  const lines = execFileSync('python3', ['-c', script], { input, maxBuffer: 64 * 1024 * 1024 }).toString().trim().split('\n');
  return lines.map((line) => {
    const encoded = Buffer.from(line, 'hex');
    expect(encoded.subarray(0, 2).toString()).toBe('<~');
    return encoded.subarray(2);
  });
}

/** Text with repeats, so LZW tables fill up and code widths reach 12 bits. */
function sampleText(bytes: number): Buffer {
  const words = ['seal ', 'signature ', 'PAdES ', 'BT /F1 12 Tf ', '(Page) Tj ', 'ET\n', '0 0 1 rg ', 'q Q '];
  let text = '';
  for (let i = 0; text.length < bytes; i++) text += words[(i * 7 + (i >> 3)) % words.length]! + (i % 13 === 0 ? String(i) : '');
  return Buffer.from(text.slice(0, bytes), 'latin1');
}

describe('LZWDecode', () => {
  it('decodes the example of ISO 32000-1 7.4.4.2', () => {
    const encoded = Buffer.from('800b6050220c0c8501', 'hex');
    expect(decodeStream(stream('LZWDecode', encoded)).toString('latin1')).toBe('-----A---B');
    expect(pdfLibDecode('LZWDecode', encoded).toString('latin1')).toBe('-----A---B');
  });

  it('round-trips with both EarlyChange values through 9- to 12-bit codes and table clears', () => {
    const data = Buffer.concat([sampleText(150_000), randomBytes(20_000), Buffer.alloc(30_000, 0x41)]);
    for (const early of [1, 0] as const) {
      const encoded = lzwEncode(data, early);
      // the test encoder agrees with pdf-lib's decoder, so it is not merely agreeing with ours
      expect(pdfLibDecode('LZWDecode', encoded, { EarlyChange: early }).equals(data)).toBe(true);
      const decoded = decodeStream(stream('LZWDecode', encoded, params({ EarlyChange: early })));
      expect(decoded.equals(data)).toBe(true);
    }
    // EarlyChange 1 is the default
    expect(decodeStream(stream('LZWDecode', lzwEncode(data, 1))).equals(data)).toBe(true);
    // and the wrong EarlyChange does not silently give the same bytes
    const mismatched = (): Buffer => decodeStream(stream('LZWDecode', lzwEncode(data, 0)));
    expect(pdfErrorCode(mismatched) === 'MALFORMED' || !mismatched().equals(data)).toBe(true);
  });

  it('keeps decoding with a full table when the encoder never clears it', () => {
    const data = Buffer.concat([randomBytes(12_000), sampleText(20_000)]);
    const encoded = lzwEncode(data, 1, 5000); // never reaches 5000: the table stays full at 4096
    expect(pdfLibDecode('LZWDecode', encoded).equals(data)).toBe(true);
    expect(decodeStream(stream('LZWDecode', encoded)).equals(data)).toBe(true);
  });

  it('applies PNG predictors from DecodeParms, as for Flate', () => {
    const columns = 6;
    const rows = [Buffer.from([10, 20, 30, 40, 50, 60]), Buffer.from([11, 22, 33, 44, 55, 66]), Buffer.from([0, 255, 1, 254, 2, 253])];
    // row filter Up (2): each byte minus the byte above; Sub (1) for the last row
    const predicted = Buffer.concat([
      Buffer.from([2, ...rows[0]!]),
      Buffer.from([2, ...rows[1]!.map((b, i) => (b - rows[0]![i]!) & 0xff)]),
      Buffer.from([1, ...rows[2]!.map((b, i) => (b - (i > 0 ? rows[2]![i - 1]! : 0)) & 0xff)]),
    ]);
    const decoded = decodeStream(stream('LZWDecode', lzwEncode(predicted), params({ Predictor: 12, Columns: columns })));
    expect(decoded.equals(Buffer.concat(rows))).toBe(true);
  });

  it('accepts data that ends without an end-of-data code, giving a prefix', () => {
    const data = sampleText(5000);
    const encoded = lzwEncode(data);
    const decoded = decodeStream(stream('LZWDecode', encoded.subarray(0, encoded.length >> 1)));
    expect(decoded.length).toBeGreaterThan(1000);
    expect(data.subarray(0, decoded.length).equals(decoded)).toBe(true);
  });

  it('rejects codes not yet in the table and a bad EarlyChange', () => {
    // 9-bit codes: clear (256), then 300 — nothing to refer to yet
    const bits = (codes: number[]): Buffer => {
      const text = codes.map((c) => c.toString(2).padStart(9, '0')).join('');
      const padded = text.padEnd(Math.ceil(text.length / 8) * 8, '0');
      return Buffer.from(padded.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
    };
    expect(pdfErrorCode(() => decodeStream(stream('LZWDecode', bits([256, 300, 257]))))).toBe('MALFORMED');
    // 65 then 260: only 258 exists after the second code's predecessor
    expect(pdfErrorCode(() => decodeStream(stream('LZWDecode', bits([256, 65, 66, 260, 257]))))).toBe('MALFORMED');
    expect(decodeStream(stream('LZWDecode', bits([256, 65, 66, 258, 257]))).toString()).toBe('ABAB');
    expect(decodeStream(stream('LZWDecode', bits([256, 65, 258, 257]))).toString()).toBe('AAA');
    expect(pdfErrorCode(() => decodeStream(stream('LZWDecode', bits([65, 257]), params({ EarlyChange: 2 }))))).toBe('MALFORMED');
  });

  it('stops a bomb at the limit, quickly', () => {
    const encoded = lzwEncode(Buffer.alloc(8 * 1024 * 1024));
    expect(encoded.length).toBeLessThan(100_000);
    expect(pdfErrorCode(() => decodeStream(stream('LZWDecode', encoded), 1024 * 1024))).toBe('LIMIT_EXCEEDED');
    expect(decodeStream(stream('LZWDecode', encoded), 8 * 1024 * 1024).length).toBe(8 * 1024 * 1024);
  });

  it('never throws anything but a PdfError on random input', () => {
    for (let i = 0; i < 300; i++) {
      const raw = randomBytes(1 + (i % 97) * 13);
      try {
        decodeStream(stream('LZWDecode', raw), 64 * 1024);
      } catch (err) {
        expect(err).toBeInstanceOf(PdfError);
      }
    }
  });
});

describe('ASCII85Decode', () => {
  it('round-trips with Python base64.a85encode, zero groups, partial groups and line breaks', () => {
    const samples = [
      Buffer.alloc(0),
      Buffer.from('h'),
      Buffer.from('hello'),
      Buffer.concat([Buffer.alloc(8), Buffer.from([1, 2, 3]), Buffer.alloc(4), Buffer.from([0xff, 0xff, 0xff, 0xff])]),
      randomBytes(1001),
      randomBytes(1002),
      randomBytes(1003),
      randomBytes(1004),
    ];
    const encodings = a85Python(...samples);
    for (const [i, data] of samples.entries()) {
      const encoded = encodings[i]!;
      expect(encoded.includes('\n')).toBe(data.length > 32);
      expect(decodeStream(stream('ASCII85Decode', encoded)).equals(data)).toBe(true);
      expect(decodeStream(stream('A85', encoded)).equals(data)).toBe(true);
    }
    expect(encodings[3]!.toString()).toMatch(/^zz/);
  });

  it('ignores whitespace anywhere, also inside the end marker, and accepts a missing end marker', () => {
    const data = Buffer.from('Man is distinguished');
    const encoded = a85Python(data)[0]!.toString('latin1').replace('~>', '');
    const spaced = `${encoded.split('').join(' \n')}\r\n~ \t>`;
    expect(decodeStream(stream('ASCII85Decode', Buffer.from(spaced, 'latin1'))).equals(data)).toBe(true);
    expect(decodeStream(stream('ASCII85Decode', Buffer.from(encoded, 'latin1'))).equals(data)).toBe(true);
  });

  it('rejects bad characters, z inside a group, a lone last character, overflowing groups and a bare ~', () => {
    for (const text of ['87cUR{~>', '87czR~>', '87cUR8~>', 's8W-"~>', '87cUR~x', 'v~>']) {
      expect(pdfErrorCode(() => decodeStream(stream('ASCII85Decode', Buffer.from(text)))), text).toBe('MALFORMED');
    }
    expect(decodeStream(stream('ASCII85Decode', Buffer.from('s8W-!~>'))).toString('hex')).toBe('ffffffff');
  });

  it('bounds the output of z runs', () => {
    const bomb = Buffer.alloc(1_000_000, 'z');
    expect(pdfErrorCode(() => decodeStream(stream('ASCII85Decode', bomb), 1024 * 1024))).toBe('LIMIT_EXCEEDED');
    expect(decodeStream(stream('ASCII85Decode', bomb), 4_000_000).length).toBe(4_000_000);
  });
});

describe('RunLengthDecode', () => {
  it('round-trips, the test encoder checked by pdf-lib', () => {
    const data = Buffer.concat([Buffer.from('abc'), Buffer.alloc(300, 7), randomBytes(700), Buffer.from('xxyzz'), Buffer.alloc(2, 1)]);
    const encoded = runLengthEncode(data);
    expect(pdfLibDecode('RunLengthDecode', encoded).equals(data)).toBe(true);
    expect(decodeStream(stream('RunLengthDecode', encoded)).equals(data)).toBe(true);
    // the end marker ends the data; what follows is ignored, and it may be missing
    expect(decodeStream(stream('RL', Buffer.concat([encoded, Buffer.from([0, 0x41])]))).equals(data)).toBe(true);
    expect(decodeStream(stream('RL', encoded.subarray(0, -1))).equals(data)).toBe(true);
  });

  it('rejects truncated runs and bounds repeats', () => {
    expect(pdfErrorCode(() => decodeStream(stream('RunLengthDecode', Buffer.from([5, 1, 2]))))).toBe('MALFORMED');
    expect(pdfErrorCode(() => decodeStream(stream('RunLengthDecode', Buffer.from([0x81]))))).toBe('MALFORMED');
    const bomb = Buffer.alloc(100_000);
    for (let i = 0; i < bomb.length; i += 2) bomb[i] = 0x81; // 128 zeros per two bytes
    expect(pdfErrorCode(() => decodeStream(stream('RunLengthDecode', bomb), 1024 * 1024))).toBe('LIMIT_EXCEEDED');
  });
});

describe('filter arrays', () => {
  it('applies filters in order with their own DecodeParms entries', () => {
    const data = sampleText(20_000);
    const lzw = lzwEncode(data, 0);
    const chained = stream(['ASCII85Decode', 'LZWDecode'], a85Python(lzw)[0]!, [null, params({ EarlyChange: 0 })]);
    expect(decodeStream(chained).equals(data)).toBe(true);
    const hexFlate = stream(['AHx', 'Fl'], Buffer.from(`${deflateSync(data).toString('hex')}>`));
    expect(decodeStream(hexFlate).equals(data)).toBe(true);
  });

  it('decodes the same bytes as qpdf for an LZW (EarlyChange 0) + ASCII85 stream in a PDF', () => {
    const data = sampleText(30_000);
    const raw = a85Python(lzwEncode(data, 0))[0]!;
    const objects = [
      '<< /Type /Catalog /Pages 2 0 R >>',
      '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
      '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Contents 4 0 R >>',
    ];
    let body = '%PDF-1.7\n';
    const offsets: number[] = [];
    for (const [i, obj] of objects.entries()) {
      offsets.push(body.length);
      body += `${i + 1} 0 obj\n${obj}\nendobj\n`;
    }
    offsets.push(body.length);
    body += `4 0 obj\n<< /Length ${raw.length} /Filter [/ASCII85Decode /LZWDecode] /DecodeParms [null << /EarlyChange 0 >>] >>\nstream\n${raw.toString('latin1')}\nendstream\nendobj\n`;
    const xref = body.length;
    body += `xref\n0 5\n0000000000 65535 f\r\n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n\r\n`).join('')}`;
    body += `trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
    const file = writeTemp('lzw.pdf', Buffer.from(body, 'latin1'));
    const qpdfDecoded = execFileSync('qpdf', ['--show-object=4', '--filtered-stream-data', file]);
    expect(qpdfDecoded.equals(data)).toBe(true);
    const ours = decodeStream(stream(['ASCII85Decode', 'LZWDecode'], raw, [null, params({ EarlyChange: 0 })]));
    expect(ours.equals(qpdfDecoded)).toBe(true);
  });

  it('passes a leading Crypt filter through and refuses it elsewhere, long chains and unknown filters', () => {
    const data = Buffer.from('plain');
    expect(decodeStream(stream(['Crypt', 'AHx'], Buffer.from('706c61696e>'), [params({}), null])).equals(data)).toBe(true);
    expect(pdfErrorCode(() => decodeStream(stream(['AHx', 'Crypt'], Buffer.from('706c61696e>'))))).toBe('MALFORMED');
    expect(pdfErrorCode(() => decodeStream(stream(Array(17).fill('AHx') as string[], Buffer.from('30>'))))).toBe('LIMIT_EXCEEDED');
    expect(pdfErrorCode(() => decodeStream(stream('JBIG2Decode', data)))).toBe('UNSUPPORTED');
    expect(pdfErrorCode(() => decodeStream(stream('AHx', Buffer.from('3030303030>')), 4))).toBe('LIMIT_EXCEEDED');
  });
});
