import { checkDeadline } from '../../pdf/limits/deadline.js';
import type { RevisionView } from '../../pdf/document.js';
import { PdfError } from '../../pdf/errors.js';
import { PdfRef, type PdfValue } from '../../pdf/objects.js';
import { refsWithin } from './values.js';

export interface ReachableObjects {
  /** Objects reachable from the trailer that exist. */
  defined: Set<number>;
  /** Numbers referenced by reachable objects that the revision does not define (dangling references). */
  dangling: Set<number>;
}

/**
 * Walks the object graph of one revision from its trailer (stream data is not decoded: content
 * streams name resources, and resources are references in dictionaries). Bounded by the
 * document's object limit; objects that cannot be parsed count as undefined.
 */
export function reachableObjects(view: RevisionView, maxObjects: number): ReachableObjects {
  const defined = new Set<number>();
  const dangling = new Set<number>();
  const pending: number[] = refsWithin([...view.trailer.entries.values()] as PdfValue);
  while (pending.length > 0) {
    const num = pending.pop()!;
    if (defined.has(num) || dangling.has(num)) continue;
    if (((defined.size + 1) & 0x3ff) === 0) checkDeadline();
    if (defined.size >= maxObjects) break;
    let value: PdfValue | undefined;
    try {
      value = view.getObject(num);
    } catch (err) {
      if (!(err instanceof PdfError) || err.code === 'LIMIT_EXCEEDED') throw err;
      value = undefined;
    }
    if (value === undefined || value === null) {
      dangling.add(num);
      continue;
    }
    defined.add(num);
    if (typeof value === 'object' && !(value instanceof PdfRef)) refsWithin(value, pending);
    else if (value instanceof PdfRef) pending.push(value.num);
  }
  return { defined, dangling };
}
