import { Router } from 'express';
import type { StatusCache } from '../revocation/cache.js';
import type { SealMaterials } from '../seals/materials.js';
import type { SealRepository } from '../seals/repository.js';
import type { Logger } from 'pino';
import type { ApiClientStore } from '../store/api-clients.js';
import type { Db } from '../store/db.js';
import type { PdfPool } from '../runtime/pdf-pool.js';

/**
 * Whether the active seals' keys can be used: each key is loaded (and kept, as sealing keeps it)
 * and checked against its certificate, and a key in a token is asked for each time, since the
 * token may have gone away since. Seals whose keys fail are named with the reason.
 */
async function keyCheck(seals: SealRepository, materials: SealMaterials): Promise<{ usable: number; failed: string[] }> {
  const active = (await seals.list()).filter((s) => s.status === 'active');
  const results = await Promise.allSettled(
    active.map(async (s) => {
      const material = await materials.material(s);
      await material.checkKey?.();
    }),
  );
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${active[i]!.id}: ${(r.reason as Error).message}`] : []));
  return { usable: active.length - failed.length, failed };
}

/**
 * Whether the caller is an administrator: only they see the details of a check (which seal, which
 * token or file, which error); anyone else sees states. The details always go to the log.
 */
async function isAdmin(clients: ApiClientStore | undefined, authorization: string | undefined): Promise<boolean> {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  if (!clients || !token) return false;
  const client = await clients.findByToken(token).catch(() => undefined);
  return client !== undefined && !client.disabled && client.roles.includes('admin');
}

export function healthRouter(deps: { pdfPool?: PdfPool; db: Db; seals: SealRepository; materials: SealMaterials; startedAt: Date; statusCache: StatusCache; clients?: ApiClientStore; logger?: Logger }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', uptimeSeconds: Math.round((Date.now() - deps.startedAt.getTime()) / 1000) });
  });
  router.get('/readyz', async (req, res) => {
    const checks: Record<string, string> = {};
    const states: Record<string, string> = {};
    let keysReady = true;
    let degraded = false;
    try {
      await deps.db.get('SELECT 1 AS ok');
      checks.database = states.database = 'ok';
      const keys = await keyCheck(deps.seals, deps.materials);
      // Some unusable keys degrade the service; none usable at all (say, a wrong keystore password) stops it.
      keysReady = keys.usable > 0 || keys.failed.length === 0;
      degraded = keys.failed.length > 0;
      const total = keys.usable + keys.failed.length;
      checks.keys = keys.failed.length === 0 ? `ok (${keys.usable} seals)` : `${keysReady ? 'degraded' : 'failed'}: ${keys.failed.join('; ')}`;
      states.keys = keys.failed.length === 0 ? `ok (${keys.usable} seals)` : `${keysReady ? 'degraded' : 'failed'} (${keys.failed.length} of ${total} seal keys unusable)`;
    } catch (err) {
      checks.database = `failed: ${(err as Error).message}`;
      states.database = 'failed';
    }
    const cacheProblem = await deps.statusCache.problem();
    // A missing Redis degrades the service (status is fetched without the shared cache) but does not stop it.
    checks.statusCache = cacheProblem ? `degraded: ${cacheProblem}` : 'ok';
    states.statusCache = cacheProblem ? 'degraded' : 'ok';
    const ready = states.database === 'ok' && keysReady;
    degraded ||= cacheProblem !== null;
    const status = ready ? (degraded ? 'degraded' : 'ready') : 'not ready';
    if (status !== 'ready') deps.logger?.warn({ checks }, `readiness: ${status}`);
    const admin = await isAdmin(deps.clients, req.get('authorization'));
    // How loaded the PDF threads are is for operators, not for the public.
    res.status(ready ? 200 : 503).json({ status, checks: admin ? checks : states, ...(admin && deps.pdfPool ? { pdfThreads: deps.pdfPool.stats() } : {}) });
  });
  return router;
}
