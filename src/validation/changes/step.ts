import { checkDeadline } from '../../pdf/limits/deadline.js';
import type { RevisionView } from '../../pdf/document.js';
import { PdfDict, PdfRef, PdfStream, type PdfValue } from '../../pdf/objects.js';
import type { Explanation, RawChange } from './types.js';
import { refsWithin } from './values.js';

/** What a rule sees of one step from revision N-1 to revision N, and how it explains changes. */
export class StepContext {
  readonly explained = new Map<number, Explanation>();
  private pageNumbers: Map<number, number> | undefined;

  constructor(
    readonly prev: RevisionView,
    readonly cur: RevisionView,
    readonly changes: Map<number, RawChange>,
    /** Numbers the previous revision referenced without defining them. */
    readonly danglingBefore: Set<number>,
  ) {}

  get revision(): number {
    return this.cur.index;
  }

  change(num: number | undefined): RawChange | undefined {
    return num === undefined ? undefined : this.changes.get(num);
  }

  isAdded(num: number): boolean {
    return this.changes.get(num)?.kind === 'added' && !this.danglingBefore.has(num);
  }

  /** Explains a changed object, unless a rule already did (the first explanation stands). */
  explain(num: number | undefined, explanation: Explanation): void {
    if (num === undefined || !this.changes.has(num) || this.explained.has(num)) return;
    this.explained.set(num, explanation);
  }

  /**
   * Explains every object newly added in this step that is reachable from `value` through other
   * new objects: the appearance streams, fonts and images of a new widget, say. Changed objects
   * of earlier revisions are never taken along: each of them needs a rule of its own.
   */
  explainNewFrom(value: PdfValue | undefined, explanation: Explanation, limit = 10_000): void {
    const pending = refsWithin(value);
    const seen = new Set<number>();
    while (pending.length > 0 && seen.size < limit) {
      const num = pending.pop()!;
      if (seen.has(num)) continue;
      seen.add(num);
      if ((seen.size & 0x3ff) === 0) checkDeadline();
      if (!this.isAdded(num)) continue;
      this.explain(num, explanation);
      const object = this.cur.getObject(num);
      if (object instanceof PdfDict || object instanceof PdfStream || Array.isArray(object)) refsWithin(object, pending);
    }
  }

  /** 1-based page number of a page object: as the later revision numbers it, else the earlier (a removed page). */
  pageOf(num: number): number | undefined {
    if (!this.pageNumbers) {
      this.pageNumbers = new Map();
      for (const view of [this.cur, this.prev]) {
        try {
          for (const page of view.pages()) if (!this.pageNumbers.has(page.ref.num)) this.pageNumbers.set(page.ref.num, page.index + 1);
        } catch {
          // a broken page tree: changes are still judged, only without page numbers
        }
      }
    }
    return this.pageNumbers.get(num);
  }

  /** The page an annotation sits on: its `/P`, else the page whose `/Annots` lists it. */
  pageOfAnnotation(num: number, annot: PdfDict | undefined): number | undefined {
    const p = annot?.get('P');
    if (p instanceof PdfRef && this.pageOf(p.num)) return this.pageOf(p.num);
    try {
      for (const page of this.cur.pages()) {
        const annots = this.cur.resolve(page.dict.get('Annots'));
        if (Array.isArray(annots) && annots.some((a) => a instanceof PdfRef && a.num === num)) return page.index + 1;
      }
    } catch {
      // no page tree: no page number
    }
    return undefined;
  }
}
