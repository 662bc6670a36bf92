import { PdfDict, PdfRef, type PdfValue } from '../../../pdf/objects.js';
import type { StepContext } from '../step.js';
import { changedKeys, dictOf, refList, sameValue } from '../values.js';

const BOOKKEEPING = new Set(['Fields', 'SigFlags', 'DR', 'DA', 'NeedAppearances']);

/**
 * The interactive form dictionary: new fields appended to /Fields, /SigFlags, default resources.
 * Fields may be added (each judged by its own rule) but not removed; other keys may not change.
 */
export function acroFormRule(ctx: StepContext): void {
  let formRef;
  try {
    formRef = ctx.cur.catalog().get('AcroForm');
  } catch {
    return;
  }
  const beforeForm = dictOf(ctx.prev.resolve(safeGet(ctx, 'AcroForm')));
  const afterForm = dictOf(ctx.cur.resolve(formRef));
  if (formRef instanceof PdfRef) {
    const keys = changedKeys(beforeForm, afterForm);
    const other = keys.filter((k) => !BOOKKEEPING.has(k));
    ctx.explain(formRef.num, other.length
      ? { rule: 'acroform', category: 'other', need: 'never', description: `form dictionary changed: ${other.join(', ')}` }
      : { rule: 'acroform', category: 'signing', need: 'always', description: `form dictionary: ${keys.join(', ') || 'rewritten'} updated` });
  }
  const fieldsRef = afterForm?.get('Fields');
  const beforeFields = refList(ctx.prev.resolve(beforeForm?.get('Fields')));
  const afterFields = new Set(refList(ctx.cur.resolve(fieldsRef)));
  const removed = beforeFields.filter((n) => !afterFields.has(n));
  const removal = removed.length > 0
    ? { rule: 'acroform', category: 'other' as const, need: 'never' as const, description: `form fields ${removed.join(', ')} removed from the form` }
    : { rule: 'acroform', category: 'signing' as const, need: 'always' as const, description: 'form field list updated' };
  if (fieldsRef instanceof PdfRef) ctx.explain(fieldsRef.num, removal);
  else if (removed.length > 0 && formRef instanceof PdfRef) ctx.explained.set(formRef.num, removal);
  // Default resources: signing tools add the fonts of their appearances here. The resource
  // dictionaries may gain entries; the fonts and images already there may not change.
  const resources = { rule: 'acroform', category: 'signing' as const, need: 'always' as const, description: 'form default resources (/DR) updated' };
  // (A resource dictionary may be shared with a page: gaining a name changes nothing a page
  // draws, changing one would.)
  const dr = afterForm?.get('DR');
  const drChange = dr instanceof PdfRef ? ctx.change(dr.num) : undefined;
  if (drChange?.kind === 'modified' && onlyGainsEntries(drChange.before, drChange.after)) ctx.explain(drChange.num, resources);
  for (const value of dictOf(ctx.cur.resolve(dr))?.entries.values() ?? []) {
    const change = value instanceof PdfRef ? ctx.change(value.num) : undefined;
    if (change?.kind === 'modified' && change.after instanceof PdfDict && onlyGainsEntries(change.before, change.after)) {
      ctx.explain(change.num, resources);
      ctx.explainNewFrom(change.after, { ...resources, description: 'form default resources' });
    }
  }
  ctx.explainNewFrom(dr, { ...resources, description: 'form default resources' });
}

/** A dictionary that kept every entry it had, unchanged, and only gained new ones. */
function onlyGainsEntries(before: PdfValue | undefined, after: PdfValue | undefined): boolean {
  if (!(before instanceof PdfDict) || !(after instanceof PdfDict)) return false;
  return [...before.entries].every(([key, value]) => sameValue(value, after.get(key)));
}

function safeGet(ctx: StepContext, key: string) {
  try {
    return ctx.prev.catalog().get(key);
  } catch {
    return undefined;
  }
}
