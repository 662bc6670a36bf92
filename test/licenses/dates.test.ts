import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { chineseDate, dateInZone, isKnownTimeZone, lastDayOfTerm } from '../../src/calendar/dates.js';

describe('calendar dates of the issuing offices', () => {
  it('takes the date in the configured zone, not the UTC date', () => {
    const lateUtc = new Date('2026-11-29T23:30:00Z');
    expect(dateInZone(lateUtc, 'Asia/Shanghai')).toBe('2026-11-30');
    expect(dateInZone(lateUtc, 'UTC')).toBe('2026-11-29');
    expect(dateInZone(new Date('2026-12-31T16:00:00Z'), 'Asia/Shanghai')).toBe('2027-01-01');
    expect(dateInZone(new Date('2026-12-31T15:59:59Z'), 'Asia/Shanghai')).toBe('2026-12-31');
  });

  it('writes dates in the Chinese form', () => {
    expect(chineseDate('2026-11-30')).toBe('2026年11月30日');
    expect(chineseDate('2027-01-01')).toBe('2027年1月1日');
    expect(() => chineseDate('30.11.2026')).toThrow(RangeError);
  });

  it('ends a term of years on the day before its anniversary', () => {
    expect(lastDayOfTerm('2027-01-01', 5)).toBe('2031-12-31');
    expect(lastDayOfTerm('2024-03-01', 5)).toBe('2029-02-28');
  });

  it('TIME_ZONE defaults to Asia/Shanghai and must be a zone Intl knows', () => {
    expect(loadConfig({}).timeZone).toBe('Asia/Shanghai');
    expect(loadConfig({ TIME_ZONE: 'Asia/Urumqi' }).timeZone).toBe('Asia/Urumqi');
    expect(isKnownTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(() => loadConfig({ TIME_ZONE: 'Mars/Olympus_Mons' })).toThrow(ConfigError);
    expect(() => loadConfig({ TIME_ZONE: 'Mars/Olympus_Mons' })).toThrow(/TIME_ZONE/);
  });
});
