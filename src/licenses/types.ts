import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { isValidUscc } from '../codes/check-characters.js';
import { SEAL_TYPES } from '../seals/seal-types.js';
import { placeholders } from '../render/placeholders.js';

const Field = z.discriminatedUnion('type', [
  z
    .object({
      key: z.string(),
      label: z.string(),
      type: z.literal('text'),
      required: z.boolean(),
      maxLength: z.number().int().positive(),
      /** Whether the text may hold line feeds (paragraphs); other fields are one line. */
      multiline: z.boolean().optional(),
    })
    .strict(),
  z
    .object({
      key: z.string(),
      label: z.string(),
      type: z.literal('date'),
      required: z.boolean(),
      /** `past`: records what happened (not after the date of issue); `deadline`: not before it. */
      when: z.enum(['past', 'deadline']).optional(),
    })
    .strict(),
  z.object({ key: z.string(), label: z.string(), type: z.literal('enum'), required: z.boolean(), values: z.array(z.string()).min(1) }).strict(),
  z.object({ key: z.string(), label: z.string(), type: z.literal('integer'), required: z.boolean(), min: z.number().int(), max: z.number().int() }).strict(),
  z.object({ key: z.string(), label: z.string(), type: z.literal('list'), required: z.boolean(), maxItems: z.number().int().positive(), maxLength: z.number().int().positive() }).strict(),
  z.object({ key: z.string(), label: z.string(), type: z.literal('uscc'), required: z.boolean() }).strict(),
  z.object({ key: z.string(), label: z.string(), type: z.literal('citizen-id'), required: z.boolean() }).strict(),
]);

/**
 * How the printed number (证照编号) is formed. `yearly`: the type's prefix, the year of issue and a
 * 6-digit serial counted per issuer, type and year. `food-permit`: 食品经营许可证 numbers, JY and
 * 14 digits (business type, the issuer's 6-digit administrative division, a 6-digit serial counted
 * per issuer and type, a check digit).
 */
const NumberForm = z.discriminatedUnion('form', [
  z.object({ form: z.literal('yearly'), prefix: z.string().regex(/^[A-Z]{1,6}$/) }).strict(),
  z
    .object({
      form: z.literal('food-permit'),
      /** The enum field holding the business type (主体业态), and the digit of each of its values. */
      businessTypeField: z.string(),
      businessTypeDigits: z.record(z.string(), z.string().regex(/^[1-9]$/)),
    })
    .strict(),
]);

/** A letter must name only known fields, and print every field, so nothing given is lost. */
function letterIssues(t: { letter?: { addressee: string; paragraphs: Array<string | { list: string }> } | undefined; fields: Array<{ key: string; type: string }> }): string[] {
  if (!t.letter) return ['a letter-style type needs a letter'];
  const issues: string[] = [];
  const used = new Set<string>();
  for (const p of [t.letter.addressee, ...t.letter.paragraphs]) {
    if (typeof p !== 'string') {
      if (t.fields.find((f) => f.key === p.list)?.type !== 'list') issues.push(`letter list ${p.list} must be a list field`);
      used.add(p.list);
      continue;
    }
    for (const key of placeholders(p)) {
      if (key !== 'holder.name' && key !== 'holder.code' && !t.fields.some((f) => f.key === key)) issues.push(`letter placeholder {${key}} is not a field`);
      used.add(key);
    }
  }
  for (const key of ['holder.name', 'holder.code', ...t.fields.map((f) => f.key)]) if (!used.has(key)) issues.push(`the letter does not print ${key}`);
  return issues;
}

export const LicenseTypeSchema = z
  .object({
    code: z.string().regex(/^[a-z][a-z0-9-]{1,40}$/),
    name: z.string().min(1).max(40),
    /** GB/T 36904 license type code: the defining authority's USCC and a 3-digit sequence. */
    typeCode: z
      .string()
      .regex(/^[0-9A-Z]{18}\d{3}$/)
      .refine((c) => isValidUscc(c.slice(0, 18)), 'the first 18 characters must be a valid unified social credit code'),
    sealType: z.enum(SEAL_TYPES),
    /** The seal the issuing department applies to this type. */
    issuerSealId: z.string().min(1).max(64),
    validity: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('none') }).strict(),
      z.object({ kind: z.literal('years'), years: z.number().int().min(1).max(50) }).strict(),
      z.object({ kind: z.literal('field'), from: z.string(), until: z.string() }).strict(),
    ]),
    page: z.object({ size: z.enum(['A4', 'A3']), orientation: z.enum(['portrait', 'landscape']) }).strict(),
    /** Where things go, in millimetres from the page edges; font sizes in points. */
    layout: z
      .object({
        /** `licence`: a certificate face of labelled rows; `letter`: an official letter (notices), its text from `letter`. */
        style: z.enum(['licence', 'letter']).default('licence'),
        titleSize: z.number().min(10).max(60),
        fontSize: z.number().min(7).max(24),
        /** The smallest size text may shrink to before it continues on a further page; fontSize - 2 (at least 9) by default. */
        minFontSize: z.number().min(7).max(24).optional(),
        /** Content longer than this many pages is refused (422 naming the field). */
        maxPages: z.number().int().min(1).max(50).default(10),
        /** The QR code: at the lower left of the last page, or (`corner: top-right`) at the upper right of the first page. */
        qr: z.union([
          z.object({ leftMm: z.number().min(5), bottomMm: z.number().min(5), sizeMm: z.number().min(15).max(80) }).strict(),
          z.object({ corner: z.literal('top-right'), rightMm: z.number().min(5), topMm: z.number().min(5), sizeMm: z.number().min(15).max(80) }).strict(),
        ]),
        seal: z.object({ rightMm: z.number().min(20), bottomMm: z.number().min(20) }).strict(),
        /** Printed before the issuer on a licence face (登记机关, 发证机关). */
        issuerLabel: z.string().max(10).optional(),
        /** The label of the validity row (有效期, 营业期限). */
        validityLabel: z.string().max(10).default('有效期'),
        /** On a licence face, the fields set in a right-hand column beside the others (the 营业执照's two columns). */
        rightColumn: z.array(z.string()).min(1).optional(),
      })
      .strict(),
    /**
     * The text of a letter: paragraphs with placeholders ({holder.name}, {holder.code}, {<field key>})
     * and lists (one numbered paragraph per item). A paragraph whose optional field is absent is left out.
     */
    letter: z
      .object({
        addressee: z.string().min(1),
        paragraphs: z.array(z.union([z.string().min(1), z.object({ list: z.string() }).strict()])).min(1),
      })
      .strict()
      .optional(),
    /** Holder code type per GB/T 36903: 001 unified social credit code, 111 citizen ID, or either. */
    number: NumberForm,
    holder: z
      .object({
        codeType: z.enum(['001', '111', 'any']),
        nameLabel: z.string(),
        codeLabel: z.string(),
        /** GB 32100 registration-authority codes (first character) a holder's USCC may have; any when absent. */
        usccRegistrationAuthorities: z.array(z.string().regex(/^[0-9A-HJ-NPQRTUWXY]$/)).min(1).optional(),
      })
      .strict(),
    fields: z.array(Field).min(1).max(60),
  })
  .strict()
  .superRefine((t, ctx) => {
    const keys = t.fields.map((f) => f.key);
    if (new Set(keys).size !== keys.length) ctx.addIssue({ code: 'custom', message: 'field keys must be unique' });
    if (t.number.form === 'food-permit') {
      const { businessTypeField, businessTypeDigits } = t.number;
      const field = t.fields.find((f) => f.key === businessTypeField);
      if (field?.type !== 'enum' || !field.required) ctx.addIssue({ code: 'custom', message: `number.businessTypeField ${businessTypeField} must be a required enum field` });
      else if (field.values.some((v) => businessTypeDigits[v] === undefined)) ctx.addIssue({ code: 'custom', message: `number.businessTypeDigits must give a digit for each of ${field.values.join(', ')}` });
    }
    if (t.layout.style === 'letter') letterIssues(t).forEach((message) => ctx.addIssue({ code: 'custom', message }));
    for (const key of t.layout.rightColumn ?? []) if (!keys.includes(key)) ctx.addIssue({ code: 'custom', message: `layout.rightColumn names ${key}, which is not a field` });
    if (t.validity.kind === 'field') {
      for (const key of [t.validity.from, t.validity.until]) {
        if (t.fields.find((f) => f.key === key)?.type !== 'date') ctx.addIssue({ code: 'custom', message: `validity field ${key} must be a date field` });
      }
    }
  });

export type LicenseType = z.infer<typeof LicenseTypeSchema>;
export type LicenseField = LicenseType['fields'][number];

export class LicenseTypeError extends Error {
  override name = 'LicenseTypeError';
}

/** Reads every license type: one folder per type under `dir`, each with a `type.json`. Adding a type is adding a folder. */
export function loadLicenseTypes(dir: string): Map<string, LicenseType> {
  const types = new Map<string, LicenseType>();
  for (const entry of readdirSync(dir).sort()) {
    const folder = path.join(dir, entry);
    if (!statSync(folder).isDirectory()) continue;
    const file = path.join(folder, 'type.json');
    let parsed: LicenseType;
    try {
      parsed = LicenseTypeSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    } catch (err) {
      const reason = err instanceof z.ZodError ? err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : (err as Error).message;
      throw new LicenseTypeError(`license type ${entry}: ${reason}`);
    }
    if (parsed.code !== entry) throw new LicenseTypeError(`license type ${entry}: its code must equal its folder name`);
    types.set(parsed.code, parsed);
  }
  // Distinct prefixes keep the numbers of different types apart, even when one office issues both.
  const byPrefix = new Map<string, string>();
  for (const type of types.values()) {
    const prefix = type.number.form === 'yearly' ? type.number.prefix : 'JY';
    const other = byPrefix.get(prefix);
    if (other) throw new LicenseTypeError(`license types ${other} and ${type.code} have the same number prefix ${prefix}`);
    byPrefix.set(prefix, type.code);
  }
  return types;
}
