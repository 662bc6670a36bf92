/**
 * OFD packages (GB/T 33190) for tests, laid out as seal-making systems write a seal's vector
 * picture: OFD.xml -> Doc_0/Document.xml -> Doc_0/Pages/Page_0/Content.xml, with PublicRes.xml
 * and DocumentRes.xml (images under Doc_0/Res/).
 */
import { makeZip, type ZipEntry } from './zip.js';

const NS = 'xmlns:ofd="http://www.ofdspec.org/2016"';
const RED = '230 0 18';

export interface OfdOptions {
  /** The page's PhysicalBox: "x y w h" in millimetres. */
  box?: string;
  /** Images listed in DocumentRes.xml: resource ID -> file under Doc_0/Res/ and its bytes. */
  media?: Array<{ id: string; file: string; data: Buffer }>;
  /** Files replaced (or left out, with null) after the package is laid out. */
  replace?: Record<string, string | Buffer | null>;
}

export function ofdFiles(objects: string, options: OfdOptions = {}): Record<string, string | Buffer> {
  const box = options.box ?? '0 0 40 40';
  const media = options.media ?? [];
  const files: Record<string, string | Buffer | null> = {
    'OFD.xml': `<?xml version="1.0" encoding="UTF-8"?>
<ofd:OFD ${NS} DocType="OFD" Version="1.0"><ofd:DocBody><ofd:DocInfo><ofd:DocID>seal</ofd:DocID></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>`,
    'Doc_0/Document.xml': `<?xml version="1.0" encoding="UTF-8"?>
<ofd:Document ${NS}><ofd:CommonData><ofd:MaxUnitID>100</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>${box}</ofd:PhysicalBox></ofd:PageArea>
<ofd:PublicRes>PublicRes.xml</ofd:PublicRes><ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes></ofd:CommonData>
<ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages></ofd:Document>`,
    'Doc_0/PublicRes.xml': `<?xml version="1.0" encoding="UTF-8"?>
<ofd:Res ${NS} BaseLoc="Res"><ofd:ColorSpaces><ofd:ColorSpace ID="2" Type="RGB" BitsPerComponent="8"/></ofd:ColorSpaces>
<ofd:Fonts><ofd:Font ID="3" FontName="宋体" FamilyName="宋体"/></ofd:Fonts></ofd:Res>`,
    'Doc_0/DocumentRes.xml': `<?xml version="1.0" encoding="UTF-8"?>
<ofd:Res ${NS} BaseLoc="Res"><ofd:MultiMedias>${media.map((m) => `<ofd:MultiMedia ID="${m.id}" Type="Image"><ofd:MediaFile>${m.file}</ofd:MediaFile></ofd:MultiMedia>`).join('')}</ofd:MultiMedias></ofd:Res>`,
    'Doc_0/Pages/Page_0/Content.xml': `<?xml version="1.0" encoding="UTF-8"?>
<ofd:Page ${NS}><ofd:Content><ofd:Layer ID="4" Type="Body">${objects}</ofd:Layer></ofd:Content></ofd:Page>`,
  };
  for (const m of media) files[`Doc_0/Res/${m.file}`] = m.data;
  Object.assign(files, options.replace ?? {});
  return Object.fromEntries(Object.entries(files).filter((e): e is [string, string | Buffer] => e[1] !== null));
}

/** The package of `ofdFiles`, zipped; `entry` adjusts each ZIP entry. */
export function ofdPackage(objects: string, options: OfdOptions = {}, entry: (e: ZipEntry) => ZipEntry = (e) => e): Buffer {
  return makeZip(Object.entries(ofdFiles(objects, options)).map(([name, data]) => entry({ name, data })));
}

const f = (n: number): string => String(Math.round(n * 1000) / 1000);

/**
 * A round seal on a 40 mm page, centred at (20, 20): a red ring (arcs, stroked 1.2 mm wide), a
 * thin inner ring (cubic Béziers), a filled five-pointed star (in its own Boundary), the name
 * along the upper rim with one text object and CTM per character, and the purpose written
 * horizontally (one bold TextCode, DeltaX in the "g" form) under the star.
 */
export function sealObjects(name = '某某市人民政府', purpose = '专用章'): string {
  const ring = `<ofd:PathObject ID="10" Boundary="0 0 40 40" LineWidth="1.2"><ofd:StrokeColor Value="${RED}" ColorSpace="2"/><ofd:AbbreviatedData>M 38.8 20 A 18.8 18.8 0 1 1 1.2 20 A 18.8 18.8 0 1 1 38.8 20 C</ofd:AbbreviatedData></ofd:PathObject>`;
  const k = 0.5523 * 17.5;
  const inner = `<ofd:PathObject ID="11" Boundary="2.5 2.5 35 35" LineWidth="0.3"><ofd:StrokeColor Value="${RED}"/><ofd:AbbreviatedData>M 35 17.5 B 35 ${f(17.5 + k)} ${f(17.5 + k)} 35 17.5 35 B ${f(17.5 - k)} 35 0 ${f(17.5 + k)} 0 17.5 B 0 ${f(17.5 - k)} ${f(17.5 - k)} 0 17.5 0 B ${f(17.5 + k)} 0 35 ${f(17.5 - k)} 35 17.5 C</ofd:AbbreviatedData></ofd:PathObject>`;
  const star: string[] = [];
  for (let i = 0; i < 10; i++) {
    const r = i % 2 === 0 ? 7 : 7 * 0.382;
    const a = -Math.PI / 2 + (i * Math.PI) / 5;
    star.push(`${i === 0 ? 'M' : 'L'} ${f(7 + r * Math.cos(a))} ${f(7 + r * Math.sin(a))}`);
  }
  const starObject = `<ofd:PathObject ID="12" Boundary="13 13 14 14" Fill="true" Stroke="false"><ofd:FillColor Value="${RED}"/><ofd:AbbreviatedData>${star.join(' ')} C</ofd:AbbreviatedData></ofd:PathObject>`;
  const chars = [...name];
  const size = 4;
  const text = chars.map((char, i) => {
    const angle = ((-90 - 100 + (200 * (i + 0.5)) / chars.length) * Math.PI) / 180;
    const [x, y] = [20 + 14.5 * Math.cos(angle), 20 + 14.5 * Math.sin(angle)];
    const phi = angle + Math.PI / 2;
    const ctm = [Math.cos(phi), Math.sin(phi), -Math.sin(phi), Math.cos(phi), x, y].map(f).join(' ');
    return `<ofd:TextObject ID="${20 + i}" Boundary="0 0 40 40" Font="3" Size="${size}" CTM="${ctm}"><ofd:FillColor Value="${RED}"/><ofd:TextCode X="${-size / 2}" Y="${size * 0.4}">${char}</ofd:TextCode></ofd:TextObject>`;
  });
  const width = [...purpose].length * 3.5;
  const purposeText = `<ofd:TextObject ID="40" Boundary="5 25 30 10" Font="3" Size="3.5" Weight="700"><ofd:FillColor Value="${RED}"/><ofd:TextCode X="${f(15 - width / 2)}" Y="5.5" DeltaX="g 999999 3.5">${purpose}</ofd:TextCode></ofd:TextObject>`;
  return ring + inner + starObject + text.join('') + purposeText;
}
