import { PdfRef, PdfStream } from '../../../pdf/objects.js';
import type { StepContext } from '../step.js';
import { changedKeys, dictOf, refsWithin, typeName } from '../values.js';

/**
 * Default deny: whatever no rule explained is a change to the signed document. This names what it
 * is as precisely as it can (page content, the page tree, a filled dangling reference), so the
 * report says what a person would see changed. An object the document uses neither before nor
 * after the change (added, changed or deleted) is not displayed and only reported.
 */
export function unexplainedRule(ctx: StepContext, reachable: Set<number>, reachableBefore: Set<number>): void {
  const contentOwners = contentStreamPages(ctx);
  for (const change of ctx.changes.values()) {
    if (ctx.explained.has(change.num)) continue;
    const num = change.num;
    const type = typeName(change.after ?? change.before);
    const page = ctx.pageOf(num) ?? contentOwners.get(num);
    const pages = page ? { pages: [page] } : {};
    if (ctx.danglingBefore.has(num)) {
      ctx.explain(num, { rule: 'default-deny', category: 'other', need: 'never', attack: 'dangling-reference', ...pages, description: `object ${num} was referenced by the signed revision but not defined there; defining it later changes signed content${page ? ` on page ${page}` : ''}` });
    } else if (change.kind === 'added' && !reachable.has(num)) {
      ctx.explain(num, { rule: 'unreferenced', category: 'structure', need: 'always', description: `object ${num} added but not used by the document (not displayed)` });
    } else if (!reachableBefore.has(num) && !reachable.has(num)) {
      ctx.explain(num, { rule: 'unreferenced', category: 'structure', need: 'always', description: `object ${num}, which the document did not use, ${change.kind === 'deleted' ? 'deleted' : 'changed'} (not displayed)` });
    } else if (change.kind === 'deleted') {
      ctx.explain(num, { rule: 'default-deny', category: 'other', need: 'never', ...pages, description: `object ${num}${type ? ` (${type})` : ''} deleted` });
    } else if (ctx.pageOf(num) !== undefined) {
      const keys = changedKeys(dictOf(change.before), dictOf(change.after));
      ctx.explain(num, { rule: 'default-deny', category: 'other', need: 'never', attack: 'incremental-saving', ...pages, description: `page ${page} changed: ${keys.join(', ') || 'rewritten'}${keys.includes('Contents') ? ' (new page content)' : ''}` });
    } else if (contentOwners.has(num)) {
      ctx.explain(num, { rule: 'default-deny', category: 'other', need: 'never', attack: 'incremental-saving', ...pages, description: `content stream ${num} of page ${page} replaced` });
    } else if (type === 'Pages') {
      ctx.explain(num, { rule: 'default-deny', category: 'other', need: 'never', attack: 'incremental-saving', description: `page tree node ${num} changed (pages added, removed or reordered)` });
    } else {
      const what = change.after instanceof PdfStream ? `stream object ${num}${type ? ` (${type})` : ''}` : `object ${num}${type ? ` (${type})` : ''}`;
      ctx.explain(num, { rule: 'default-deny', category: 'other', need: 'never', ...pages, description: `${what} ${change.kind === 'added' ? 'added and used by the document' : 'changed'}` });
    }
  }
}

/** Content streams (and their direct form XObjects) of each page, in either revision: number -> page. */
function contentStreamPages(ctx: StepContext): Map<number, number> {
  const owners = new Map<number, number>();
  for (const view of [ctx.prev, ctx.cur]) {
    let pages;
    try {
      pages = view.pages();
    } catch {
      continue;
    }
    for (const page of pages) {
      const contents = page.dict.get('Contents');
      const nums = contents instanceof PdfRef ? [contents.num, ...refsWithin(view.resolve(contents))] : refsWithin(contents);
      for (const n of nums) if (!owners.has(n)) owners.set(n, page.index + 1);
      const xobjects = dictOf(view.resolve(page.resources?.get('XObject')));
      for (const value of xobjects?.entries.values() ?? []) if (value instanceof PdfRef && !owners.has(value.num)) owners.set(value.num, page.index + 1);
    }
  }
  return owners;
}
