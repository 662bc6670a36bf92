import { isName, PdfRef, type PdfDict } from '../../../pdf/objects.js';
import type { StepContext } from '../step.js';
import type { ChangeNeed, Explanation } from '../types.js';
import { terminalFields, type FieldInfo } from '../../../pdf/form-fields.js';
import { changedKeys, dictOf } from '../values.js';

const FIELD_KEYS = new Set(['V', 'AP', 'AS', 'MK', 'DA', 'Kids']);
const WIDGET_KEYS = new Set(['AP', 'AS', 'MK']);

function visible(widget: PdfDict | undefined): boolean {
  const rect = widget?.get('Rect');
  const flags = widget?.get('F');
  const hidden = typeof flags === 'number' && (flags & 0b10) !== 0; // Hidden
  if (hidden || !Array.isArray(rect) || rect.length !== 4 || !rect.every((n) => typeof n === 'number')) return false;
  const [a, b, c, d] = rect as number[];
  return Math.abs(c! - a!) > 0 && Math.abs(d! - b!) > 0;
}

/**
 * Signature fields added or signed in this step: the field, its signature dictionary, widgets and
 * their appearance streams. A document timestamp is always allowed; a signature follows the
 * DocMDP rules; an empty visible signature field is only a picture on the page (an annotation).
 */
export function signatureFieldsRule(ctx: StepContext): void {
  const beforeByNum = new Map<number, FieldInfo>();
  for (const field of safeFields(ctx, 'prev')) if (field.num !== undefined) beforeByNum.set(field.num, field);
  for (const field of safeFields(ctx, 'cur')) {
    if (field.type !== 'Sig') continue;
    const before = field.num !== undefined ? beforeByNum.get(field.num) : undefined;
    const fieldChange = ctx.change(field.num);
    if (field.num !== undefined && !fieldChange && before) continue; // untouched
    const v = field.dict.get('V');
    const sigNum = v instanceof PdfRef ? v.num : undefined;
    const sig = dictOf(ctx.cur.resolve(v));
    const wasSigned = before?.dict.get('V') !== undefined;
    if (wasSigned) {
      // A signed field is signed content: its value and its look stay as they were (changes to
      // its separate widgets are left to the default rule, which refuses them too).
      const keys = fieldChange ? changedKeys(before!.dict, field.dict) : [];
      if (fieldChange) ctx.explain(field.num, { rule: 'signature-fields', category: 'other', need: 'never', description: `signature field "${field.name}" changed after it was signed: ${keys.join(', ')}${keys.includes('V') ? ' (its signature was replaced)' : ''}` });
      continue;
    }
    if (sigNum !== undefined && !ctx.isAdded(sigNum)) {
      // A newly filled field must bring its own new signature: one that shows the signature
      // dictionary of another field makes a valid signature appear wherever its widget is.
      ctx.explain(field.num ?? sigNum, { rule: 'signature-fields', category: 'other', need: 'never', attack: 'sneaky-signature', description: `signature field "${field.name}" shows signature dictionary ${sigNum}, which existed before this revision (a signature reused in a new place)` });
      continue;
    }
    const isTimestamp = isName(sig?.get('Type'), 'DocTimeStamp') || isName(sig?.get('SubFilter'), 'ETSI.RFC3161');
    const widgets = field.widgets.map((n) => ({ num: n, dict: dictOf(ctx.cur.getObject(n)) }));
    const shown = widgets.some((w) => visible(w.dict));
    const need: ChangeNeed = sig ? (isTimestamp ? 'always' : 'signature') : shown ? 'annotation' : 'signature';
    const base: Explanation = {
      rule: isTimestamp ? 'document-timestamp' : 'signature-fields',
      category: isTimestamp ? 'security' : 'signing',
      need,
      description: '',
      ...(before ? { field: field.name } : {}),
      ...(sigNum !== undefined && sig && !isTimestamp ? { signatureDict: sigNum } : {}),
      ...(shown ? { overlay: true } : {}),
    };
    const what = isTimestamp ? 'document timestamp' : sig ? 'signature' : 'empty signature field';
    if (sigNum !== undefined && (ctx.isAdded(sigNum) || !before)) ctx.explain(sigNum, { ...base, overlay: false, description: `${what} dictionary of field "${field.name}"` });
    if (fieldChange) {
      const keys = fieldChange.kind === 'modified' ? changedKeys(before?.dict ?? dictOf(fieldChange.before), field.dict) : [];
      const bad = keys.filter((k) => !FIELD_KEYS.has(k) && !(field.widgets.includes(field.num!) && WIDGET_KEYS.has(k)));
      ctx.explain(field.num, bad.length
        ? { ...base, category: 'other', need: 'never', description: `signature field "${field.name}" changed: ${bad.join(', ')}` }
        : { ...base, description: `${what} field "${field.name}" ${fieldChange.kind === 'added' ? 'added' : 'filled'}` });
    }
    for (const widget of widgets) {
      const change = ctx.change(widget.num);
      if (change?.kind === 'modified') {
        const bad = changedKeys(dictOf(change.before), widget.dict).filter((k) => !WIDGET_KEYS.has(k) && !FIELD_KEYS.has(k));
        if (bad.length) {
          ctx.explain(widget.num, { ...base, category: 'other', need: 'never', description: `widget of signature field "${field.name}" changed: ${bad.join(', ')}` });
          continue;
        }
      }
      const page = ctx.pageOfAnnotation(widget.num, widget.dict);
      ctx.explain(widget.num, { ...base, description: `${what} widget of "${field.name}"${page ? ` on page ${page}` : ''}`, ...(page ? { pages: [page] } : {}) });
      ctx.explainNewFrom(widget.dict?.get('AP'), { ...base, overlay: false, description: `appearance of the ${what} "${field.name}"` });
      ctx.explainNewFrom(widget.dict?.get('MK'), { ...base, overlay: false, description: `appearance characteristics of the ${what} "${field.name}"` });
    }
    if (sig) ctx.explainNewFrom(sig, { ...base, overlay: false, description: `objects of the ${what} dictionary of "${field.name}"` });
  }
}

function safeFields(ctx: StepContext, which: 'prev' | 'cur'): FieldInfo[] {
  try {
    return terminalFields(which === 'prev' ? ctx.prev : ctx.cur);
  } catch (err) {
    if (which === 'cur') throw err;
    return [];
  }
}
