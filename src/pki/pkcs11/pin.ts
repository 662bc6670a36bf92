import { readFileSync } from 'node:fs';
import { HsmError } from './errors.js';
import type { PinSource } from './key-ref.js';

/** Reads a token's user PIN from its file (one line) or environment variable, at login time. */
export function readPin(source: PinSource, token: string): string {
  let pin: string | undefined;
  if ('env' in source) {
    pin = process.env[source.env];
    if (!pin) throw new HsmError('pin_unavailable', `the PIN of token ${token} is to come from the environment variable ${source.env}, which is not set`);
    return pin;
  }
  try {
    pin = readFileSync(source.file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new HsmError('pin_unavailable', `the PIN file of token ${token} cannot be read: ${(err as Error).message}`);
  }
  if (!pin) throw new HsmError('pin_unavailable', `the PIN file of token ${token} (${source.file}) is empty`);
  return pin;
}
