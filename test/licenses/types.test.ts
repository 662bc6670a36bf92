import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLicenseIdentifier, parseLicenseIdentifier } from '../../src/licenses/identifier.js';
import { loadLicenseTypes, LicenseTypeError } from '../../src/licenses/types.js';
import { validateLicenseRequest } from '../../src/licenses/validate.js';
import { startService, type RunningService } from '../helpers/service.js';
import { tempDir } from '../helpers/tools.js';

const templates = fileURLToPath(new URL('../../templates', import.meta.url));

describe('license identifiers (GB/T 36904)', () => {
  it('reproduces the check characters of real identifiers', () => {
    for (const id of [
      '1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U',
      '1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F',
      '1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0',
      '1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9',
    ]) {
      expect(parseLicenseIdentifier(id), id).not.toBeNull();
    }
    expect(parseLicenseIdentifier('1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.V')).toBeNull();
    expect(parseLicenseIdentifier('1.2.3.4')).toBeNull();
  });

  it('builds identifiers that parse back, and refuses bad parts', () => {
    const id = buildLicenseIdentifier({ typeCode: '11370500MB0100001H001', issuerCode: '11370500MB0100001H', serial: '2026000001', version: '001' });
    expect(parseLicenseIdentifier(id)).toEqual({ typeCode: '11370500MB0100001H001', issuerCode: '11370500MB0100001H', serial: '2026000001', version: '001' });
    expect(() => buildLicenseIdentifier({ typeCode: '11370500MB0100001H001', issuerCode: '11370500MB0100001X', serial: '2026000001', version: '001' })).toThrow(/issuer/);
    expect(() => buildLicenseIdentifier({ typeCode: '11370500MB0100001H001', issuerCode: '11370500MB0100001H', serial: '12', version: '001' })).toThrow(/serial/);
    expect(() => buildLicenseIdentifier({ typeCode: '11370500MB0100001H001', issuerCode: '11370500MB0100001H', serial: '2026000001', version: '000' })).toThrow(/version/);
  });
});

describe('license types', () => {
  it('loads the five types from templates/, one folder each', () => {
    const types = loadLicenseTypes(templates);
    expect([...types.keys()].sort()).toEqual(['acceptance-notice', 'business-licence', 'correction-notice', 'food-business-permit', 'refusal-notice']);
    expect(types.get('refusal-notice')!.name).toBe('不予受理通知书');
  });

  it('rejects a type folder with a bad definition, naming it', () => {
    const dir = tempDir('types');
    mkdirSync(path.join(dir, 'broken'));
    writeFileSync(path.join(dir, 'broken', 'type.json'), JSON.stringify({ code: 'broken', name: 'x', typeCode: '11370500MB0100001X001' }));
    expect(() => loadLicenseTypes(dir)).toThrow(LicenseTypeError);
    expect(() => loadLicenseTypes(dir)).toThrow(/broken/);
  });

  it('names every failing field in one list', () => {
    const type = loadLicenseTypes(templates).get('business-licence')!;
    const problems = validateLicenseRequest(type, {
      holder: { name: '', code: '91350100M000100Y44', codeType: '001' },
      fields: { companyType: '公司', establishedOn: '2023-02-30', registeredCapital: '100万元', extra: 1 },
    }, { today: '2026-11-30' });
    expect(problems.map((p) => p.field).sort()).toEqual(
      ['fields.businessScope', 'fields.companyType', 'fields.domicile', 'fields.establishedOn', 'fields.extra', 'fields.legalRepresentative', 'holder.code', 'holder.name'].sort(),
    );
    const ok = validateLicenseRequest(type, {
      holder: { name: '某某科技有限公司', code: '91350100M000100Y43', codeType: '001' },
      fields: { companyType: '有限责任公司', legalRepresentative: '张三', registeredCapital: '100万元', establishedOn: '2023-02-28', domicile: '某某市某某路1号', businessScope: '软件开发' },
    }, { today: '2026-11-30' });
    expect(ok).toEqual([]);
    const notice = loadLicenseTypes(templates).get('correction-notice')!;
    const listProblems = validateLicenseRequest(notice, { holder: { name: '李四', code: '11010519491231002X', codeType: '111' }, fields: { matter: '食品经营许可', applicationNumber: 'A1', missingMaterials: [], deadline: '2026-12-01' } }, { today: '2026-11-30' });
    expect(listProblems.map((p) => p.field)).toEqual(['fields.missingMaterials']);
  });
});

describe('GET /v1/license-types', () => {
  let svc: RunningService;
  beforeAll(async () => {
    svc = await startService();
  });
  afterAll(async () => svc?.close());

  it('lists the types with their fields', async () => {
    const res = await fetch(`${svc.url}/v1/license-types`);
    const body = (await res.json()) as { types: Array<{ code: string; fields: Array<{ key: string; label: string }> }> };
    expect(body.types).toHaveLength(5);
    expect(body.types.find((t) => t.code === 'food-business-permit')!.fields.map((f) => f.label)).toContain('经营项目');
  });
});
