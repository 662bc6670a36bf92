import type { Db } from '../store/db.js';

/** The lock of one serial counter: licence types and years number independently of each other. */
export function serialCounterLock(typeCode: string, year: string): string {
  return `license-serial:${typeCode}:${year}`;
}

/**
 * Reserves the next serial number of a license type in a year, in a short transaction of its
 * own that holds only this counter's lock. A license whose drawing or sealing then fails leaves
 * its number unused: numbers are unique, not gapless.
 */
export function allocateSerial(db: Db, typeCode: string, year: string): Promise<string> {
  return db.transaction(async (tx) => {
    await tx.lock(serialCounterLock(typeCode, year));
    const counter = await tx.get<{ last: number }>('SELECT last FROM license_serials WHERE type = ? AND year = ?', [typeCode, year]);
    let last = counter?.last;
    if (last === undefined) {
      // Licenses issued before the counter existed.
      const highest = await tx.get<{ serial: string | null }>('SELECT MAX(serial) AS serial FROM licenses WHERE type = ? AND serial LIKE ?', [typeCode, `${year}%`]);
      last = highest?.serial ? Number(highest.serial.slice(year.length)) : 0;
      await tx.run('INSERT INTO license_serials (type, year, last) VALUES (?, ?, ?)', [typeCode, year, last + 1]);
    } else {
      await tx.run('UPDATE license_serials SET last = ? WHERE type = ? AND year = ?', [last + 1, typeCode, year]);
    }
    return `${year}${String(last + 1).padStart(6, '0')}`;
  });
}
