import { mod1110CheckDigit } from '../codes/check-characters.js';
import type { Db } from '../store/db.js';
import type { LicenseType } from './types.js';

/** The serials of a counter are used up (999999 in a year, or in all for food permits). */
export class NumberRangeExhausted extends Error {
  override name = 'NumberRangeExhausted';
}

const SERIAL_DIGITS = 6;
const LAST_SERIAL = 10 ** SERIAL_DIGITS - 1;

/**
 * The administrative division (行政区划代码: province, city, county) of an issuing authority:
 * positions 3 to 8 of its unified social credit code (GB 32100 登记管理机关行政区划码).
 */
export function issuerDivision(issuerUscc: string): string {
  const division = issuerUscc.slice(2, 8);
  if (!/^\d{6}$/.test(division)) throw new RangeError(`no administrative division in ${issuerUscc}`);
  return division;
}

/**
 * 食品经营许可证 number: JY, then 14 digits: the business type (主体业态: 1 食品销售经营者,
 * 2 餐饮服务经营者, 3 单位食堂), province, city and county of the issuer (2 digits each), a 6-digit
 * serial, and a check digit. The permit rules (食品经营许可管理办法) name the check digit but
 * publish no algorithm; this service uses ISO/IEC 7064 MOD 11,10 over the 13 digits before it.
 */
export function foodPermitNumber(businessTypeDigit: string, division: string, serial: number): string {
  const body = `${businessTypeDigit}${division}${String(serial).padStart(SERIAL_DIGITS, '0')}`;
  return `JY${body}${mod1110CheckDigit(body)}`;
}

/** Whether `number` is a food permit number whose check digit holds. */
export function isValidFoodPermitNumber(number: string): boolean {
  const m = /^JY(\d{13})(\d)$/.exec(number);
  return m !== null && mod1110CheckDigit(m[1]!) === m[2];
}

/** The lock of one serial counter: authorities, types and periods number independently of each other. */
export function serialCounterLock(issuerCode: string, type: string, period: string): string {
  return `license-serial:${issuerCode}:${type}:${period}`;
}

/** Where a form's serial sits in its numbers, to find the highest one used when a counter is missing. */
interface SerialPlace {
  /** A LIKE pattern matching this counter's numbers. */
  pattern: string;
  /** 1-based position of the serial's first digit. */
  at: number;
}

/**
 * The next serial of a counter (issuer, type, period), reserved in its own short transaction:
 * a licence whose drawing or sealing then fails leaves its number unused (numbers are unique,
 * not gapless). The transaction holds this counter's lock alone (`serialCounterLock`: SQLite's
 * file lock, a PostgreSQL advisory lock), so two issuances never read the same last value, and
 * other counters, the audit chain and other writes do not wait for it. A counter that is missing
 * (lost, or its period just began) continues after the highest serial its numbers already use.
 */
export async function nextSerial(db: Db, issuerCode: string, type: string, period: string, place: SerialPlace): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.lock(serialCounterLock(issuerCode, type, period));
    const counter = await tx.get<{ last: number }>('SELECT last FROM license_number_serials WHERE issuer_code = ? AND type = ? AND period = ?', [issuerCode, type, period]);
    let last = counter?.last;
    if (last === undefined) {
      const highest = await tx.get<{ serial: string | null }>(`SELECT MAX(SUBSTR(number, ${place.at}, ${SERIAL_DIGITS})) AS serial FROM licenses WHERE issuer_code = ? AND type = ? AND number LIKE ?`, [issuerCode, type, place.pattern]);
      last = highest?.serial ? Number(highest.serial) : 0;
    }
    const next = last + 1;
    if (next > LAST_SERIAL) throw new NumberRangeExhausted(`the ${SERIAL_DIGITS}-digit serials of ${type} for ${issuerCode}${period ? ` in ${period}` : ''} are used up`);
    if (counter) await tx.run('UPDATE license_number_serials SET last = ? WHERE issuer_code = ? AND type = ? AND period = ?', [next, issuerCode, type, period]);
    else await tx.run('INSERT INTO license_number_serials (issuer_code, type, period, last) VALUES (?, ?, ?, ?)', [issuerCode, type, period, next]);
    return next;
  });
}

/**
 * Gives a new licence its printed number (证照编号), unique per issuing authority and type; the
 * prefixes of the types differ (checked when the types load), so numbers of different types differ too.
 */
export async function allocateLicenseNumber(db: Db, type: LicenseType, issuerCode: string, issuedOn: string, fields: Record<string, unknown>): Promise<string> {
  const form = type.number;
  if (form.form === 'food-permit') {
    const digit = form.businessTypeDigits[String(fields[form.businessTypeField])];
    if (!digit) throw new RangeError(`${type.code}: no business type digit for ${String(fields[form.businessTypeField])}`);
    const division = issuerDivision(issuerCode);
    // JY, business type digit, division: the serial starts at position 10, whatever the business type.
    return foodPermitNumber(digit, division, await nextSerial(db, issuerCode, type.code, '', { pattern: `JY_${division}%`, at: 10 }));
  }
  const year = issuedOn.slice(0, 4);
  const serial = await nextSerial(db, issuerCode, type.code, year, { pattern: `${form.prefix}${year}%`, at: form.prefix.length + 5 });
  return `${form.prefix}${year}${String(serial).padStart(SERIAL_DIGITS, '0')}`;
}
