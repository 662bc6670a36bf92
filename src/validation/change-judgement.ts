import { rethrowIfOutOfTime } from '../pdf/limits/deadline.js';
import type { PdfDocument } from '../pdf/document.js';
import { certificationSignatureRef, lockCovers, type SignatureEntry } from '../pdf/signatures.js';
import { judgeChange, type ModificationConstraints } from './changes/permissions.js';
import type { ExplainedChange } from './changes/types.js';
import type { ChangeReport, SignatureReport } from './report.js';

/**
 * The certification and locks of the document: the certification is the signature the catalog
 * names in `/Perms /DocMDP` (in the first revision that has one), not any signature that merely
 * carries a DocMDP reference.
 */
export function modificationConstraints(doc: PdfDocument, signatures: Array<{ report: SignatureReport; entry: SignatureEntry; decision: { formatFailure: boolean } }>): ModificationConstraints {
  let certRef: number | undefined;
  for (let i = 0; i < doc.revisions.length && certRef === undefined; i++) {
    try {
      certRef = certificationSignatureRef(doc.view(i));
    } catch (err) {
      rethrowIfOutOfTime(err);
    }
  }
  const validates = new Map<number, boolean>();
  let certification: ModificationConstraints['certification'];
  const locks: ModificationConstraints['locks'] = [];
  for (const { report, entry, decision } of signatures) {
    const sigNum = entry.sigRef?.num;
    const revision = report.revision ?? (sigNum !== undefined ? doc.latest.definedIn(sigNum) : undefined);
    if (sigNum !== undefined) {
      validates.set(sigNum, !decision.formatFailure && report.integrity.messageDigestMatches === true && report.integrity.signatureValid === true && report.certificatePath.trustAnchorReached);
      if (sigNum === certRef && revision !== undefined && report.kind === 'signature') {
        certification = { revision, permission: entry.docMdpPermission ?? 2, field: entry.fieldName };
      }
    }
    const lock = entry.fieldLock;
    if (lock && revision !== undefined) locks.push({ revision, by: entry.fieldName, locks: (name) => name !== entry.fieldName && lockCovers(lock, name) });
  }
  return { certification, locks, signatureValidates: (num) => validates.get(num) === true };
}

/** Fills in a signature's changes after signing: every change of every later revision, judged. */
export function judgeChanges(report: SignatureReport, steps: ExplainedChange[][], constraints: ModificationConstraints): void {
  const changes: ChangeReport[] = steps.slice(report.revision! + 1).flat().map((change) => {
    const verdict = judgeChange(change, constraints);
    const attack = verdict.attack ?? change.attack;
    return {
      revision: change.revision,
      object: change.object,
      kind: change.kind,
      category: change.category,
      rule: change.rule,
      description: change.description,
      permitted: verdict.permitted,
      ...(verdict.reason && !verdict.permitted ? { reason: verdict.reason } : {}),
      ...(attack && !verdict.permitted ? { attack } : {}),
      ...(change.overlay ? { overlay: true } : {}),
      ...(change.pages ? { pages: change.pages } : {}),
    };
  });
  const forbidden = changes.filter((c) => !c.permitted);
  report.changesAfterSigning = { permitted: forbidden.length === 0, changes };
  const overlays = changes.filter((c) => c.overlay && (c.category === 'annotation' || c.kind === 'added'));
  if (overlays.length) {
    report.problems.push(`${overlays.length} annotation(s) or widget(s) were added after signing and are drawn over the signed content: what is seen may differ from what was signed (${overlays.map((c) => c.description).slice(0, 3).join('; ')})`);
  }
  if (forbidden.length) {
    const pages = [...new Set(forbidden.flatMap((c) => c.pages ?? []))];
    const attacks = [...new Set(forbidden.map((c) => c.attack).filter(Boolean))];
    problemsFor(report, forbidden, pages, attacks);
  }
}

function problemsFor(report: SignatureReport, forbidden: ChangeReport[], pages: number[], attacks: Array<string | undefined>): void {
  const listed = forbidden.slice(0, 5).map((c) => `${c.description}${c.reason ? ` (${c.reason})` : ''}`).join('; ');
  report.problems.push(
    `the document was changed after signing in a way that is not permitted: ${listed}${forbidden.length > 5 ? `; and ${forbidden.length - 5} more` : ''}${pages.length ? ` (pages ${pages.join(', ')})` : ''}${attacks.length ? ` [${attacks.join(', ')}]` : ''}`,
  );
}
