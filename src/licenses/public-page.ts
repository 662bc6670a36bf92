import { chineseDate, dateInZone } from '../calendar/dates.js';
import type { LicenseRecord } from './issuance.js';

const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** 张三 → 张*, 张小三 → 张*三, 欧阳小明 → 欧**明. */
export function maskName(name: string): string {
  const chars = [...name];
  if (chars.length <= 1) return name;
  if (chars.length === 2) return `${chars[0]}*`;
  return `${chars[0]}${'*'.repeat(chars.length - 2)}${chars[chars.length - 1]}`;
}

/** 11010519491231002X → 1101**********002X; codes keep their first and last four characters. */
export function maskCode(code: string): string {
  if (code.length <= 8) return `${code.slice(0, 1)}${'*'.repeat(Math.max(0, code.length - 2))}${code.slice(-1)}`;
  return `${code.slice(0, 4)}${'*'.repeat(code.length - 8)}${code.slice(-4)}`;
}

const STATUS_TEXT: Record<LicenseRecord['status'], string> = { valid: '真实有效', 'not-yet-valid': '尚未生效', revoked: '已撤销', superseded: '已被换发的新证替代', expired: '已过期' };

function statusText(record: LicenseRecord, timeZone: string): string {
  if (record.status === 'revoked' && record.revokedAt) return `${STATUS_TEXT.revoked}（${chineseDate(dateInZone(new Date(record.revokedAt), timeZone))}）`;
  if (record.status === 'not-yet-valid' && record.validFrom) return `${STATUS_TEXT['not-yet-valid']}（自${chineseDate(record.validFrom)}起有效）`;
  return STATUS_TEXT[record.status];
}

/** The public verification page the QR code opens (zh-CN, plain, readable on a phone); dates are those of `timeZone`. */
export function renderVerificationPage(record: LicenseRecord | undefined, timeZone: string): string {
  const head = `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>电子证照核验</title>
<style>body{font-family:sans-serif;margin:0;padding:16px;max-width:560px;color:#222}h1{font-size:20px}.ok{color:#137333}.bad{color:#c5221f}dl{display:grid;grid-template-columns:7em 1fr;gap:6px 12px}dt{color:#555}dd{margin:0;word-break:break-all}</style></head><body><h1>电子证照核验</h1>`;
  if (!record) {
    return `${head}<p class="bad" id="verdict">无法核验：未找到该证照，或核验码不正确。此证照可能不是本平台签发的。</p></body></html>`;
  }
  const ok = record.status === 'valid';
  const status = statusText(record, timeZone);
  const rows: Array<[string, string]> = [
    ['证照名称', record.name],
    ['证照编号', record.number],
    ['持证主体', maskName(record.holderName)],
    ['主体代码', maskCode(record.holderCode)],
    ['颁发机构', record.issuerName],
    ['颁发日期', chineseDate(record.issuedOn)],
    ['有效期', record.validFrom || record.validUntil ? `${record.validFrom ? chineseDate(record.validFrom) : ''} 至 ${record.validUntil ? chineseDate(record.validUntil) : '长期'}` : '—'],
    ['证照标识', record.id],
  ];
  return `${head}<p class="${ok ? 'ok' : 'bad'}" id="verdict">本证照由平台签发，状态：<strong id="status">${escape(status)}</strong></p><dl>${rows
    .map(([k, v]) => `<dt>${escape(k)}</dt><dd>${escape(v)}</dd>`)
    .join('')}</dl></body></html>`;
}
