import { Router } from 'express';

/** What the development PKI publishes at the URLs its certificates name. */
export interface PublishedPki {
  rootCertDer: Buffer;
  sealCaCertDer: Buffer;
  /** Current CRLs, built on request so their times are fresh. */
  rootCrl(): Promise<Buffer>;
  sealCaCrl(): Promise<Buffer>;
}

export function pkiRouter(pki: PublishedPki): Router {
  const router = Router();
  router.get('/pki/root.cer', (_req, res) => {
    res.type('application/pkix-cert').send(pki.rootCertDer);
  });
  router.get('/pki/seal-ca.cer', (_req, res) => {
    res.type('application/pkix-cert').send(pki.sealCaCertDer);
  });
  router.get('/pki/root.crl', async (_req, res, next) => {
    try {
      res.type('application/pkix-crl').send(await pki.rootCrl());
    } catch (err) {
      next(err);
    }
  });
  router.get('/pki/seal-ca.crl', async (_req, res, next) => {
    try {
      res.type('application/pkix-crl').send(await pki.sealCaCrl());
    } catch (err) {
      next(err);
    }
  });
  return router;
}
