import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { SEAL_TYPES, type SealType } from './seal-types.js';

const OBJECT_IDENTIFIER = /^[0-2](\.(0|[1-9][0-9]*))+$/;

export const SealTypePoliciesSchema = z
  .object({
    description: z.string().optional(),
    /** Certificate policy OID -> the seal types a certificate asserting it may be registered for. */
    policies: z.record(z.string(), z.array(z.enum(SEAL_TYPES))).superRefine((policies, ctx) => {
      for (const key of Object.keys(policies)) {
        if (!OBJECT_IDENTIFIER.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'keys must be object identifiers (dotted decimal)' });
      }
    }),
    /** The seal types a certificate without a certificatePolicies extension may serve; none by default. */
    withoutPolicies: z.array(z.enum(SEAL_TYPES)).default([]),
  })
  .strict();

/** Which seal types the certificate policies allow (policies/seal-types.json, or SEAL_TYPE_POLICIES). */
export type SealTypePolicies = z.infer<typeof SealTypePoliciesSchema>;

export const DEFAULT_SEAL_TYPE_POLICIES_FILE = new URL('../../policies/seal-types.json', import.meta.url);

/** Reads and checks a mapping file; a bad file is an error that names what is wrong. */
export function loadSealTypePolicies(file: string | URL = DEFAULT_SEAL_TYPE_POLICIES_FILE): SealTypePolicies {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`seal type policies ${String(file)}: ${(err as Error).message}`);
  }
  const parsed = SealTypePoliciesSchema.safeParse(json);
  if (!parsed.success) throw new Error(`seal type policies ${String(file)}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/**
 * The seal types a certificate may serve: the union of what its policies allow. `null` means the
 * certificate has no certificatePolicies extension, which allows only `withoutPolicies`. A policy
 * the mapping does not name allows nothing, anyPolicy (2.5.29.32.0) included unless listed: a CA
 * that says nothing about seal types is not taken to allow them all.
 */
export function sealTypesAllowed(mapping: SealTypePolicies, certificatePolicies: readonly string[] | null): SealType[] {
  const allowed = new Set<SealType>(certificatePolicies === null ? mapping.withoutPolicies : []);
  for (const oid of certificatePolicies ?? []) {
    if (Object.hasOwn(mapping.policies, oid)) for (const type of mapping.policies[oid]!) allowed.add(type);
  }
  return SEAL_TYPES.filter((type) => allowed.has(type));
}
