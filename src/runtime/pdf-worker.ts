import { parentPort, workerData } from 'node:worker_threads';
import { startDeadline } from '../limits/deadline.js';
import { startWorkBudget } from '../limits/work-budget.js';
import { validatePdf, type RevocationChecker, type ValidationContext } from '../validation/engine.js';
import { asBuffer, errorToWire, type DoneMessage, type FromWorker, type HostCallName, type JobMessage, type ToWorker, type WorkerSetup } from './worker-protocol.js';

/**
 * A PDF worker thread: runs one job at a time (parsing and validating a PDF) under the job's
 * processing-time limit and work budget, and asks the HTTP thread for what only it holds
 * (revocation status, the seal registry). The thread's heap limit is the job's memory budget;
 * the pool ends the thread when a job exceeds it or its time.
 */

const port = parentPort!;
const setup = workerData as WorkerSetup;
const pendingCalls = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
let nextCallId = 1;

function callHost(name: HostCallName, ...args: unknown[]): Promise<unknown> {
  const callId = nextCallId++;
  return new Promise((resolve, reject) => {
    pendingCalls.set(callId, { resolve, reject });
    port.postMessage({ type: 'call', callId, name, args } satisfies FromWorker);
  });
}

const revocation: RevocationChecker = {
  check: async (chain, at, options) => (await callHost('revocation', chain, at, options ?? {})) as Awaited<ReturnType<RevocationChecker['check']>>,
};

const context: Omit<ValidationContext, 'validationTime' | 'pdfLimits'> = {
  trustAnchors: setup.trustAnchors.map(asBuffer),
  intermediates: setup.intermediates.map(asBuffer),
  policy: setup.policy,
  revocation,
  lookupSeal: async (certDer) => (await callHost('lookupSeal', certDer)) as { id: string; name: string } | undefined,
};

async function run(message: JobMessage): Promise<unknown> {
  const { job } = message;
  return startDeadline(message.processingTimeMs, () =>
    startWorkBudget(message.workLimits, () =>
      validatePdf(asBuffer(job.bytes), {
        ...context,
        validationTime: job.validationTime,
        offline: job.offline,
        pdfLimits: job.pdfLimits,
        ...(job.password ? { password: job.password } : {}),
      }),
    ),
  );
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'reply') {
    const pending = pendingCalls.get(message.callId);
    pendingCalls.delete(message.callId);
    if (!pending) return;
    if (message.ok) pending.resolve(message.value);
    else pending.reject(Object.assign(new Error(message.error?.message ?? 'the host call failed'), { name: message.error?.name ?? 'Error' }));
    return;
  }
  run(message).then(
    (value) => port.postMessage({ type: 'done', id: message.id, ok: true, value } satisfies DoneMessage),
    (err: unknown) => port.postMessage({ type: 'done', id: message.id, ok: false, error: errorToWire(err) } satisfies DoneMessage),
  );
});
