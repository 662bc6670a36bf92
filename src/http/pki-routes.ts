import { Router } from 'express';

/** What the development PKI publishes at the URLs its certificates name. */
export interface PublishedPki {
  rootCertDer: Buffer;
  sealCaCertDer: Buffer;
  sm2RootCertDer: Buffer;
  sm2SealCaCertDer: Buffer;
  /** Current CRLs, built on request so their times are fresh. */
  rootCrl(): Promise<Buffer>;
  sealCaCrl(): Promise<Buffer>;
  sm2RootCrl(): Promise<Buffer>;
  sm2SealCaCrl(): Promise<Buffer>;
}

export function pkiRouter(pki: PublishedPki): Router {
  const router = Router();
  const certificates: Record<string, Buffer> = {
    root: pki.rootCertDer,
    'seal-ca': pki.sealCaCertDer,
    'sm2-root': pki.sm2RootCertDer,
    'sm2-seal-ca': pki.sm2SealCaCertDer,
  };
  const crls: Record<string, () => Promise<Buffer>> = {
    root: () => pki.rootCrl(),
    'seal-ca': () => pki.sealCaCrl(),
    'sm2-root': () => pki.sm2RootCrl(),
    'sm2-seal-ca': () => pki.sm2SealCaCrl(),
  };
  for (const [name, der] of Object.entries(certificates)) {
    router.get(`/pki/${name}.cer`, (_req, res) => {
      res.type('application/pkix-cert').send(der);
    });
  }
  for (const [name, crl] of Object.entries(crls)) {
    router.get(`/pki/${name}.crl`, async (_req, res, next) => {
      try {
        res.type('application/pkix-crl').send(await crl());
      } catch (err) {
        next(err);
      }
    });
  }
  return router;
}
