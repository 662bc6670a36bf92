/** PEM certificate encoding, used wherever certificates cross a text boundary. */

export function derToPem(der: Buffer): string {
  const body = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
}

/** Every certificate in a PEM text (a bundle or a single one), as DER. */
export function pemToDerList(text: string): Buffer[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => Buffer.from(block.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64'));
}

export function pemToDer(pem: string): Buffer {
  const first = pemToDerList(pem)[0];
  if (!first) throw new Error('no PEM certificate');
  return first;
}
