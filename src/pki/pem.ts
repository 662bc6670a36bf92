/** PEM encoding, used wherever certificates (or certificate requests) cross a text boundary. */

export function pemBlock(label: string, der: Buffer): string {
  const body = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

/** Every block with this label in a PEM text, as DER. */
export function pemBlocks(label: string, text: string): Buffer[] {
  const blocks = text.match(new RegExp(`-----BEGIN ${label}-----[\\s\\S]+?-----END ${label}-----`, 'g')) ?? [];
  return blocks.map((block) => Buffer.from(block.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64'));
}

export function derToPem(der: Buffer): string {
  return pemBlock('CERTIFICATE', der);
}

/** Every certificate in a PEM text (a bundle or a single one), as DER. */
export function pemToDerList(text: string): Buffer[] {
  return pemBlocks('CERTIFICATE', text);
}

export function pemToDer(pem: string): Buffer {
  const first = pemToDerList(pem)[0];
  if (!first) throw new Error('no PEM certificate');
  return first;
}
