import { checkDeadline, rethrowIfOutOfTime } from '../../pdf/limits/deadline.js';
import type { PdfDocument, RevisionView } from '../../pdf/document.js';
import { PdfError } from '../../pdf/errors.js';
import { scanObjectHeaders } from '../../pdf/reconstruct.js';
import { decodeStream } from '../../pdf/filters.js';
import { PdfStream, type PdfValue } from '../../pdf/objects.js';
import { reachableObjects, type ReachableObjects } from './graph.js';
import { acroFormRule } from './rules/acroform.js';
import { catalogRule } from './rules/catalog.js';
import { dssRule } from './rules/dss.js';
import { formFillRule } from './rules/form-fill.js';
import { metadataRule } from './rules/metadata.js';
import { objectStreamsRule } from './rules/object-streams.js';
import { pageAnnotationsRule } from './rules/page-annotations.js';
import { signatureFieldsRule } from './rules/signature-fields.js';
import { unexplainedRule } from './rules/unexplained.js';
import { StepContext } from './step.js';
import type { ExplainedChange, RawChange } from './types.js';
import { changedKeys, sameValue } from './values.js';

/** The rules, in the order they get to explain objects (the first explanation of an object stands). */
const RULES: Array<(ctx: StepContext) => void> = [objectStreamsRule, catalogRule, dssRule, acroFormRule, signatureFieldsRule, pageAnnotationsRule, formFillRule, metadataRule];

function read(view: RevisionView, num: number): PdfValue | undefined {
  try {
    return view.getObject(num);
  } catch (err) {
    rethrowIfOutOfTime(err);
    if (err instanceof PdfError && err.code === 'LIMIT_EXCEEDED') throw err;
    return undefined;
  }
}

/** Objects compressed in each object stream, in any revision: a redefined container changes them all. */
function objectStreamMembers(doc: PdfDocument): Map<number, number[]> {
  const members = new Map<number, number[]>();
  for (const revision of doc.revisions) {
    for (const [num, entry] of revision.entries) {
      if (entry.kind !== 'compressed') continue;
      const list = members.get(entry.stream);
      if (list) list.push(num);
      else members.set(entry.stream, [num]);
    }
  }
  return members;
}

const ENCODING_KEYS = new Set(['Length', 'Filter', 'DecodeParms', 'DL']);
const MAX_COMPARED_STREAM_BYTES = 16 * 1024 * 1024;

/**
 * A stream written again with another encoding (recompressed, say) holds the same content:
 * writers do that on incremental saves, and it changes nothing a reader sees.
 */
function sameStreamContent(before: PdfValue, after: PdfValue): boolean {
  if (!(before instanceof PdfStream) || !(after instanceof PdfStream)) return false;
  const keys = changedKeys(before.dict, after.dict);
  if (keys.some((k) => !ENCODING_KEYS.has(k))) return false;
  try {
    return decodeStream(before, MAX_COMPARED_STREAM_BYTES).equals(decodeStream(after, MAX_COMPARED_STREAM_BYTES));
  } catch (err) {
    rethrowIfOutOfTime(err);
    return false;
  }
}

function rawChanges(prev: RevisionView, cur: RevisionView, members: Map<number, number[]>): Map<number, RawChange> {
  const candidates = new Set(cur.revision.entries.keys());
  for (const num of cur.revision.entries.keys()) for (const member of members.get(num) ?? []) candidates.add(member);
  const changes = new Map<number, RawChange>();
  let count = 0;
  for (const num of candidates) {
    if ((++count & 0x3ff) === 0) checkDeadline();
    if (num === 0 || prev.location(num) === cur.location(num)) continue;
    const before = read(prev, num);
    const after = read(cur, num);
    if (before === undefined && after === undefined) continue;
    if (before !== undefined && after !== undefined && (sameValue(before, after) || sameStreamContent(before, after))) continue;
    changes.set(num, { num, kind: before === undefined ? 'added' : after === undefined ? 'deleted' : 'modified', before, after });
  }
  return changes;
}

/** Contradictions in how the update is written: objects listed twice, or defined where its xref does not look. */
function structuralFindings(doc: PdfDocument, prev: RevisionView, cur: RevisionView): ExplainedChange[] {
  const findings: ExplainedChange[] = [];
  const revision = cur.index;
  for (const section of cur.revision.sections) {
    for (const conflict of section.conflicts) {
      findings.push({ object: conflict.num, revision, kind: 'modified', rule: 'xref-structure', category: 'other', need: 'never', attack: 'xref-manipulation', description: conflict.message });
    }
  }
  const start = prev.revision.end;
  const end = cur.revision.end;
  for (const [num, offsets] of scanObjectHeaders(doc.bytes, start, end)) {
    for (const offset of offsets) {
      const entry = cur.entry(num);
      if (entry?.kind === 'offset' && entry.offset === offset) continue;
      findings.push({
        object: num,
        revision,
        kind: 'modified',
        rule: 'xref-structure',
        category: 'other',
        need: 'never',
        attack: 'xref-manipulation',
        description: `object ${num} is defined in the update at offset ${offset}, but the update's xref does not point there (a second definition that some readers show)`,
      });
      if (findings.length > 100) return findings;
    }
  }
  return findings;
}

/**
 * Explains every change of every revision against the one before it. Done once per file; each
 * signature then judges the steps after its own revision.
 */
export function analyseRevisions(doc: PdfDocument): ExplainedChange[][] {
  const members = objectStreamMembers(doc);
  const graphs = new Map<number, ReachableObjects>();
  const graph = (view: RevisionView): ReachableObjects => {
    let known = graphs.get(view.index);
    if (!known) {
      known = reachableObjects(view, doc.limits.maxObjects);
      graphs.set(view.index, known);
    }
    return known;
  };
  const steps: ExplainedChange[][] = [[]];
  for (let k = 1; k < doc.revisions.length; k++) {
    checkDeadline();
    const prev = doc.view(k - 1);
    const cur = doc.view(k);
    const ctx = new StepContext(prev, cur, rawChanges(prev, cur, members), graph(prev).dangling);
    for (const rule of RULES) rule(ctx);
    unexplainedRule(ctx, graph(cur).defined, graph(prev).defined);
    const explained: ExplainedChange[] = [...ctx.explained].map(([object, explanation]) => ({ object, revision: k, kind: ctx.changes.get(object)!.kind, ...explanation }));
    explained.sort((a, b) => a.object - b.object);
    steps.push([...structuralFindings(doc, prev, cur), ...explained]);
  }
  return steps;
}
