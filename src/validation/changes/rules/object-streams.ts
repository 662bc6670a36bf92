import { PdfStream } from '../../../pdf/objects.js';
import type { StepContext } from '../step.js';
import { typeName } from '../values.js';

/**
 * Xref streams and object streams are containers, judged by what the xref does with them, not by
 * what their dictionary claims: an xref stream is accepted when it is one of this revision's xref
 * sections, an object stream when this revision's xref takes objects from it; either only under
 * a number the earlier revision did not use, or used for a container of the same kind.
 */
export function objectStreamsRule(ctx: StepContext): void {
  const revision = ctx.cur.revision;
  const sectionOffsets = new Set(revision.sections.flatMap((s) => [s.offset, ...(s.xrefStreamOffset !== undefined ? [s.xrefStreamOffset] : [])]));
  const containers = new Set<number>();
  for (const entry of revision.entries.values()) if (entry.kind === 'compressed') containers.add(entry.stream);
  for (const change of ctx.changes.values()) {
    const type = typeName(change.after);
    if (!(change.after instanceof PdfStream) || (type !== 'XRef' && type !== 'ObjStm')) continue;
    const entry = ctx.cur.entry(change.num);
    const used = type === 'XRef' ? entry?.kind === 'offset' && sectionOffsets.has(entry.offset) : containers.has(change.num);
    // A number that held a container of the same kind before (a writer reusing its xref stream's
    // number, say) overrides no content.
    if (used && (ctx.isAdded(change.num) || typeName(change.before) === type)) {
      ctx.explain(change.num, { rule: 'object-streams', category: 'structure', need: 'always', description: `${type === 'XRef' ? 'cross-reference' : 'object'} stream ${change.num} of the update` });
    } else {
      ctx.explain(change.num, {
        rule: 'object-streams',
        category: 'other',
        need: 'never',
        attack: 'type-spoofing',
        description: used
          ? `object ${change.num}, which the signed revision used for other content, was redefined as a ${type === 'XRef' ? 'cross-reference' : 'object'} stream`
          : `object ${change.num} was changed and claims to be a ${type === 'XRef' ? 'cross-reference' : 'object'} stream, but the xref does not use it as one (/Type spoofing)`,
      });
    }
  }
}
