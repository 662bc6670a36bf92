import { P11 } from './binding.js';

/**
 * What went wrong with a key in a token, in terms an operator can act on:
 * - `module_missing`: the PKCS#11 library cannot be loaded;
 * - `token_missing`: no such token, or it went away (removed, reset, sessions lost);
 * - `pin_unavailable`: the PIN's file or environment variable is missing or empty;
 * - `pin_incorrect` / `pin_locked`: the token refused the PIN;
 * - `key_missing`: the token has no matching private key (or it cannot sign);
 * - `key_exists`: key generation would reuse a label or id;
 * - `key_mismatch`: the token key is not the key of the seal's certificate;
 * - `hsm_failure`: any other error the module returned.
 */
export type HsmErrorCode = 'module_missing' | 'token_missing' | 'pin_unavailable' | 'pin_incorrect' | 'pin_locked' | 'key_missing' | 'key_exists' | 'key_mismatch' | 'hsm_failure';

export class HsmError extends Error {
  override name = 'HsmError';
  constructor(
    readonly code: HsmErrorCode,
    message: string,
    /** The PKCS#11 return value's name, when the module returned one. */
    readonly ckr?: string,
  ) {
    super(message);
  }
}

/** Return values meaning the token, its sessions or its objects are gone (removed, reset, re-initialised). */
const TOKEN_GONE = new Set<number>([
  P11.CKR_TOKEN_NOT_PRESENT,
  P11.CKR_TOKEN_NOT_RECOGNIZED,
  P11.CKR_DEVICE_REMOVED,
  P11.CKR_DEVICE_ERROR,
  P11.CKR_SESSION_HANDLE_INVALID,
  P11.CKR_SESSION_CLOSED,
  P11.CKR_SLOT_ID_INVALID,
  P11.CKR_CRYPTOKI_NOT_INITIALIZED,
  P11.CKR_OBJECT_HANDLE_INVALID,
  P11.CKR_KEY_HANDLE_INVALID,
  P11.CKR_USER_NOT_LOGGED_IN,
  P11.CKR_GENERAL_ERROR,
]);

const PIN_REFUSED = new Set<number>([P11.CKR_PIN_INCORRECT, P11.CKR_PIN_INVALID, P11.CKR_PIN_LEN_RANGE]);
const PIN_LOCKED = new Set<number>([P11.CKR_PIN_LOCKED, P11.CKR_PIN_EXPIRED]);

function returnValue(err: unknown): { code: number; name: string } | undefined {
  if (err instanceof P11.Pkcs11Error) return { code: err.code, name: err.message };
  return undefined;
}

/** True when the error means the token or its sessions went away, so the pool must be rebuilt. */
export function isTokenGone(err: unknown): boolean {
  if (err instanceof HsmError) return err.code === 'token_missing';
  const rv = returnValue(err);
  return rv !== undefined && TOKEN_GONE.has(rv.code);
}

/** Wraps a PKCS#11 failure as an HsmError saying what was being done on which token. */
export function toHsmError(err: unknown, doing: string, token: string): HsmError {
  if (err instanceof HsmError) return err;
  const rv = returnValue(err);
  if (!rv) return new HsmError('hsm_failure', `${doing} on token ${token} failed: ${err instanceof Error ? err.message : String(err)}`);
  if (PIN_REFUSED.has(rv.code)) return new HsmError('pin_incorrect', `token ${token} refused the PIN (${rv.name})`, rv.name);
  if (PIN_LOCKED.has(rv.code)) return new HsmError('pin_locked', `the PIN of token ${token} is locked or expired (${rv.name}); the security officer must reset it`, rv.name);
  if (TOKEN_GONE.has(rv.code)) return new HsmError('token_missing', `token ${token} is not available: ${doing} failed with ${rv.name}`, rv.name);
  return new HsmError('hsm_failure', `${doing} on token ${token} failed with ${rv.name}`, rv.name);
}
