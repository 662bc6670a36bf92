import { dateInZone } from '../../src/calendar/dates.js';

/** A business licence request that passes validation, for tests that issue licences. */
export function sampleBusinessLicence(holderName = '张三科技有限公司'): { type: string; holder: { name: string; code: string; codeType: '001' | '111' }; fields: Record<string, string> } {
  return {
    type: 'business-licence',
    holder: { name: holderName, code: '91350100M000100Y43', codeType: '001' },
    fields: { companyType: '有限责任公司', legalRepresentative: '张三', registeredCapital: '100万元人民币', establishedOn: '2024-03-01', domicile: '某某市某某区某某路1号', businessScope: '软件开发；信息技术咨询服务' },
  };
}

/** The Beijing date `days` from now, for dates that must stay in the future (deadlines) whenever the tests run. */
export function beijingDateFromNow(days: number): string {
  return dateInZone(new Date(Date.now() + days * 86_400_000), 'Asia/Shanghai');
}
