/**
 * OFD vector pictures of national e-seals (GB/T 38540 picture type OFD): the first page of a
 * real OFD package, built here, drawn at the seal's printed size; and every kind of hostile
 * package refused with a reason, after bounded work.
 */
import { createCanvas } from '@napi-rs/canvas';
import { describe, expect, it } from 'vitest';
import { SealInputError } from '../../src/seals/errors.js';
import { SEAL_PIXELS_PER_MM } from '../../src/seals/image.js';
import { decodePng, type DecodedPng } from '../../src/seals/png.js';
import { sesPicturePng } from '../../src/seals/ses-picture.js';
import { ofdFiles, ofdPackage, sealObjects } from '../helpers/ofd.js';
import { makeZip } from '../helpers/zip.js';

const ppm = SEAL_PIXELS_PER_MM;

function render(data: Buffer, widthMm = 40, heightMm = 40): DecodedPng {
  return decodePng(sesPicturePng({ format: 'OFD', data, widthMm, heightMm }));
}

/** The pixel at a position in millimetres: seal red and opaque, or transparent. */
function at(png: DecodedPng, xMm: number, yMm: number): { red: boolean; alpha: number } {
  const p = Math.round(yMm * ppm) * png.width + Math.round(xMm * ppm);
  const [r, g, b] = [png.rgb[3 * p]!, png.rgb[3 * p + 1]!, png.rgb[3 * p + 2]!];
  const alpha = png.alpha ? png.alpha[p]! : 255;
  return { red: alpha > 200 && r > 200 && g < 60 && b < 60, alpha };
}

/** Red pixels in a box given in millimetres. */
function redIn(png: DecodedPng, x0: number, y0: number, x1: number, y1: number): number {
  let count = 0;
  for (let y = Math.round(y0 * ppm); y < Math.round(y1 * ppm); y++) {
    for (let x = Math.round(x0 * ppm); x < Math.round(x1 * ppm); x++) {
      const p = y * png.width + x;
      if ((png.alpha?.[p] ?? 255) > 128 && png.rgb[3 * p]! > 180 && png.rgb[3 * p + 1]! < 90) count++;
    }
  }
  return count;
}

function refusal(data: Buffer): string {
  try {
    sesPicturePng({ format: 'OFD', data, widthMm: 40, heightMm: 40 });
  } catch (err) {
    expect(err).toBeInstanceOf(SealInputError);
    expect((err as SealInputError).field).toBe('sesSeal');
    return (err as Error).message;
  }
  throw new Error('the OFD picture was accepted');
}

function rasterSquare(type: 'image/png' | 'image/jpeg'): Buffer {
  const canvas = createCanvas(64, 64);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, 64, 64);
  ctx.fillStyle = '#e60012';
  ctx.fillRect(16, 16, 32, 32);
  return type === 'image/png' ? canvas.toBuffer('image/png') : canvas.toBuffer('image/jpeg');
}

describe('OFD seal pictures', () => {
  it('draws the ring, the star and the text of a seal drawing at the printed size, transparent around them', () => {
    const png = render(ofdPackage(sealObjects()));
    expect([png.width, png.height]).toEqual([40 * ppm, 40 * ppm]);
    expect(png.alpha).not.toBeNull();
    // the ring: top, left, bottom, right; the star's centre and its top point
    for (const [x, y] of [[20, 1.2], [1.2, 20], [20, 38.8], [38.8, 20], [20, 20], [20, 14]] as const) expect(at(png, x, y).red, `${x},${y}`).toBe(true);
    // outside the ring, the corners, inside between star and purpose
    for (const [x, y] of [[20, 0.2], [1, 1], [39, 39], [20, 35], [9, 27]] as const) expect(at(png, x, y).alpha, `${x},${y}`).toBe(0);
    // the name's first and middle characters, the purpose under the star
    expect(redIn(png, 18, 3, 22, 7.5)).toBeGreaterThan(40);
    expect(redIn(png, 4, 18, 8, 26)).toBeGreaterThan(40);
    expect(redIn(png, 14, 27, 26, 31.5)).toBeGreaterThan(60);
    // the same drawing without text leaves those places empty
    const bare = render(ofdPackage(sealObjects().replace(/<ofd:TextObject.*?<\/ofd:TextObject>/g, '')));
    expect(redIn(bare, 18, 3, 22, 7.5)).toBe(0);
    expect(redIn(bare, 14, 27, 26, 31.5)).toBe(0);
  });

  it('fits the page into a picture of another shape without distorting it, and takes a white background away', () => {
    const background = '<ofd:PathObject ID="5" Boundary="0 0 40 40" Fill="true" Stroke="false"><ofd:FillColor Value="255 255 255"/><ofd:AbbreviatedData>M 0 0 L 40 0 L 40 40 L 0 40 C</ofd:AbbreviatedData></ofd:PathObject>';
    const png = render(ofdPackage(background + sealObjects()), 50, 40);
    expect([png.width, png.height]).toEqual([50 * ppm, 40 * ppm]);
    // the 40 mm page is centred: 5 mm margins left and right
    expect(at(png, 25, 1.2).red).toBe(true);
    expect(at(png, 6.2, 20).red).toBe(true);
    expect(at(png, 43.8, 20).red).toBe(true);
    expect(at(png, 25, 20).red).toBe(true);
    expect(at(png, 7, 3).alpha).toBe(0);
    expect(at(png, 2, 20).alpha).toBe(0);
  });

  it('draws image objects (PNG and JPEG multimedia resources) into their boundaries', () => {
    const objects =
      '<ofd:ImageObject ID="30" Boundary="2 10 16 16" CTM="16 0 0 16 0 0" ResourceID="50"/>' +
      '<ofd:PageBlock ID="31"><ofd:ImageObject ID="32" Boundary="22 10 16 16" CTM="16 0 0 16 0 0" ResourceID="51"/></ofd:PageBlock>';
    const media = [
      { id: '50', file: 'image_50.png', data: rasterSquare('image/png') },
      { id: '51', file: 'image_51.jpg', data: rasterSquare('image/jpeg') },
    ];
    const png = render(ofdPackage(objects, { media }));
    expect(at(png, 10, 18).red).toBe(true);
    expect(at(png, 30, 18).red).toBe(true);
    // the white border of each image is paper; beside and between them nothing
    expect(at(png, 3, 11).alpha).toBe(0);
    expect(at(png, 23, 11).alpha).toBe(0);
    expect(at(png, 20, 18).alpha).toBe(0);
    expect(at(png, 10, 35).alpha).toBe(0);
  });

  it('reads what writers vary: absolute paths, stored entries, GB 18030 text, draw parameters, quadratic curves', () => {
    const files = ofdFiles('<ofd:PathObject ID="60" Boundary="0 0 40 40" DrawParam="70"><ofd:AbbreviatedData>M 2 20 Q 20 -10 38 20</ofd:AbbreviatedData></ofd:PathObject>' + '<ofd:TextObject ID="61" Boundary="0 0 40 40" Size="6"><ofd:FillColor Value="#E6 #00 #12"/><ofd:TextCode X="14" Y="34">印章</ofd:TextCode></ofd:TextObject>', {
      replace: { 'Doc_0/PublicRes.xml': '<?xml version="1.0" encoding="UTF-8"?><ofd:Res xmlns:ofd="http://www.ofdspec.org/2016" BaseLoc="/Doc_0/Res"><ofd:DrawParams><ofd:DrawParam ID="70" LineWidth="2"><ofd:StrokeColor Value="230 0 18"/></ofd:DrawParam></ofd:DrawParams></ofd:Res>' },
    });
    const content = files['Doc_0/Pages/Page_0/Content.xml'] as string;
    files['Doc_0/Pages/Page_0/Content.xml'] = gb18030(content.replace('encoding="UTF-8"', 'encoding="GB18030"'));
    files['OFD.xml'] = (files['OFD.xml'] as string).replace('<ofd:DocRoot>Doc_0/Document.xml', '<ofd:DocRoot>/Doc_0/Document.xml');
    const png = render(makeZip(Object.entries(files).map(([name, data]) => ({ name, data, method: 'store' as const }))));
    // the curve's vertex at (20, 5), 2 mm wide; the two characters from x = 14 to 26 mm
    expect(at(png, 20, 5).red).toBe(true);
    expect(at(png, 20, 7).alpha).toBe(0);
    expect(redIn(png, 14, 28, 20, 35)).toBeGreaterThan(40);
    expect(redIn(png, 20, 28, 26, 35)).toBeGreaterThan(40);
  });
});

/** "印章" and the rest of the ASCII in GB 18030 (the two characters are D3A1 D5C2). */
function gb18030(text: string): Buffer {
  const codes: Record<string, number[]> = { 印: [0xd3, 0xa1], 章: [0xd5, 0xc2] };
  return Buffer.from([...text].flatMap((c) => codes[c] ?? [c.charCodeAt(0)]));
}

describe('hostile OFD pictures get bounded work and a reason', () => {
  const seal = sealObjects();
  const good = ofdPackage(seal);

  it('refuses what is not a whole ZIP archive', () => {
    expect(refusal(Buffer.from('<ofd:OFD/>'))).toMatch(/OFD picture: it is not a ZIP file, or a truncated one/);
    expect(refusal(good.subarray(0, good.length - 40))).toMatch(/not a ZIP file, or a truncated one/);
    // bytes cut out of the middle: the directory now points past the end
    expect(refusal(Buffer.concat([good.subarray(0, 200), good.subarray(400)]))).toMatch(/truncated|damaged/);
    const cut = ofdPackage(seal, {}, (e) => (e.name === 'OFD.xml' ? { ...e, central: { compressedSize: 10 } } : e));
    expect(refusal(cut)).toMatch(/the ZIP entry OFD.xml is damaged/);
  });

  it('refuses too many entries, encrypted entries, ZIP64 and unknown methods', () => {
    const many = makeZip(Array.from({ length: 300 }, (_, i) => ({ name: `f${i}.xml`, data: '<a/>' })));
    expect(refusal(many)).toMatch(/300 entries, more than 256/);
    expect(refusal(ofdPackage(seal, {}, (e) => (e.name === 'OFD.xml' ? { ...e, central: { flags: 1 } } : e)))).toMatch(/OFD.xml is encrypted/);
    expect(refusal(ofdPackage(seal, {}, (e) => (e.name === 'OFD.xml' ? { ...e, central: { compressedSize: 0xffffffff } } : e)))).toMatch(/needs ZIP64/);
  });

  it('stops inflating a ZIP bomb at the bound, per entry and for the whole package', () => {
    const spaces = (mib: number): string => ' '.repeat(mib * 1024 * 1024);
    const bomb = ofdPackage(seal, { replace: { 'Doc_0/Pages/Page_0/Content.xml': `<ofd:Page>${spaces(20)}</ofd:Page>` } });
    expect(bomb.length).toBeLessThan(100_000);
    expect(refusal(bomb)).toMatch(/Content.xml inflates to more than 16 MiB \(a ZIP bomb\?\)/);
    const res = `<ofd:Res BaseLoc="Res">${spaces(12)}</ofd:Res>`;
    const together = ofdPackage(seal, { replace: { 'Doc_0/PublicRes.xml': res, 'Doc_0/DocumentRes.xml': res, 'Doc_0/Pages/Page_0/Content.xml': `<ofd:Page><ofd:Content/>${spaces(12)}</ofd:Page>` } });
    expect(refusal(together)).toMatch(/inflate to more than 32 MiB together/);
  });

  it('refuses a package without OFD.xml, the document or the page', () => {
    expect(refusal(ofdPackage(seal, { replace: { 'OFD.xml': null } }))).toMatch(/no OFD.xml at its root/);
    expect(refusal(ofdPackage(seal, { replace: { 'Doc_0/Document.xml': null } }))).toMatch(/no document that OFD.xml names \(Doc_0\/Document.xml\)/);
    expect(refusal(ofdPackage(seal, { replace: { 'Doc_0/Pages/Page_0/Content.xml': null } }))).toMatch(/no first page/);
    const escape = ofdPackage(seal, { replace: { 'OFD.xml': '<ofd:OFD><ofd:DocBody><ofd:DocRoot>../../etc/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>' } });
    expect(refusal(escape)).toMatch(/no document that OFD.xml names/);
  });

  it('refuses XML with a document type or entities, nesting too deep, too many elements, and broken XML', () => {
    const laughs = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><ofd:OFD>&lol2;</ofd:OFD>';
    expect(refusal(ofdPackage(seal, { replace: { 'OFD.xml': laughs } }))).toMatch(/OFD.xml has a document type or entity declaration/);
    expect(refusal(ofdPackage(seal, { replace: { 'OFD.xml': '<ofd:OFD>&xxe;</ofd:OFD>' } }))).toMatch(/uses the entity &xxe;/);
    const deep = '<ofd:PageBlock>'.repeat(100) + '</ofd:PageBlock>'.repeat(100);
    expect(refusal(ofdPackage(deep))).toMatch(/Content.xml nests elements more than 64 deep/);
    const wide = '<ofd:PathObject/>'.repeat(50_001);
    expect(refusal(ofdPackage(wide))).toMatch(/Content.xml has more than 50000 elements/);
    expect(refusal(ofdPackage(seal, { replace: { 'Doc_0/Document.xml': '<ofd:Document><ofd:Pages>' } }))).toMatch(/Document.xml is not well-formed XML: <ofd:Pages> is not closed/);
  });

  it('refuses too many path commands, text codes or characters, and absurd sizes', () => {
    const path = `<ofd:PathObject Boundary="0 0 40 40"><ofd:AbbreviatedData>M 0 0 ${'L 1 1 '.repeat(100_001)}</ofd:AbbreviatedData></ofd:PathObject>`;
    expect(refusal(ofdPackage(path))).toMatch(/more than 100000 path commands/);
    const codes = `<ofd:TextObject Boundary="0 0 40 40" Size="3">${'<ofd:TextCode X="1" Y="5">A</ofd:TextCode>'.repeat(10_001)}</ofd:TextObject>`;
    expect(refusal(ofdPackage(codes))).toMatch(/more than 10000 TextCode elements/);
    const chars = `<ofd:TextObject Boundary="0 0 40 40" Size="3"><ofd:TextCode X="1" Y="5">${'印'.repeat(10_001)}</ofd:TextCode></ofd:TextObject>`;
    expect(refusal(ofdPackage(chars))).toMatch(/more than 10000 characters/);
    expect(refusal(ofdPackage(seal, { box: '0 0 1e9 1e9' }))).toMatch(/PhysicalBox "0 0 1e9 1e9" is not a page size/);
    expect(refusal(ofdPackage('<ofd:PathObject Boundary="0 0 1e300 5"><ofd:AbbreviatedData>M 0 0 L 1 1</ofd:AbbreviatedData></ofd:PathObject>'))).toMatch(/Boundary .* not a number of sensible size/);
    expect(refusal(ofdPackage('<ofd:TextObject Boundary="0 0 40 40" Size="1e7"><ofd:TextCode X="1" Y="5">A</ofd:TextCode></ofd:TextObject>'))).toMatch(/text Size "1e7" is not a number between/);
    expect(refusal(ofdPackage('<ofd:PathObject Boundary="0 0 40 40"><ofd:AbbreviatedData>M 0 0 X 1 1</ofd:AbbreviatedData></ofd:PathObject>'))).toMatch(/unknown command X/);
  });

  it('refuses images that are not images or too large, and a page that draws nothing', () => {
    const image = '<ofd:ImageObject Boundary="0 0 40 40" CTM="40 0 0 40 0 0" ResourceID="50"/>';
    expect(refusal(ofdPackage(image, { media: [{ id: '50', file: 'a.tif', data: Buffer.from('II*\0') }] }))).toMatch(/the image Doc_0\/Res\/a.tif is neither PNG, JPEG, GIF nor BMP/);
    const huge = Buffer.from(rasterSquare('image/jpeg'));
    const sof = huge.indexOf(Buffer.from([0xff, 0xc0]));
    huge.writeUInt16BE(60_000, sof + 5);
    huge.writeUInt16BE(60_000, sof + 7);
    expect(refusal(ofdPackage(image, { media: [{ id: '50', file: 'a.jpg', data: huge }] }))).toMatch(/a.jpg: .*60000x60000 pixels, more than/);
    expect(refusal(ofdPackage(image))).toMatch(/refers to the resource 50, which no resource file lists/);
    expect(refusal(ofdPackage('<ofd:CompositeObject Boundary="0 0 40 40" ResourceID="9"/>'))).toMatch(/no path, text or image object that draws anything/);
    const outside = '<ofd:PathObject Boundary="50 50 10 10" LineWidth="1"><ofd:StrokeColor Value="230 0 18"/><ofd:AbbreviatedData>M 0 0 L 10 10</ofd:AbbreviatedData></ofd:PathObject>';
    expect(refusal(ofdPackage(outside))).toMatch(/draws nothing visible within its PhysicalBox/);
  });

  it('answers damaged packages and damaged XML with a reason or a picture, never another error', () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const files = ofdFiles(sealObjects());
    const zip = (replaced: Record<string, string>): Buffer => makeZip(Object.entries({ ...files, ...replaced }).map(([name, data]) => ({ name, data })));
    const pageXml = files['Doc_0/Pages/Page_0/Content.xml'] as string;
    const fragments = ['<', '>', '"', ' ', 'A', 'M', 'B', 'NaN', '1e309', '&', '&#0;', '&#x110000;', '/', '=', 'g', '<![CDATA[', ']]>', '<!--', '-->'];
    const outcomes = new Set<string>();
    const judge = (data: Buffer): void => {
      try {
        sesPicturePng({ format: 'OFD', data, widthMm: 40, heightMm: 40 });
        outcomes.add('drawn');
      } catch (err) {
        expect(err).toBeInstanceOf(SealInputError);
        outcomes.add('refused');
      }
    };
    const whole = zip({});
    for (let i = 0; i < 150; i++) {
      const bytes = Buffer.from(whole);
      for (let j = 0; j <= random(8); j++) bytes[random(bytes.length)] = random(256);
      judge(bytes);
      let xml = pageXml;
      for (let j = 0; j <= random(5); j++) {
        const cut = random(xml.length);
        xml = random(2) ? xml.slice(0, cut) + fragments[random(fragments.length)] + xml.slice(cut) : xml.slice(0, cut) + xml.slice(cut + 1 + random(5));
      }
      judge(zip({ 'Doc_0/Pages/Page_0/Content.xml': xml }));
    }
    expect(outcomes).toEqual(new Set(['drawn', 'refused']));
  });
});
