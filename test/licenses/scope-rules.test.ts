import { describe, expect, it } from 'vitest';
import { buildLicenseIdentifier } from '../../src/licenses/identifier.js';
import { assertMayActFor, assertMayIssueWith, LicenseScopeError, purposeNameProblem } from '../../src/licenses/scope.js';

const XZSP = '11370500MB0100002L';
const SCJG = '11370500MB0100001H';
const scope = { authorities: [XZSP], sealIds: ['xzsp-approval', 'scjg-official'] };
const reasonOf = (f: () => void): string | undefined => {
  try {
    f();
    return undefined;
  } catch (err) {
    return err instanceof LicenseScopeError ? err.reason : `unexpected ${String(err)}`;
  }
};

describe('scoping rules', () => {
  it('issuing needs both the binding to the seal’s organisation and the seal', () => {
    expect(reasonOf(() => assertMayIssueWith(scope, { id: 'xzsp-approval', orgUscc: XZSP, orgName: '行政审批服务局' }))).toBeUndefined();
    expect(reasonOf(() => assertMayIssueWith(scope, { id: 'scjg-official', orgUscc: SCJG, orgName: '市场监督管理局' }))).toBe('authority-not-bound');
    expect(reasonOf(() => assertMayIssueWith(scope, { id: 'xzsp-official', orgUscc: XZSP, orgName: '行政审批服务局' }))).toBe('issuing-seal-not-permitted');
  });

  it('revoking and replacing are decided by the issuer code in the identifier', () => {
    const own = buildLicenseIdentifier({ typeCode: `${XZSP}001`, issuerCode: XZSP, serial: 'SL2026000001', version: '001' });
    const other = buildLicenseIdentifier({ typeCode: `${SCJG}001`, issuerCode: SCJG, serial: 'YYZZ2026000001', version: '001' });
    expect(reasonOf(() => assertMayActFor(scope, own))).toBeUndefined();
    expect(reasonOf(() => assertMayActFor(scope, other))).toBe('authority-not-bound');
    expect(reasonOf(() => assertMayActFor({ authorities: [], sealIds: [] }, own))).toBe('authority-not-bound');
    // not an identifier at all: no licence, which the lookup that follows reports
    expect(reasonOf(() => assertMayActFor(scope, 'not-an-identifier'))).toBeUndefined();
  });

  it('purpose names are short, printable and trimmed', () => {
    expect(purposeNameProblem('办理食品经营许可变更')).toBeNull();
    expect(purposeNameProblem('tax-registration')).toBeNull();
    expect(purposeNameProblem('')).toMatch(/1 to 64/);
    expect(purposeNameProblem('变'.repeat(65))).toMatch(/1 to 64/);
    expect(purposeNameProblem(' 核验')).toMatch(/spaces/);
    expect(purposeNameProblem('核验\u202e身份')).toMatch(/bidirectional/);
  });
});
