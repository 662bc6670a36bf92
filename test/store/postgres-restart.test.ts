/**
 * A real PostgreSQL stopped, or killed, while requests are in flight. The service must answer
 * 503 database-unavailable (never another error, never crash), come back by itself once the
 * server is back, and lose nothing it acknowledged: a licence exists exactly when its audit entry
 * does, and every caller told 201 finds its licence.
 *
 * No step is timed: the load runs until it has seen what it waits for, with generous limits,
 * because the machine may be busy with other tests.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_CHAIN_LOCK } from '../../src/audit/log.js';
import { advisoryLockKey } from '../../src/store/postgres.js';
import { makePdf } from '../helpers/pdfs.js';
import { createDatabase, PostgresProcess } from '../helpers/postgres-server.js';
import { sealRequest, startService, type RunningService } from '../helpers/service.js';

const RECOVERY_LIMIT_MS = 60_000;

/** Unhandled rejections and exceptions while the database goes away: there must be none. */
const unhandled: unknown[] = [];
const record = (err: unknown): void => {
  unhandled.push(err);
};
beforeAll(() => {
  process.on('unhandledRejection', record);
  process.on('uncaughtException', record);
});
afterAll(() => {
  process.off('unhandledRejection', record);
  process.off('uncaughtException', record);
});

/** What one request got: a status and, for a problem, its type; status 0 for no answer at all. */
interface Outcome {
  status: number;
  problemType?: string;
  /** Set when the request left after the database came back. */
  afterRestart: boolean;
}

async function outcomeOf(response: Promise<Response>, afterRestart: boolean): Promise<Outcome> {
  let res: Response;
  try {
    res = await response;
  } catch (err) {
    return { status: 0, problemType: `no answer: ${(err as Error).message}`, afterRestart }; // a reset connection or a dead service
  }
  const problemType = res.headers.get('content-type')?.includes('application/problem+json') ? ((await res.json()) as { type: string }).type : (await res.arrayBuffer(), undefined);
  return { status: res.status, ...(problemType ? { problemType } : {}), afterRestart };
}

/**
 * `concurrency` callers, each sending requests in a loop until stopped; `send` gets the caller's
 * number. A caller refused pauses briefly before trying again, as a client would.
 */
class Load {
  readonly outcomes: Outcome[] = [];
  restarted = false;
  private stopped = false;
  private readonly callers: Array<Promise<void>>;

  constructor(concurrency: number, send: (caller: number) => Promise<Response>) {
    this.callers = Array.from({ length: concurrency }, async (_, caller) => {
      while (!this.stopped) {
        const afterRestart = this.restarted;
        const outcome = await outcomeOf(send(caller), afterRestart);
        this.outcomes.push(outcome);
        if (outcome.status >= 300) await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });
  }

  /** Polls the outcomes until `seen` holds; fails after the limit. */
  async waitFor(what: string, seen: (outcomes: Outcome[]) => boolean): Promise<void> {
    const deadline = Date.now() + RECOVERY_LIMIT_MS;
    while (!seen(this.outcomes)) {
      if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}; statuses so far: ${this.outcomes.map((o) => o.status).join(' ')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.callers);
  }
}

const successes = (o: Outcome[]): number => o.filter((x) => x.status < 300).length;

/** Every answer was a success or 503 database-unavailable: no 500, no reset connection. */
function expectOnlySuccessOr503(outcomes: Outcome[], success: number): void {
  const unexpected = outcomes.filter((o) => o.status !== success && !(o.status === 503 && o.problemType === '/problems/database-unavailable'));
  expect(unexpected).toEqual([]);
}

/** Waits until `count` sessions wait for an advisory lock (the load makes progress meanwhile). */
async function waitForAdvisoryWaiters(observer: pg.Client, count: number): Promise<void> {
  const deadline = Date.now() + RECOVERY_LIMIT_MS;
  for (;;) {
    const { rows } = await observer.query<{ n: string }>("SELECT COUNT(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'");
    if (Number(rows[0]!.n) >= count) return;
    if (Date.now() > deadline) throw new Error(`expected ${count} sessions waiting for the audit chain, saw ${rows[0]!.n}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let server: PostgresProcess;
let svc: RunningService;
let load: Load | undefined;

afterEach(async () => {
  await load?.stop().catch(() => undefined);
  load = undefined;
  await svc?.close();
  await server?.stop();
});

describe('PostgreSQL stopped and restarted under load', () => {
  it('answers 503 database-unavailable while it is down and recovers without a restart of the service', async () => {
    server = await PostgresProcess.start();
    svc = await startService({ DATABASE_URL: await createDatabase(server.url) });
    const pdf = await makePdf(1);
    const entriesBefore = (await svc.service.audit.verify()).entries;
    load = new Load(4, () => sealRequest(svc, pdf, { sealId: 'scjg-official' }));

    await load.waitFor('seals before the stop', (o) => successes(o) >= 4);
    await server.pause(); // fast shutdown: in-flight transactions are cut off
    await load.waitFor('a 503 while the database is down', (o) => o.some((x) => x.status === 503));
    const ready = await fetch(`${svc.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);

    await server.startAgain();
    load.restarted = true;
    await load.waitFor('seals after the restart', (o) => o.filter((x) => x.afterRestart && x.status === 200).length >= 4);
    await load.stop();

    expect(load.outcomes.some((o) => o.status === 503)).toBe(true);
    console.log("STOP", JSON.stringify(load.outcomes.map((o) => o.status)));
    expectOnlySuccessOr503(load.outcomes, 200);
    expect((await fetch(`${svc.url}/readyz`)).status).toBe(200);
    // every seal handed out was recorded first (an entry whose commit answer was lost may exist without a 200)
    const chain = await svc.service.audit.verify();
    expect(chain.ok).toBe(true);
    expect(chain.entries - entriesBefore).toBeGreaterThanOrEqual(successes(load.outcomes));
    expect(unhandled).toEqual([]);
  });
});

describe('PostgreSQL killed with -9 while licences are issued', () => {
  it('leaves no licence without its audit entry, every 201 finds its licence, and a caller retrying with its key gets one licence', async () => {
    // commits must survive the kill: what the service acknowledged, the server had made durable
    server = await PostgresProcess.start({ durableCommits: true });
    const databaseUrl = await createDatabase(server.url);
    svc = await startService({ DATABASE_URL: databaseUrl });
    const issue = (key: string) =>
      fetch(`${svc.url}/v1/licenses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${svc.token}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ type: 'acceptance-notice', holder: { name: '孙小八', code: '440524188001010014', codeType: '111' }, fields: { matter: '设立登记', applicationNumber: key, receivedOn: '2026-11-25', promisedDays: 3 } }),
      });
    // Each caller keeps its Idempotency-Key until it is told 201, as a client retrying would.
    const answers = new Map<string, Array<{ status: number; id?: string }>>();
    const issued = [0, 0, 0, 0];
    const currentKey = (caller: number) => `kill-${caller}-${issued[caller]}`;
    load = new Load(4, async (caller) => {
      const key = currentKey(caller);
      const res = await issue(key);
      const id = res.status === 201 ? ((await res.clone().json()) as { id: string }).id : undefined;
      answers.set(key, [...(answers.get(key) ?? []), { status: res.status, ...(id ? { id } : {}) }]);
      if (res.status === 201) issued[caller]!++;
      return res;
    });

    await load.waitFor('licences before the kill', (o) => successes(o) >= 4);
    // The kill lands where a licence row is written and its audit entry not yet: the chain's
    // lock is held here, so issuances stop inside their transaction, after inserting the licence,
    // waiting to append. Were the two committed apart, these licences would survive the kill.
    const lockHolder = new pg.Client({ connectionString: databaseUrl });
    lockHolder.on('error', () => undefined); // its connection dies with the server
    await lockHolder.connect();
    await lockHolder.query('BEGIN');
    await lockHolder.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryLockKey(AUDIT_CHAIN_LOCK)]);
    await waitForAdvisoryWaiters(lockHolder, 2);
    await server.kill();
    await lockHolder.end().catch(() => undefined);
    await load.waitFor('a 503 while the database is dead', (o) => o.some((x) => x.status === 503));
    await server.startAgain(); // crash recovery
    load.restarted = true;
    await load.waitFor('licences after the restart', (o) => o.filter((x) => x.afterRestart && x.status === 201).length >= 4);
    await load.stop();
    expectOnlySuccessOr503(load.outcomes, 201);

    const db = svc.service.db;
    const orphans = await db.all<{ id: string }>("SELECT id FROM licenses WHERE id NOT IN (SELECT subject FROM audit_log WHERE action = 'license.issue')");
    expect(orphans).toEqual([]);
    const entriesWithoutLicence = await db.all<{ subject: string }>("SELECT subject FROM audit_log WHERE action = 'license.issue' AND subject NOT IN (SELECT id FROM licenses)");
    expect(entriesWithoutLicence).toEqual([]);
    expect((await svc.service.audit.verify()).ok).toBe(true);

    // a caller told 201 finds its licence, and every answer for one key names the same licence
    for (const [key, attempts] of answers) {
      const ids = new Set(attempts.flatMap((a) => (a.id ? [a.id] : [])));
      expect(ids.size, key).toBeLessThanOrEqual(1);
      for (const id of ids) expect((await fetch(`${svc.url}/v1/licenses/${encodeURIComponent(id)}?purpose=development`, { headers: { authorization: `Bearer ${svc.token}` } })).status, id).toBe(200);
    }
    // the outage was met by callers that went on with the same key until they got their licence
    const retriedThrough = [...answers.values()].filter((attempts) => attempts[0]!.status === 503 && attempts.at(-1)!.status === 201);
    expect(retriedThrough.length).toBeGreaterThan(0);
    // a caller still refused when the load stopped retries once more: then one licence per key
    for (const [key, attempts] of answers) {
      if (attempts.at(-1)!.status !== 201) expect((await issue(key)).status, key).toBe(201);
    }
    const keys = await db.get<{ n: number }>("SELECT COUNT(*) AS n FROM license_idempotency WHERE idem_key LIKE 'kill-%'");
    const licences = await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM licenses');
    expect(keys!.n).toBe(answers.size);
    expect(licences!.n).toBe(answers.size);
    expect(unhandled).toEqual([]);
  });
});
