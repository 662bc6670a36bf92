import { PdfRef } from '../../../pdf/objects.js';
import type { StepContext } from '../step.js';
import { changedKeys, dictOf } from '../values.js';
import type { ChangeNeed } from '../types.js';

/** Catalog keys a later revision may change, and what each needs. AcroForm is judged by its own rule too. */
const ALLOWED: Record<string, ChangeNeed> = { DSS: 'always', AcroForm: 'always', Extensions: 'always', Version: 'always', Metadata: 'always' };
const ACROFORM_KEYS = new Set(['Fields', 'SigFlags', 'DR', 'DA', 'NeedAppearances']);
const ACTIVE = new Set(['OpenAction', 'AA', 'Names', 'JavaScript', 'URI']);

/** The document catalog: only validation data, the form and metadata may change after signing. */
export function catalogRule(ctx: StepContext): void {
  const beforeRoot = ctx.prev.trailer.get('Root');
  const afterRoot = ctx.cur.trailer.get('Root');
  if (!(afterRoot instanceof PdfRef)) return;
  if (!(beforeRoot instanceof PdfRef) || beforeRoot.num !== afterRoot.num) {
    ctx.explain(afterRoot.num, { rule: 'catalog', category: 'other', need: 'never', description: 'the document catalog was replaced by another object' });
    return;
  }
  const change = ctx.change(afterRoot.num);
  if (!change || change.kind !== 'modified') return;
  const before = dictOf(change.before);
  const after = dictOf(change.after);
  const keys = changedKeys(before, after);
  const forbidden = keys.filter((k) => !(k in ALLOWED));
  const acroFormDirect = after?.get('AcroForm') !== undefined && !(after.get('AcroForm') instanceof PdfRef);
  if (acroFormDirect && keys.includes('AcroForm')) {
    const formKeys = changedKeys(dictOf(ctx.prev.resolve(before?.get('AcroForm'))), dictOf(ctx.cur.resolve(after?.get('AcroForm'))));
    forbidden.push(...formKeys.filter((k) => !ACROFORM_KEYS.has(k)).map((k) => `AcroForm.${k}`));
  }
  if (forbidden.length > 0) {
    const active = forbidden.filter((k) => ACTIVE.has(k));
    ctx.explain(afterRoot.num, {
      rule: 'catalog',
      category: 'other',
      need: 'never',
      ...(active.length ? { attack: 'actions-added' } : {}),
      description: `document catalog changed: ${forbidden.join(', ')}${active.length ? ' (actions or scripts that run when the document is opened or used)' : ''}${forbidden.includes('Perms') ? ' (the certification was altered)' : ''}`,
    });
    return;
  }
  const metadataOnly = keys.every((k) => k === 'Metadata');
  ctx.explain(afterRoot.num, {
    rule: 'catalog',
    category: keys.includes('DSS') ? 'security' : metadataOnly ? 'metadata' : 'signing',
    need: 'always',
    description: `document catalog: ${keys.join(', ')} updated`,
  });
}
