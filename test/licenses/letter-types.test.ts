import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadLicenseTypes, LicenseTypeError } from '../../src/licenses/types.js';
import { tempDir } from '../helpers/tools.js';

const templates = fileURLToPath(new URL('../../templates', import.meta.url));

interface LetterDefinition {
  letter?: { paragraphs: Array<string | { list: string }> };
}

/** The project's templates with the correction notice's definition changed by `edit`. */
function withCorrectionNotice(edit: (type: LetterDefinition) => void): string {
  const dir = path.join(tempDir('letters'), 'templates');
  cpSync(templates, dir, { recursive: true });
  const file = path.join(dir, 'correction-notice', 'type.json');
  const type = JSON.parse(readFileSync(file, 'utf8')) as LetterDefinition;
  edit(type);
  writeFileSync(file, JSON.stringify(type));
  return dir;
}

describe('letter types', () => {
  it('the notices are letters that print every field; the licences are faces', () => {
    const types = loadLicenseTypes(templates);
    for (const code of ['acceptance-notice', 'refusal-notice', 'correction-notice']) expect(types.get(code)!.layout.style).toBe('letter');
    for (const code of ['business-licence', 'food-business-permit']) expect(types.get(code)!.layout.style).toBe('licence');
    // the national form: 名称, 类型, 法定代表人, 经营范围 on the left; 注册资本, 成立日期, 营业期限, 住所 on the right
    expect(types.get('business-licence')!.layout).toMatchObject({ issuerLabel: '登记机关', validityLabel: '营业期限', qr: { corner: 'top-right' }, rightColumn: ['registeredCapital', 'establishedOn', 'operatingUntil', 'domicile'] });
    const permit = types.get('food-business-permit')!;
    expect(permit.fields.map((f) => f.label)).toEqual(expect.arrayContaining(['主体业态', '经营项目', '住所', '日常监督管理机构', '投诉举报电话']));
    // the fields added to the permit are optional, so requests made before them stay valid
    for (const key of ['domicile', 'supervisoryAuthority', 'complaintPhone']) expect(permit.fields.find((f) => f.key === key)!.required).toBe(false);
  });

  it('refuses a letter that would leave a field unprinted, or names a field that does not exist', () => {
    const dropsDeadline = withCorrectionNotice((t) => {
      t.letter!.paragraphs = t.letter!.paragraphs.filter((p) => typeof p !== 'string' || !p.includes('{deadline}'));
    });
    expect(() => loadLicenseTypes(dropsDeadline)).toThrow(LicenseTypeError);
    expect(() => loadLicenseTypes(dropsDeadline)).toThrow(/does not print deadline/);
    const unknown = withCorrectionNotice((t) => t.letter!.paragraphs.push('{nonsense}'));
    expect(() => loadLicenseTypes(unknown)).toThrow(/placeholder \{nonsense\} is not a field/);
    const notAList = withCorrectionNotice((t) => t.letter!.paragraphs.push({ list: 'matter' }));
    expect(() => loadLicenseTypes(notAList)).toThrow(/letter list matter must be a list field/);
    const badColumn = withCorrectionNotice((t) => Object.assign(t, { layout: { ...(t as { layout: object }).layout, rightColumn: ['nonsense'] } }));
    expect(() => loadLicenseTypes(badColumn)).toThrow(/rightColumn names nonsense/);
    const noLetter = withCorrectionNotice((t) => delete t.letter);
    expect(() => loadLicenseTypes(noLetter)).toThrow(/needs a letter/);
  });
});
