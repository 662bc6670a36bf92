import express, { Router } from 'express';
import { z } from 'zod';
import { SEAL_TYPES } from '../seals/seal-types.js';
import type { SealRepository } from '../seals/repository.js';
import type { SealRecord } from '../seals/seal-record.js';
import type { ApiClientStore } from '../store/api-clients.js';
import type { AuditLog } from '../audit/log.js';
import { X509Certificate } from 'node:crypto';
import { pemToDer } from '../pki/pem.js';
import { parseSesSeal } from '../pki/ses/ses-parse.js';
import { requireRole } from './auth.js';
import { HttpProblem } from './problem.js';

const base64 = (field: string, maxBytes: number) =>
  z
    .string()
    .regex(/^[A-Za-z0-9+/=\s]+$/, `${field} must be base64`)
    .transform((s) => Buffer.from(s, 'base64'))
    .refine((b) => b.length > 0 && b.length <= maxBytes, `${field} must be 1 to ${maxBytes} bytes`);

export const NewSealBody = z
  .object({
    /**
     * As `POST /v1/seal?sealId=` can name it: 1 to 64 characters, no leading or trailing space,
     * no control or format characters and no lone surrogate (the id is also an audit subject,
     * which cannot hold one, and a URL segment).
     */
    id: z
      .string()
      .min(1)
      .max(64)
      .regex(/^\S(?:.*\S)?$/su, 'id must not begin or end with white space')
      .regex(/^[^\p{Cc}\p{Cf}]*$/u, 'id must not hold control or format characters')
      .regex(/^\P{Cs}*$/u, 'id must not hold a lone surrogate')
      .optional(),
    orgName: z.string().trim().min(1).max(60),
    orgUscc: z.string().trim().toUpperCase(),
    sealType: z.enum(SEAL_TYPES),
    diameterMm: z.number().min(20).max(60).optional(),
    pkcs12: base64('pkcs12', 1024 * 1024),
    password: z.string().max(1024),
    image: base64('image', 5 * 1024 * 1024).optional(),
    /** A national e-seal (GB/T 38540 SESeal, or GM/T 0031) made for the certificate in pkcs12, DER in base64. */
    sesSeal: base64('sesSeal', 4 * 1024 * 1024).optional(),
  })
  .strict();

/** What a national e-seal says of itself, as GET /v1/seals/{id} shows it. */
function nationalSealJson(der: Buffer) {
  const { layout, info, makerCertificate } = parseSesSeal(der);
  let maker: string | null = null;
  try {
    maker = new X509Certificate(makerCertificate).subject.replace(/\n/g, ', ');
  } catch {
    maker = null; // checked at registration; shown when readable
  }
  return {
    standard: layout === 4 ? 'GB/T 38540-2020' : 'GM/T 0031-2014',
    esId: info.esId,
    name: info.name,
    type: info.type,
    vendorId: info.vendorId,
    maker,
    createdAt: info.createdAt.toISOString(),
    validFrom: info.validFrom.toISOString(),
    validTo: info.validTo.toISOString(),
    picture: { format: info.picture.format, widthMm: info.picture.widthMm, heightMm: info.picture.heightMm },
  };
}

export function sealJson(seal: SealRecord) {
  return {
    id: seal.id,
    name: seal.name,
    orgName: seal.orgName,
    orgUscc: seal.orgUscc,
    sealType: seal.sealType,
    diameterMm: seal.diameterMm,
    status: seal.status,
    notBefore: seal.notBefore,
    notAfter: seal.notAfter,
    keyStorage: seal.keyRef.kind,
    certificateChain: seal.chainPem,
    image: `/v1/seals/${encodeURIComponent(seal.id)}/image.png`,
    nationalSeal: seal.sesSeal ? nationalSealJson(seal.sesSeal) : null,
  };
}

export function sealsRouter(deps: { seals: SealRepository; clients: ApiClientStore; audit: AuditLog; onRevoked?: (certDer: Buffer) => Promise<void> }): Router {
  const router = Router();
  router.get('/v1/seals', requireRole(deps.clients, 'seal'), async (req, res, next) => {
    try {
      const seals = await deps.seals.list();
      res.json({ seals: seals.map((s) => ({ ...sealJson(s), permitted: req.client!.sealIds.includes(s.id) })) });
    } catch (err) {
      next(err);
    }
  });
  const getSeal = async (id: string): Promise<SealRecord> => {
    const seal = await deps.seals.get(id);
    if (!seal) throw new HttpProblem(404, 'unknown-seal', 'No such seal', `there is no seal "${id}"`);
    return seal;
  };
  router.get('/v1/seals/:id', requireRole(deps.clients, 'seal'), async (req, res, next) => {
    try {
      const seal = await getSeal(String(req.params.id));
      res.json({ ...sealJson(seal), permitted: req.client!.sealIds.includes(seal.id) });
    } catch (err) {
      next(err);
    }
  });
  router.get('/v1/seals/:id/image.png', requireRole(deps.clients, 'seal'), async (req, res, next) => {
    try {
      const seal = await getSeal(String(req.params.id));
      res.type('image/png').send(seal.imagePng);
    } catch (err) {
      next(err);
    }
  });
  router.post('/v1/seals', requireRole(deps.clients, 'admin'), express.json({ limit: 8 * 1024 * 1024 }), async (req, res, next) => {
    try {
      const body = NewSealBody.parse(req.body);
      const seal = await deps.seals.importPkcs12({
        id: body.id,
        orgName: body.orgName,
        orgUscc: body.orgUscc,
        sealType: body.sealType,
        diameterMm: body.diameterMm,
        imagePng: body.image,
        pkcs12: body.pkcs12,
        password: body.password,
        ...(body.sesSeal ? { sesSeal: body.sesSeal } : {}),
      });
      await deps.clients.grantSeal(req.client!.id, seal.id);
      await deps.audit.append({ actor: req.client!.id, action: 'seal.register', subject: seal.id, details: { orgUscc: seal.orgUscc, sealType: seal.sealType, ...(seal.sesSeal ? { nationalSeal: parseSesSeal(seal.sesSeal).info.esId } : {}) } });
      res.status(201).location(`/v1/seals/${encodeURIComponent(seal.id)}`).json(sealJson(seal));
    } catch (err) {
      next(err);
    }
  });
  router.post('/v1/seals/:id/revoke', requireRole(deps.clients, 'admin'), express.json({ limit: 16 * 1024 }), async (req, res, next) => {
    try {
      const body = z.object({ reason: z.number().int().min(0).max(10).default(0) }).strict().parse(req.body ?? {});
      const seal = await getSeal(String(req.params.id));
      if (seal.status === 'revoked') throw new HttpProblem(409, 'seal-already-revoked', 'The seal is revoked already', `seal ${seal.id} was revoked before`);
      // every registration of the seal's certificate is revoked with it, and recorded, in one transaction
      const revoked = await deps.seals.revoke(seal.id, body.reason, new Date(), req.client!.id);
      await deps.onRevoked?.(pemToDer(seal.chainPem[0]!));
      res.json({ ...sealJson((await deps.seals.get(seal.id))!), revokedRegistrations: revoked });
    } catch (err) {
      next(err);
    }
  });
  return router;
}
