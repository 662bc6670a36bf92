import { PDFName, type PDFDocument } from 'pdf-lib';

/** GB/T 36903 licence metadata, as carried in the file's XMP packet. */
export interface LicenceMetadata {
  /** 证照名称 */
  name: string;
  /** 证照类型代码 */
  typeCode: string;
  /** 证照编号 */
  number: string;
  /** 证照标识 */
  identifier: string;
  /** 颁发机构, 颁发机构代码 */
  issuer: string;
  issuerCode?: string;
  /** 颁发日期, YYYY-MM-DD */
  issuedOn: string;
  /** 持证主体, 持证主体代码, 持证主体代码类型 (001 or 111) */
  holder: string;
  holderCode: string;
  holderCodeType?: string;
  /** 有效期起始日期, 截止日期 */
  validFrom?: string;
  validUntil?: string;
}

/** The namespace of the GB/T 36903 properties in this service's XMP. */
export const LICENCE_XMP_NS = 'urn:gbt36903:2018:license#';

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** The XMP packet: Dublin Core title and creator, and one element per GB/T 36903 item given. */
export function licenceXmp(m: LicenceMetadata): string {
  const items: Array<[string, string | undefined]> = [
    ['Name', m.name],
    ['TypeCode', m.typeCode],
    ['Number', m.number],
    ['Identifier', m.identifier],
    ['Issuer', m.issuer],
    ['IssuerCode', m.issuerCode],
    ['IssueDate', m.issuedOn],
    ['Holder', m.holder],
    ['HolderCode', m.holderCode],
    ['HolderCodeType', m.holderCodeType],
    ['ValidFrom', m.validFrom],
    ['ValidUntil', m.validUntil],
  ];
  const properties = items
    .filter((item): item is [string, string] => item[1] !== undefined && item[1] !== '')
    .map(([key, value]) => `   <lic:${key}>${escapeXml(value)}</lic:${key}>`)
    .join('\n');
  return `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:lic="${LICENCE_XMP_NS}">
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">${escapeXml(`${m.name} ${m.number}`)}</rdf:li></rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>${escapeXml(m.issuer)}</rdf:li></rdf:Seq></dc:creator>
   <xmp:CreateDate>${escapeXml(m.issuedOn)}</xmp:CreateDate>
${properties}
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="r"?>`;
}

/** Attaches the packet to the catalog as an uncompressed /Metadata stream, so XMP readers find it. */
export function attachXmp(doc: PDFDocument, xml: string): void {
  const stream = doc.context.stream(Buffer.from(xml, 'utf8'), { Type: 'Metadata', Subtype: 'XML' });
  doc.catalog.set(PDFName.of('Metadata'), doc.context.register(stream));
}
