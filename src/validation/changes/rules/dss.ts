import type { RevisionView } from '../../../pdf/document.js';
import { PdfRef, type PdfValue } from '../../../pdf/objects.js';
import type { StepContext } from '../step.js';
import type { Explanation } from '../types.js';
import { dictOf } from '../values.js';

/** The objects that make up a revision's /DSS: the dictionary, its arrays, VRI entries and evidence streams. */
function dssObjects(view: RevisionView): { containers: Set<number>; evidence: Set<number> } {
  const containers = new Set<number>();
  const evidence = new Set<number>();
  const refNum = (v: PdfValue | undefined): number | undefined => (v instanceof PdfRef ? v.num : undefined);
  const addArray = (value: PdfValue | undefined): void => {
    const n = refNum(value);
    if (n !== undefined) containers.add(n);
    const items = view.resolve(value);
    if (Array.isArray(items)) for (const item of items) if (item instanceof PdfRef) evidence.add(item.num);
  };
  let dssRef: PdfValue | undefined;
  try {
    dssRef = view.catalog().get('DSS');
  } catch {
    return { containers, evidence };
  }
  const dss = dictOf(view.resolve(dssRef));
  if (!dss) return { containers, evidence };
  if (dssRef instanceof PdfRef) containers.add(dssRef.num);
  for (const key of ['Certs', 'OCSPs', 'CRLs']) addArray(dss.get(key));
  const vriRef = dss.get('VRI');
  if (vriRef instanceof PdfRef) containers.add(vriRef.num);
  const vri = dictOf(view.resolve(vriRef));
  let count = 0;
  for (const value of vri?.entries.values() ?? []) {
    if (++count > 100_000) break;
    if (value instanceof PdfRef) containers.add(value.num);
    const entry = dictOf(view.resolve(value));
    if (!entry) continue;
    for (const key of ['Cert', 'OCSP', 'CRL']) addArray(entry.get(key));
    const ts = entry.get('TS');
    if (ts instanceof PdfRef) evidence.add(ts.num);
  }
  return { containers, evidence };
}

/**
 * Validation data (ISO 32000-2 12.8.4.3, ETSI EN 319 142-1): the /DSS dictionary, its VRI entries
 * and the certificates, OCSP responses and CRLs they list. New evidence must be new objects: an
 * object of the signed revision put into the DSS is not explained by it.
 */
export function dssRule(ctx: StepContext): void {
  const before = dssObjects(ctx.prev);
  const after = dssObjects(ctx.cur);
  const explanation = (what: string, num: number): Explanation => ({ rule: 'dss', category: 'security', need: 'always', description: `${what} (object ${num})` });
  for (const num of after.containers) {
    if (ctx.isAdded(num) || before.containers.has(num)) ctx.explain(num, explanation('validation data: /DSS or /VRI structure', num));
  }
  for (const num of after.evidence) {
    if (ctx.isAdded(num) || before.evidence.has(num)) ctx.explain(num, explanation('validation data: certificate, OCSP response, CRL or timestamp', num));
  }
}
