import { PdfRef } from '../../../pdf/objects.js';
import type { StepContext } from '../step.js';
import { changedKeys, dictOf, refList } from '../values.js';

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
  ctx.explainNewFrom(afterForm?.get('DR'), { rule: 'acroform', category: 'signing', need: 'always', description: 'form default resources' });
}

function safeGet(ctx: StepContext, key: string) {
  try {
    return ctx.prev.catalog().get(key);
  } catch {
    return undefined;
  }
}
