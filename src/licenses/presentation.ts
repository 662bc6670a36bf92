import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseLicenseIdentifier } from './identifier.js';

/** How long a presentation code a holder shows on a phone stays valid. */
export const PRESENTATION_TTL_SECONDS = 300;

const MAC_BYTES = 16;

/** The key of presentation codes, derived from the licences' secret so it signs nothing else. */
export function presentationKey(secret: string): Buffer {
  return createHmac('sha256', secret).update('licence presentation codes').digest();
}

function mac(key: Buffer, payload: string): Buffer {
  return createHmac('sha256', key).update(payload).digest().subarray(0, MAC_BYTES);
}

/**
 * A code that opens a licence's page until `expiresAt`: `<payload>.<mac>`, the payload the
 * base64url of the identifier and the expiry in Unix seconds. Unlike the check code printed on the
 * paper, a copy of it (a screenshot) stops working after a few minutes.
 */
export function makePresentationToken(key: Buffer, id: string, expiresAt: Date): string {
  const payload = Buffer.from(`${id}\n${Math.floor(expiresAt.getTime() / 1000)}`, 'utf8').toString('base64url');
  return `${payload}.${mac(key, payload).toString('base64url')}`;
}

export type PresentationTokenReading = { ok: true; id: string; expiresAt: Date } | { ok: false; reason: 'malformed' | 'expired' };

/** Checks a presentation code: its MAC (constant time), its form, and that it has not expired at `now`. */
export function readPresentationToken(key: Buffer, token: string, now: Date): PresentationTokenReading {
  const match = /^([A-Za-z0-9_-]{1,200})\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!match) return { ok: false, reason: 'malformed' };
  const [, payload, given] = match as unknown as [string, string, string];
  const expected = mac(key, payload);
  const sent = Buffer.from(given, 'base64url');
  if (sent.length !== expected.length || !timingSafeEqual(sent, expected)) return { ok: false, reason: 'malformed' };
  const [id, seconds, ...rest] = Buffer.from(payload, 'base64url').toString('utf8').split('\n');
  if (rest.length > 0 || !id || !parseLicenseIdentifier(id) || !/^\d{1,12}$/.test(seconds ?? '')) return { ok: false, reason: 'malformed' };
  const expiresAt = new Date(Number(seconds) * 1000);
  if (expiresAt.getTime() <= now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, id, expiresAt };
}
