import { parentPort, workerData } from 'node:worker_threads';
import { startDeadline } from '../pdf/limits/deadline.js';
import { startWorkBudget } from '../pdf/limits/work-budget.js';
import type { Timestamper } from '../pki/timestamper.js';
import { runExtend, runSeal, runVerify, type JobContext } from './worker-jobs.js';
import { asBuffer, errorToWire, postableValue, reviveBuffers, type DoneMessage, type FromWorker, type HostCallName, type HostCalls, type JobMessage, type ToWorker, type WorkerSetup } from './worker-protocol.js';

/**
 * A PDF worker thread: runs one job at a time (verifying, sealing or extending a PDF) under the
 * job's processing-time limit and work budget, and asks the HTTP thread for what only it holds.
 * The thread's heap limit is the job's memory budget; the pool ends the thread when a job
 * exceeds it or its time.
 */

const port = parentPort!;
const setup = workerData as WorkerSetup;
const pendingCalls = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
let nextCallId = 1;

function callHost(name: HostCallName, ...args: unknown[]): Promise<unknown> {
  const callId = nextCallId++;
  return new Promise((resolve, reject) => {
    pendingCalls.set(callId, { resolve, reject });
    const posted = postableValue(args);
    port.postMessage({ type: 'call', callId, name, args: posted.value } satisfies FromWorker, posted.transfer);
  });
}

const host: HostCalls = {
  revocation: async (...args) => (await callHost('revocation', ...args)) as Awaited<ReturnType<HostCalls['revocation']>>,
  lookupSeal: async (...args) => (await callHost('lookupSeal', ...args)) as Awaited<ReturnType<HostCalls['lookupSeal']>>,
  sign: async (...args) => (await callHost('sign', ...args)) as Buffer,
  timestamp: async (...args) => (await callHost('timestamp', ...args)) as Buffer,
  crlsFor: async (...args) => (await callHost('crlsFor', ...args)) as Buffer[],
  ocspsFor: async (...args) => (await callHost('ocspsFor', ...args)) as Buffer[],
};

const timestamper: Timestamper = { timestamp: (digest, algorithm) => host.timestamp(digest, algorithm) };

const context: JobContext = {
  host,
  timestamper,
  validation: { trustAnchors: setup.trustAnchors.map(asBuffer), intermediates: setup.intermediates.map(asBuffer), policy: setup.policy },
};

function run(message: JobMessage): Promise<unknown> {
  const { job } = message;
  return startDeadline(message.processingTimeMs, () =>
    startWorkBudget(message.workLimits, () => {
      switch (job.kind) {
        case 'verify':
          return runVerify(job, context);
        case 'seal':
          return runSeal(job, context);
        case 'extend':
          return runExtend(job, context);
      }
    }),
  );
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'reply') {
    const pending = pendingCalls.get(message.callId);
    pendingCalls.delete(message.callId);
    if (!pending) return;
    if (message.ok) pending.resolve(reviveBuffers(message.value));
    else pending.reject(Object.assign(new Error(message.error?.message ?? 'the host call failed'), { name: message.error?.name ?? 'Error' }));
    return;
  }
  run(message).then(
    (value) => {
      const posted = postableValue(value);
      port.postMessage({ type: 'done', id: message.id, ok: true, value: posted.value } satisfies DoneMessage, posted.transfer);
    },
    (err: unknown) => port.postMessage({ type: 'done', id: message.id, ok: false, error: errorToWire(err) } satisfies DoneMessage),
  );
});
