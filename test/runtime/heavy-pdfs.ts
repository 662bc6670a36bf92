import { deflateSync } from 'node:zlib';
/**
 * Files that are expensive to verify while staying small and within every size limit, for the
 * tests of the PDF worker threads.
 */

const BYTE_RANGE_PLACEHOLDER = '[0 0000000000 0000000000 0000000000]';

/**
 * One page and `count` signature fields, each with its own signature dictionary holding a copy
 * of `cms` and a ByteRange over the whole file: a verifier hashes the whole file once per
 * signature, so the work grows with count x size while the file grows with count alone.
 */
export function manySignatures(cms: Buffer, count: number): Buffer {
  const parts: string[] = ['%PDF-1.7\n%\xe2\xe3\xcf\xd3\n'];
  const offsets: number[] = [];
  let length = parts[0]!.length;
  const add = (num: number, body: string): void => {
    offsets[num] = length;
    const text = `${num} 0 obj\n${body}\nendobj\n`;
    parts.push(text);
    length += text.length;
  };
  const fieldNum = (i: number): number => 4 + 2 * i;
  const fields = Array.from({ length: count }, (_, i) => `${fieldNum(i)} 0 R`).join(' ');
  add(1, `<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [${fields}] /SigFlags 3 >> >>`);
  add(2, '<< /Type /Pages /Kids [3 0 R] /Count 1 >>');
  add(3, `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Annots [${fields}] >>`);
  const contents = `<${cms.toString('hex')}>`;
  for (let i = 0; i < count; i++) {
    add(fieldNum(i), `<< /FT /Sig /Type /Annot /Subtype /Widget /T (sig${i}) /Rect [0 0 0 0] /P 3 0 R /F 132 /V ${fieldNum(i) + 1} 0 R >>`);
    add(fieldNum(i) + 1, `<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached /ByteRange ${BYTE_RANGE_PLACEHOLDER} /Contents ${contents} >>`);
  }
  const size = fieldNum(count);
  const xref = [`xref\n0 ${size}\n0000000000 65535 f \n`, ...Array.from({ length: size - 1 }, (_, i) => `${String(offsets[i + 1]).padStart(10, '0')} 00000 n \n`)].join('');
  parts.push(`${xref}trailer\n<< /Size ${size} /Root 1 0 R >>\nstartxref\n${length}\n%%EOF\n`);
  const file = Buffer.from(parts.join(''), 'latin1');
  // Each ByteRange now: the whole file but its own /Contents.
  let from = 0;
  for (;;) {
    const at = file.indexOf(BYTE_RANGE_PLACEHOLDER, from, 'latin1');
    if (at < 0) break;
    const gapStart = file.indexOf('/Contents <', at, 'latin1') + '/Contents '.length;
    const gapEnd = file.indexOf('>', gapStart, 'latin1') + 1;
    const pad = (n: number): string => String(n).padStart(10, '0');
    file.write(`[0 ${pad(gapStart)} ${pad(gapEnd)} ${pad(file.length - gapEnd)}]`, at, 'latin1');
    from = gapEnd;
  }
  return file;
}

/** A one-page file whose form field list is a single array of `count` empty dictionaries. */
export function hugeFieldArray(count: number): Buffer {
  const header = '%PDF-1.7\n';
  const bodies = [
    '<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields 4 0 R >> >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>',
    `[${'<<>> '.repeat(count)}]`,
  ];
  let text = header;
  const offsets: number[] = [];
  bodies.forEach((body, i) => {
    offsets.push(text.length);
    text += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xrefAt = text.length;
  text += `xref\n0 5\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  text += `trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n${xrefAt}\n%%EOF\n`;
  return Buffer.from(text, 'latin1');
}

/**
 * `pages` pages, each page object alone in an object stream that decompresses to about
 * `paddingBytes` (whitespace before the object): the page tree walk that sealing's default
 * placement makes decodes every one of them. An xref stream indexes it all.
 */
export function objectStreamBomb(pages: number, paddingBytes: number): Buffer {
  const chunks: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let length = chunks[0]!.length;
  const offsets = new Map<number, number>();
  const write = (num: number, dict: string, data?: Buffer): void => {
    offsets.set(num, length);
    const parts = data ? [Buffer.from(`${num} 0 obj\n${dict}\nstream\n`, 'latin1'), data, Buffer.from('\nendstream\nendobj\n', 'latin1')] : [Buffer.from(`${num} 0 obj\n${dict}\nendobj\n`, 'latin1')];
    for (const part of parts) {
      chunks.push(part);
      length += part.length;
    }
  };
  const pageNum = (i: number): number => 3 + i;
  const streamNum = (i: number): number => 3 + pages + i;
  write(1, '<< /Type /Catalog /Pages 2 0 R >>');
  write(2, `<< /Type /Pages /Kids [${Array.from({ length: pages }, (_, i) => `${pageNum(i)} 0 R`).join(' ')}] /Count ${pages} >>`);
  const padding = Buffer.alloc(paddingBytes, 0x20);
  for (let i = 0; i < pages; i++) {
    const header = Buffer.from(`${pageNum(i)} ${paddingBytes} `, 'latin1');
    const page = Buffer.from('<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>', 'latin1');
    const data = deflateSync(Buffer.concat([header, padding, page]), { level: 9 });
    write(streamNum(i), `<< /Type /ObjStm /N 1 /First ${header.length} /Filter /FlateDecode /Length ${data.length} >>`, data);
  }
  const xrefNum = 3 + 2 * pages;
  const size = xrefNum + 1;
  const entries = Buffer.alloc(size * 7);
  const entry = (num: number, type: number, field2: number, field3: number): void => {
    entries.writeUInt8(type, num * 7);
    entries.writeUInt32BE(field2, num * 7 + 1);
    entries.writeUInt16BE(field3, num * 7 + 5);
  };
  entry(0, 0, 0, 0xffff);
  for (const [num, offset] of offsets) entry(num, 1, offset, 0);
  for (let i = 0; i < pages; i++) entry(pageNum(i), 2, streamNum(i), 0);
  const xrefAt = length;
  entry(xrefNum, 1, xrefAt, 0);
  write(xrefNum, `<< /Type /XRef /Size ${size} /W [1 4 2] /Root 1 0 R /Length ${entries.length} >>`, entries);
  chunks.push(Buffer.from(`startxref\n${xrefAt}\n%%EOF\n`, 'latin1'));
  return Buffer.concat(chunks);
}
