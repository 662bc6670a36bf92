import { isName, PdfRef } from '../../../pdf/objects.js';
import type { StepContext } from '../step.js';
import type { ChangeNeed, Explanation } from '../types.js';
import { changedKeys, dictOf, refList } from '../values.js';

const rank: Record<ChangeNeed, number> = { always: 0, signature: 1, 'form-fill': 2, annotation: 3, never: 4 };

/**
 * Pages whose only change is their /Annots list. Annotations may be appended (a signature's
 * widget, or a comment: an annotation drawn over the signed page), never removed or reordered. The page change needs
 * what the strictest annotation it gained needs. Anything else changed on a page is a change to
 * signed content (the incremental saving attack), left to the default rule.
 */
export function pageAnnotationsRule(ctx: StepContext): void {
  let pages;
  try {
    pages = ctx.cur.pages();
  } catch {
    return;
  }
  for (const page of pages) {
    const pageChange = ctx.change(page.ref.num);
    const annotsValue = page.dict.get('Annots');
    const arrayChange = annotsValue instanceof PdfRef ? ctx.change(annotsValue.num) : undefined;
    if (!pageChange && !arrayChange) continue;
    const pageNo = page.index + 1;
    if (pageChange) {
      if (pageChange.kind !== 'modified') continue; // a new page: the page tree changed, judged by default
      const keys = changedKeys(dictOf(pageChange.before), page.dict);
      if (keys.some((k) => k !== 'Annots')) continue;
    }
    const beforeAnnots = refList(ctx.prev.resolve(dictOf(ctx.prev.getObject(page.ref.num))?.get('Annots')));
    const afterAnnots = refList(ctx.cur.resolve(annotsValue));
    const kept = new Set(afterAnnots);
    const removed = beforeAnnots.filter((n) => !kept.has(n));
    const reordered = removed.length === 0 && beforeAnnots.some((n, i) => afterAnnots[i] !== n);
    const previous = new Set(beforeAnnots);
    const added = afterAnnots.filter((n) => !previous.has(n));
    let explanation: Explanation;
    if (removed.length > 0) {
      explanation = { rule: 'page-annotations', category: 'other', need: 'never', pages: [pageNo], description: `annotations ${removed.join(', ')} removed from page ${pageNo}` };
    } else if (reordered) {
      // The order of /Annots is the order they are drawn in: reordering changes what covers what.
      explanation = { rule: 'page-annotations', category: 'other', need: 'never', pages: [pageNo], description: `the annotations of page ${pageNo} were reordered (what is drawn on top changed)` };
    } else {
      let need: ChangeNeed = 'always';
      for (const num of added) {
        const annot = dictOf(ctx.cur.getObject(num));
        const own = ctx.explained.get(num);
        const annotNeed: ChangeNeed = own ? own.need : isName(annot?.get('Subtype'), 'Widget') ? 'form-fill' : 'annotation';
        if (rank[annotNeed] > rank[need]) need = annotNeed;
        if (!own && annot && !isName(annot.get('Subtype'), 'Widget')) explainAnnotation(ctx, num, pageNo);
      }
      explanation = { rule: 'page-annotations', category: need === 'annotation' ? 'annotation' : 'signing', need, pages: [pageNo], description: `${added.length} annotation(s) added to page ${pageNo}` };
    }
    if (pageChange) ctx.explain(page.ref.num, explanation);
    if (arrayChange && annotsValue instanceof PdfRef) ctx.explain(annotsValue.num, explanation);
  }
}

function explainAnnotation(ctx: StepContext, num: number, pageNo: number): void {
  const annot = dictOf(ctx.cur.getObject(num));
  const subtype = isName(annot?.get('Subtype')) ? (annot!.get('Subtype') as { value: string }).value : 'unknown';
  const rect = annot?.get('Rect');
  const where = Array.isArray(rect) ? ` at [${rect.map((n) => (typeof n === 'number' ? Math.round(n) : '?')).join(' ')}]` : '';
  const existing = !ctx.isAdded(num) && !ctx.changes.has(num);
  const base: Explanation = {
    rule: 'annotations',
    category: 'annotation',
    need: 'annotation',
    pages: [pageNo],
    overlay: true,
    ...(existing ? { attack: 'shadow-hide-and-replace' } : {}),
    description: existing
      ? `${subtype} annotation ${num}, present but unused in the signed revision, was put on page ${pageNo}${where}: it is drawn over the signed content`
      : `${subtype} annotation added on page ${pageNo}${where}: it is drawn over the signed page and can hide or replace signed content (overlay)`,
  };
  ctx.explain(num, base);
  ctx.explainNewFrom(annot?.get('AP'), { ...base, overlay: false, description: `appearance of annotation ${num}` });
  ctx.explainNewFrom(annot?.get('Popup'), { ...base, overlay: false, description: `pop-up of annotation ${num}` });
}
