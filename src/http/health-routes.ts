import { Router } from 'express';
import type { StatusCache } from '../revocation/cache.js';
import type { SealRegistry } from '../seals/registry.js';
import type { Db } from '../store/db.js';

/**
 * Whether the active seals' keys can be used: each key is loaded (and kept, as sealing keeps it)
 * and checked against its certificate, and a key in a token is asked for each time, since the
 * token may have gone away since. Seals whose keys fail are named with the reason.
 */
async function keyCheck(seals: SealRegistry): Promise<{ usable: number; failed: string[] }> {
  const active = (await seals.list()).filter((s) => s.status === 'active');
  const results = await Promise.allSettled(
    active.map(async (s) => {
      const material = await seals.material(s);
      await material.checkKey?.();
    }),
  );
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${active[i]!.id}: ${(r.reason as Error).message}`] : []));
  return { usable: active.length - failed.length, failed };
}

export function healthRouter(deps: { db: Db; seals: SealRegistry; startedAt: Date; statusCache: StatusCache }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', uptimeSeconds: Math.round((Date.now() - deps.startedAt.getTime()) / 1000) });
  });
  router.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    let keysReady = true;
    let degraded = false;
    try {
      await deps.db.get('SELECT 1 AS ok');
      checks.database = 'ok';
      const keys = await keyCheck(deps.seals);
      // Some unusable keys degrade the service; none usable at all (say, a wrong keystore password) stops it.
      keysReady = keys.usable > 0 || keys.failed.length === 0;
      degraded = keys.failed.length > 0;
      checks.keys = keys.failed.length === 0 ? `ok (${keys.usable} seals)` : `${keysReady ? 'degraded' : 'failed'}: ${keys.failed.join('; ')}`;
    } catch (err) {
      checks.database = `failed: ${(err as Error).message}`;
    }
    const cacheProblem = deps.statusCache.problem();
    // A missing Redis degrades the service (status is fetched without the shared cache) but does not stop it.
    checks.statusCache = cacheProblem ? `degraded: ${cacheProblem}` : 'ok';
    const ready = checks.database === 'ok' && keysReady;
    degraded ||= cacheProblem !== null;
    res.status(ready ? 200 : 503).json({ status: ready ? (degraded ? 'degraded' : 'ready') : 'not ready', checks });
  });
  return router;
}
