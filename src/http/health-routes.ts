import { Router } from 'express';
import type { StatusCache } from '../revocation/cache.js';
import type { Db } from '../store/db.js';

export function healthRouter(deps: { db: Db; startedAt: Date; statusCache: StatusCache }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', uptimeSeconds: Math.round((Date.now() - deps.startedAt.getTime()) / 1000) });
  });
  router.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    try {
      await deps.db.get('SELECT 1 AS ok');
      checks.database = 'ok';
    } catch (err) {
      checks.database = `failed: ${(err as Error).message}`;
    }
    const cacheProblem = deps.statusCache.problem();
    // A missing Redis degrades the service (status is fetched without the shared cache) but does not stop it.
    checks.statusCache = cacheProblem ? `degraded: ${cacheProblem}` : 'ok';
    const ready = checks.database === 'ok';
    const degraded = cacheProblem !== null;
    res.status(ready ? 200 : 503).json({ status: ready ? (degraded ? 'degraded' : 'ready') : 'not ready', checks });
  });
  return router;
}
