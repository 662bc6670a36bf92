import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, type KeyObject } from 'node:crypto';
import { assertWithinBudget } from '../pdf/limits/work-budget.js';
import { PdfDocument } from '../pdf/document.js';
import { PadesCmsBuilder } from '../pki/cms-signer.js';
import { KeyObjectSigner } from '../pki/key-object-signer.js';
import type { Signer } from '../pki/signer.js';
import type { Timestamper } from '../pki/timestamper.js';
import { extendDocument, type ExtendResult } from '../signing/extend.js';
import { sealAtLevel, type EvidenceSource } from '../signing/levels.js';
import type { PreparedImage } from '../pdf/image.js';
import type { SealMaterial } from '../signing/pades.js';
import { SesSignatureBuilder } from '../signing/ses-container.js';
import { placementFor } from '../signing/placement.js';
import { assertSealable } from '../signing/preconditions.js';
import { validatePdf, type ValidationContext } from '../validation/engine.js';
import type { ValidationReport } from '../validation/report.js';
import { asBuffer, IMAGES_KEPT_PER_THREAD, KEYS_KEPT_PER_THREAD, type ExtendJob, type LocalSigning, type HostCalls, type SealJob, type SealJobResult, type SerialisedReport, type VerifyJob } from './worker-protocol.js';

/**
 * What a PDF worker thread does with each kind of job. The HTTP thread is reached through
 * `host` for everything that needs its state: revocation status and caches, the seal registry,
 * the seal's key, the TSA.
 */

export interface JobContext {
  host: HostCalls;
  validation: Omit<ValidationContext, 'validationTime' | 'pdfLimits' | 'revocation' | 'lookupSeal'>;
  /** The one timestamper object of this thread, so that its token size is probed once (signing/token-size.ts). */
  timestamper: Timestamper;
}

/** Verifies; a `json` job gets the report serialised here, so the HTTP thread only writes it out. */
export async function runVerify(job: VerifyJob, ctx: JobContext): Promise<ValidationReport | SerialisedReport> {
  const report = await validate(job, ctx);
  if (job.answer !== 'json') return report;
  return { json: JSON.stringify(report), indications: report.signatures.map((s) => s.indication) };
}

/**
 * Registered seals found by signer certificate, kept by this thread as the HTTP thread keeps
 * them: a certificate serves one seal for good (its registration is the primary key of
 * `seal_certificates`) and a seal's name never changes, so a seal once found stays the answer.
 * Certificates of no registered seal are asked each time (a seal may be registered meanwhile).
 */
const sealsByCertificate = new Map<string, { id: string; name: string }>();
const MAX_SEALS_KEPT = 10_000;

async function lookupSeal(certDer: Buffer, ctx: JobContext): Promise<{ id: string; name: string } | undefined> {
  const key = createHash('sha256').update(certDer).digest('base64');
  const known = sealsByCertificate.get(key);
  if (known) return known;
  const found = await ctx.host.lookupSeal(certDer);
  if (found && sealsByCertificate.size < MAX_SEALS_KEPT) sealsByCertificate.set(key, found);
  return found;
}

function validate(job: VerifyJob, ctx: JobContext): Promise<ValidationReport> {
  return validatePdf(asBuffer(job.bytes), {
    ...ctx.validation,
    revocation: { check: (chain, at, options) => ctx.host.revocation(chain, at, options ?? {}) },
    lookupSeal: (certDer) => lookupSeal(certDer, ctx),
    validationTime: job.validationTime,
    offline: job.offline,
    pdfLimits: job.pdfLimits,
    ...(job.password ? { password: job.password } : {}),
  });
}

function evidenceSource(ctx: JobContext): EvidenceSource {
  return {
    crlsFor: (chain) => ctx.host.crlsFor(chain),
    ocspsFor: (chain) => ctx.host.ocspsFor(chain),
    trustAnchors: ctx.validation.trustAnchors,
    intermediates: ctx.validation.intermediates ?? [],
  };
}

/**
 * CMS builders by seal and certificate: everything in them that depends only on the certificate
 * is computed once per thread. Their signer is the job at hand's: its local key while that may
 * sign here, else the host's signer. The job at hand is found through async context, not a
 * variable of the thread: on the HTTP thread (`inline-sealing.ts`) several jobs may be between
 * their steps at once, and each must sign with its own.
 */
const builders = new Map<string, PadesCmsBuilder>();
const MAX_BUILDERS = 64;
const signingJob = new AsyncLocalStorage<{ host: HostCalls; local?: LocalSigning }>();

/** Keys this thread has been sent for signing here, by id (the pool sends each once per thread). */
const localKeys = new Map<string, KeyObjectSigner>();

function rememberLocalKey(localSigning: LocalSigning | undefined): void {
  if (!localSigning?.key) return;
  if (localKeys.size >= KEYS_KEPT_PER_THREAD) localKeys.delete(localKeys.keys().next().value!);
  localKeys.set(localSigning.keyId, new KeyObjectSigner(localSigning.key as KeyObject));
}

function builderFor(seal: SealJob['seal']): PadesCmsBuilder {
  const chain = seal.chainDer.map(asBuffer);
  const key = `${seal.id}:${chain[0]!.toString('base64')}`;
  let builder = builders.get(key);
  if (!builder) {
    builder = new PadesCmsBuilder(chain, hostSigner(seal));
    if (builders.size >= MAX_BUILDERS) builders.delete(builders.keys().next().value!);
    builders.set(key, builder);
  }
  return builder;
}

/** The job's seal key: in this thread while its local signing lasts, else on the HTTP thread. */
function hostSigner(seal: SealJob['seal']): Signer {
  return {
    key: seal.keyInfo,
    sign: (data, digest) => {
      const job = signingJob.getStore();
      if (!job) throw new Error('no sealing job is running');
      const local = job.local && Date.now() <= job.local.until ? localKeys.get(job.local.keyId) : undefined;
      return local ? local.sign(data, digest) : job.host.sign(data, digest);
    },
  };
}

/** SES_Signature builders by seal and national e-seal (each seal parsed once per thread). */
const sesBuilders = new Map<string, SesSignatureBuilder>();

function sesBuilderFor(seal: SealJob['seal']): SesSignatureBuilder | undefined {
  if (!seal.sesSeal) return undefined;
  const sesSeal = asBuffer(seal.sesSeal);
  const leaf = asBuffer(seal.chainDer[0]!);
  const key = `${seal.id}:${createHash('sha256').update(sesSeal).update(leaf).digest('base64')}`;
  let builder = sesBuilders.get(key);
  if (!builder) {
    builder = new SesSignatureBuilder(sesSeal, leaf, hostSigner(seal));
    if (sesBuilders.size >= MAX_BUILDERS) sesBuilders.delete(sesBuilders.keys().next().value!);
    sesBuilders.set(key, builder);
  }
  return builder;
}

/** Seal images this thread has been sent, by key (the pool sends each image once per thread). */
const images = new Map<string, PreparedImage>();

function imageFor(seal: SealJob['seal']): PreparedImage {
  if (seal.image && !images.has(seal.imageKey)) {
    const { image } = seal;
    if (images.size >= IMAGES_KEPT_PER_THREAD) images.delete(images.keys().next().value!);
    images.set(seal.imageKey, { width: image.width, height: image.height, rgbDeflated: asBuffer(image.rgbDeflated), alphaDeflated: image.alphaDeflated ? asBuffer(image.alphaDeflated) : null });
  }
  const image = images.get(seal.imageKey);
  if (!image) throw new Error(`the seal image ${seal.imageKey} was never sent to this thread`);
  return image;
}

export async function runSeal(job: SealJob, ctx: JobContext): Promise<SealJobResult> {
  const image = imageFor(job.seal);
  const doc = PdfDocument.load(asBuffer(job.bytes), job.pdfLimits);
  assertSealable(doc);
  const placement = placementFor(doc, job.placement, job.seal.diameterMm);
  const ses = sesBuilderFor(job.seal);
  const material: SealMaterial = { cms: builderFor(job.seal), image, signerName: job.seal.signerName, ...(ses ? { ses } : {}) };
  rememberLocalKey(job.localSigning);
  return signingJob.run({ host: ctx.host, ...(job.localSigning ? { local: job.localSigning } : {}) }, async () => {
    const sealed = await sealAtLevel(doc, material, {
      level: job.level,
      placement,
      reason: job.reason,
      location: job.location,
      docMdp: job.docMdp,
      format: job.format,
      timestamper: job.timestamping ? ctx.timestamper : undefined,
      evidence: job.evidence ? evidenceSource(ctx) : undefined,
      limits: job.pdfLimits,
    });
    assertWithinBudget();
    const documentSha256 = sealed.parts.reduce((hash, part) => hash.update(part), createHash('sha256')).digest('hex');
    // B-B and B-T: the original bytes followed by the update; only the update goes back.
    if (sealed.parts.length === 2 && sealed.parts[0] === doc.bytes) return { fieldName: sealed.fieldName, documentSha256, appended: sealed.parts[1]! };
    return { fieldName: sealed.fieldName, documentSha256, pdf: Buffer.concat(sealed.parts) };
  });
}

export async function runExtend(job: ExtendJob, ctx: JobContext): Promise<ExtendResult & { documentSha256: string }> {
  const result = await extendDocument(asBuffer(job.bytes), job.level, { timestamper: ctx.timestamper, evidence: evidenceSource(ctx), limits: job.pdfLimits, strict: job.strict });
  assertWithinBudget();
  return { ...result, documentSha256: createHash('sha256').update(result.pdf).digest('hex') };
}
