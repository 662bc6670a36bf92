/**
 * Vitest setup: every request a test makes with fetch opens a connection of its own and asks the
 * server to close it (`Connection: close`). The services under test run in the test process, so
 * a blocking call (spawnSync, execFileSync) stops the server's keep-alive timer and the client's
 * alike; when it returns, the client could send on an idle connection the server closes in the
 * same turn of the event loop, and the request fails with ECONNRESET.
 *
 * Node's fetch is its bundled undici, which takes its dispatcher from this global symbol (the
 * one the undici package's setGlobalDispatcher writes). Node exports no Agent class, so the
 * default dispatcher's own class is used, with pipelining 0: undici's switch for no keep-alive.
 */
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

type DispatcherClass = new (options: { pipelining: number }) => object;

const slots = globalThis as unknown as Record<symbol, object | undefined>;
void globalThis.Headers; // loading fetch's classes installs the default dispatcher
const defaultDispatcher = slots[GLOBAL_DISPATCHER];
if (defaultDispatcher?.constructor.name !== 'Agent') {
  throw new Error(`fetch's global dispatcher is ${defaultDispatcher?.constructor.name ?? 'missing'}, not undici's Agent: the test harness cannot turn keep-alive off`);
}
slots[GLOBAL_DISPATCHER] = new (defaultDispatcher.constructor as DispatcherClass)({ pipelining: 0 });
