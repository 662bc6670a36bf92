import { z } from 'zod';

/**
 * Where a seal key in a PKCS#11 token is: the module (shared library), the token by label or
 * serial number, the key by label or CKA_ID (hex), and where the user PIN is read from. The PIN
 * itself is never stored.
 */
export const Pkcs11KeyRefSchema = z
  .object({
    kind: z.literal('pkcs11'),
    module: z.string().min(1),
    token: z
      .object({ label: z.string().min(1).max(32).optional(), serial: z.string().min(1).max(16).optional() })
      .strict()
      .refine((t) => t.label !== undefined || t.serial !== undefined, { message: 'name the token by label or serial' }),
    key: z
      .object({ label: z.string().min(1).optional(), id: z.string().regex(/^([0-9a-f]{2})+$/i, 'hex').optional() })
      .strict()
      .refine((k) => k.label !== undefined || k.id !== undefined, { message: 'name the key by label or id' }),
    pin: z.union([z.object({ env: z.string().min(1) }).strict(), z.object({ file: z.string().min(1) }).strict()]),
    /** RSA keys only: PKCS#1 v1.5 (the default) or RSASSA-PSS signatures. */
    rsaPadding: z.enum(['pkcs1', 'pss']).optional(),
  })
  .strict();

export type Pkcs11KeyRef = z.infer<typeof Pkcs11KeyRefSchema>;
export type TokenSelector = Pkcs11KeyRef['token'];
export type KeySelector = Pkcs11KeyRef['key'];
export type PinSource = Pkcs11KeyRef['pin'];

/** How a token is named in messages. */
export function describeToken(token: TokenSelector): string {
  return [token.label !== undefined ? `"${token.label}"` : '', token.serial !== undefined ? `serial ${token.serial}` : ''].filter(Boolean).join(' ');
}

export function describeKey(key: KeySelector): string {
  return [key.label !== undefined ? `labelled "${key.label}"` : '', key.id !== undefined ? `with id ${key.id}` : ''].filter(Boolean).join(' ');
}
