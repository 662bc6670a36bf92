import { createHash } from 'node:crypto';
import type { Timestamper } from '../pki/timestamper.js';

const observed = new WeakMap<Timestamper, number>();

/** Room for a timestamp token, measured once per timestamper with a probe request, plus margin. */
export async function tokenSizeHint(timestamper: Timestamper): Promise<number> {
  let size = observed.get(timestamper);
  if (size === undefined) {
    const probe = await timestamper.timestamp(createHash('sha256').update('size probe').digest(), 'sha256');
    size = probe.length;
    observed.set(timestamper, size);
  }
  return size + 512;
}
