import type { StepContext } from '../step.js';
import { terminalFields } from '../../../pdf/form-fields.js';
import { changedKeys, dictOf } from '../values.js';

const VALUE_KEYS = new Set(['V', 'AS', 'AP']);

/**
 * Filling in form fields (not signature fields): a field's /V, and the /AS and /AP of its widgets.
 * Needs DocMDP P>=2 (or no certification) and no FieldMDP lock on the field.
 */
export function formFillRule(ctx: StepContext): void {
  let fields;
  try {
    fields = terminalFields(ctx.cur);
  } catch {
    return;
  }
  for (const field of fields) {
    if (field.type === 'Sig') continue;
    const targets = new Set([...(field.num !== undefined ? [field.num] : []), ...field.widgets]);
    for (const num of targets) {
      const change = ctx.change(num);
      if (!change || change.kind !== 'modified') continue;
      const keys = changedKeys(dictOf(change.before), dictOf(change.after));
      if (keys.some((k) => !VALUE_KEYS.has(k))) continue;
      const explanation = { rule: 'form-fill', category: 'form' as const, need: 'form-fill' as const, field: field.name, description: `form field "${field.name}" filled in (${keys.join(', ')})` };
      ctx.explain(num, explanation);
      ctx.explainNewFrom(dictOf(change.after)?.get('AP'), { ...explanation, description: `appearance of form field "${field.name}"` });
    }
  }
}
