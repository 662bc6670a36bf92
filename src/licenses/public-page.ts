import { createHash } from 'node:crypto';
import { chineseDate, dateInZone } from '../calendar/dates.js';
import type { LicenseRecord } from './issuance.js';
import { publicFieldFacts, publicHolder, type PublicFact } from './public-facts.js';
import type { LicenseType } from './types.js';

const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const STYLE = [
  'body{font-family:"Noto Sans CJK SC","AR PL UMing CN",sans-serif;margin:0;padding:16px;max-width:640px;color:#222;line-height:1.5}',
  'h1{font-size:20px;margin:0 0 12px}',
  '.banner{border-radius:8px;padding:14px 16px;margin:0 0 16px;border:2px solid}',
  '.banner strong{display:block;font-size:26px;letter-spacing:2px}',
  '.banner p{margin:6px 0 0}',
  '.valid{background:#e6f4ea;border-color:#137333;color:#0d5227}',
  '.revoked,.unknown,.invalid{background:#fce8e6;border-color:#c5221f;color:#8c1d18}',
  '.superseded,.not-yet-valid{background:#fef7e0;border-color:#b06000;color:#7a4100}',
  '.expired{background:#f1f3f4;border-color:#5f6368;color:#3c4043}',
  '.banner a{color:inherit;font-weight:bold}',
  'dl{display:grid;grid-template-columns:8.5em 1fr;gap:6px 12px}',
  'dt{color:#555}dd{margin:0;word-break:break-all}',
  'figure{margin:16px 0}figure img{width:100%;height:auto;border:1px solid #ccc}',
  'figcaption,.note{color:#555;font-size:14px}',
  '.presented{background:#e8f0fe;border-radius:6px;padding:8px 12px;margin:0 0 12px;color:#174ea6}',
  '.qr{width:min(80vw,320px);margin:12px auto;background:#fff}.qr svg{display:block;width:100%;height:auto}',
].join('');

/**
 * The page's Content-Security-Policy: nothing but its own stylesheet (allowed by its hash, not by
 * 'unsafe-inline') and images from the service; no scripts, no framing, no forms.
 */
export const PUBLIC_PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "img-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

function page(title: string, body: string): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer"><title>${escape(title)}</title><style>${STYLE}</style></head><body><h1>电子证照核验</h1>${body}</body></html>`;
}

export interface VerificationPageModel {
  record: LicenseRecord;
  type: LicenseType | undefined;
  /** The version in force, when `record` was superseded, and the path of its page. */
  current?: { record: LicenseRecord; href: string };
  /** The path of the image of the licence's first page. */
  faceHref: string;
  timeZone: string;
  /** When the page was opened with a holder's presentation code: when that code expires. */
  presentedUntil?: Date;
  /** The holder's page that shows a presentation code (not offered on a page opened with one). */
  presentHref?: string;
}

/** 2026年11月30日 14:05 in `timeZone`. */
function dateTimeInZone(instant: Date, timeZone: string): string {
  const time = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(instant);
  return `${chineseDate(dateInZone(instant, timeZone))} ${time}`;
}

const STATUS_TEXT: Record<LicenseRecord['status'], string> = { valid: '真实有效', 'not-yet-valid': '尚未生效', revoked: '已撤销', superseded: '已被换发的新证替代', expired: '已过期' };

function statusText(record: LicenseRecord, timeZone: string): string {
  if (record.status === 'revoked' && record.revokedAt) return `${STATUS_TEXT.revoked}（${chineseDate(dateInZone(new Date(record.revokedAt), timeZone))}）`;
  if (record.status === 'not-yet-valid' && record.validFrom) return `${STATUS_TEXT['not-yet-valid']}（自${chineseDate(record.validFrom)}起有效）`;
  if (record.status === 'expired' && record.validUntil) return `${STATUS_TEXT.expired}（有效期至${chineseDate(record.validUntil)}）`;
  return STATUS_TEXT[record.status];
}

function explanation(model: VerificationPageModel): string {
  const { record, current } = model;
  const issuer = escape(record.issuerName);
  switch (record.status) {
    case 'valid':
      return `<p>本证照由${issuer}签发，登记信息与平台记录一致，当前有效。</p>`;
    case 'not-yet-valid':
      return `<p>本证照由${issuer}签发，但尚未到有效期起始日期，目前不能作为有效证照使用。</p>`;
    case 'revoked':
      return `<p>本证照已被发证机关撤销，不再有效。如有疑问，请向${issuer}咨询。</p>`;
    case 'expired':
      return `<p>本证照已超过有效期，不再有效。</p>`;
    case 'superseded':
      return current
        ? `<p>本证照已换发，不再有效。现行版本：<a id="current" href="${escape(current.href)}">${escape(current.record.number)}（第${escape(String(Number(current.record.version)))}版）</a>，请以现行版本为准。</p>`
        : '<p>本证照已换发，不再有效，请以发证机关的现行版本为准。</p>';
  }
}

function validity(record: LicenseRecord): string {
  if (!record.validFrom && !record.validUntil) return '—';
  return `${record.validFrom ? chineseDate(record.validFrom) : ''} 至 ${record.validUntil ? chineseDate(record.validUntil) : '长期'}`;
}

/** The public verification page the QR code opens (zh-CN, readable on a phone); dates are those of `timeZone`. */
export function renderVerificationPage(model: VerificationPageModel): string {
  const { record, type, timeZone } = model;
  const holder = publicHolder(record);
  const facts: PublicFact[] = [
    { label: '证照名称', value: record.name, masked: false },
    { label: '证照编号', value: record.number, masked: false },
    { label: type?.holder.nameLabel ?? '持证主体', value: holder.name, masked: holder.masked },
    { label: type?.holder.codeLabel ?? '主体代码', value: holder.code, masked: holder.masked },
    ...publicFieldFacts(record, type),
    { label: '颁发机构', value: record.issuerName, masked: false },
    { label: '颁发日期', value: chineseDate(record.issuedOn), masked: false },
    { label: '有效期', value: validity(record), masked: false },
    { label: '证照标识', value: record.id, masked: false },
  ];
  const masked = facts.some((f) => f.masked) ? '<p class="note">为保护个人信息，自然人姓名和身份证件号码已部分隐藏。</p>' : '';
  const banner = `<section id="verdict" class="banner ${record.status}" data-status="${record.status}"><strong id="status">${escape(statusText(record, timeZone))}</strong>${explanation(model)}</section>`;
  const list = `<dl id="facts">${facts.map((f) => `<dt>${escape(f.label)}</dt><dd${f.masked ? ' class="masked"' : ''}>${escape(f.value)}</dd>`).join('')}</dl>`;
  const face = `<figure><a href="${escape(model.faceHref)}"><img id="face" src="${escape(model.faceHref)}" alt="证照首页图像"></a><figcaption>平台存档的证照首页图像（点击放大）。请与您手中的证照逐项比对：内容不一致的，以本页和存档为准。</figcaption></figure>`;
  const presented = model.presentedUntil ? `<p id="presented" class="presented">持证人出示的动态码，有效至${escape(dateTimeInZone(model.presentedUntil, timeZone))}。</p>` : '';
  const present = model.presentHref && record.status === 'valid' ? `<p class="note"><a id="present" href="${escape(model.presentHref)}">持证人在手机上出示本证照（动态二维码，几分钟内有效）</a></p>` : '';
  return page(`电子证照核验：${record.name}`, `${presented}${banner}${list}${masked}${face}${present}`);
}

export interface PresentationPageModel {
  record: LicenseRecord;
  type: LicenseType | undefined;
  /** The QR code of the presentation URL, as SVG markup made by the QR encoder (no text of the request in it). */
  qrSvg: string;
  expiresAt: Date;
  timeZone: string;
}

/** The page a holder opens on a phone to show a relying office a QR code that expires in minutes. */
export function renderPresentationPage(model: PresentationPageModel): string {
  const { record, type, timeZone } = model;
  const holder = publicHolder(record);
  const facts: Array<[string, string]> = [
    ['证照名称', record.name],
    ['证照编号', record.number],
    [type?.holder.nameLabel ?? '持证主体', holder.name],
  ];
  const body = `<section id="verdict" class="banner valid" data-status="presentation"><strong id="status">出示码</strong><p>请核验人员扫描下方二维码核验本证照。此码有效至<span id="expires">${escape(dateTimeInZone(model.expiresAt, timeZone))}</span>，过期后请刷新本页获取新码。</p></section><div id="qr" class="qr">${model.qrSvg}</div><dl>${facts.map(([k, v]) => `<dt>${escape(k)}</dt><dd>${escape(v)}</dd>`).join('')}</dl>`;
  return page(`电子证照出示：${record.name}`, body);
}

/** The Chinese page for a request the page cannot answer: a malformed identifier (400) or an unknown licence or check code (404). */
export type VerificationError = 'malformed' | 'unknown' | 'expired';

const ERROR_TEXT: Record<VerificationError, string> = {
  malformed: '链接中的证照标识或核验码格式不正确。请重新扫描证照上的二维码，或完整输入链接。',
  unknown: '未找到该证照，或核验码不正确。此证照可能不是本平台签发的，请向发证机关核实。',
  expired: '此出示码已过期。请持证人刷新出示页面，重新出示二维码。',
};

/** The Chinese page for a request the page cannot answer: malformed (400), unknown licence or check code (404), expired presentation code (410). */
export function renderVerificationErrorPage(kind: VerificationError): string {
  return page('电子证照核验：无法核验', `<section id="verdict" class="banner ${kind === 'malformed' ? 'invalid' : 'unknown'}" data-status="${kind}"><strong id="status">无法核验</strong><p>${ERROR_TEXT[kind]}</p></section>`);
}
