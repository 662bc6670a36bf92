import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { certificatePolicyOids, readCertFields } from '../pki/cert-fields.js';
import { derToPem } from '../pki/pem.js';
import type { SealType } from '../seals/seal-types.js';
import { readPkcs12, writePkcs12 } from '../pki/pfx.js';
import { EXTENDED_KEY_USAGE, issueCertificate, issueSealCertificate, KEY_USAGE, validityYears, type Issued } from './issue.js';
import { DEV_SEAL_TYPE_POLICY } from './seal-policies.js';
import { ensureDevSesSeal } from './seal-maker.js';

export type { Issued } from './issue.js';

export interface DevPkiSealSpec {
  id: string;
  orgName: string;
  uscc: string;
  /** Appended to the organisation name in the certificate's CN (e.g. 审批专用章; empty for an official seal). */
  sealName: string;
  /** The seal type the certificate is issued for: its development certificate policy. */
  sealType: SealType;
  /** An `sm2` seal's certificate comes from the SM2 seal CA. */
  keyKind: 'rsa' | 'ec' | 'sm2';
}

/** The SM2 hierarchy beside the RSA one: root, seal CA and the OCSP responder for its certificates, all SM2-with-SM3. */
export interface DevSm2Pki {
  root: Issued;
  sealCa: Issued;
  ocsp: Issued;
  /** The seal maker (制章者) of the national e-seals (GB/T 38540 SESeal) of the SM2 sample seals. */
  maker: Issued;
  /** A time-stamping authority that signs SM2 with SM3 (DEV_TSA_KEY=sm2). */
  tsa: Issued;
}

export interface DevPki {
  dir: string;
  root: Issued;
  sealCa: Issued;
  ocsp: Issued;
  tsa: Issued;
  sm2: DevSm2Pki;
  /** An SM2 seal also has its national e-seal (SESeal DER), made by `sm2.maker`. */
  seals: Array<DevPkiSealSpec & { p12Path: string; chainDer: Buffer[]; sesSeal?: Buffer }>;
  /** Password of every keystore under `dir`. */
  keystorePassword: string;
  /** The base URL written into the certificates when the PKI was made. */
  issuedBaseUrl: string;
}

function writeSecret(file: string, data: Buffer | string): void {
  writeFileSync(`${file}.tmp`, data, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

/**
 * The development PKI of the embedded default, made on first use under `dir` and loaded from
 * there afterwards. Private keys exist only inside PKCS#12 keystores (mode 600). Certificates
 * keep the base URL they were issued with; a changed BASE_URL affects only seals added later.
 */
export async function ensureDevPki(opts: { dir: string; baseUrl: string; seals: DevPkiSealSpec[] }): Promise<DevPki> {
  const { dir, baseUrl } = opts;
  mkdirSync(path.join(dir, 'seals'), { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const passwordFile = path.join(dir, 'keystore-password');
  if (!existsSync(passwordFile)) writeSecret(passwordFile, randomBytes(24).toString('base64url'));
  const password = readFileSync(passwordFile, 'utf8').trim();
  const baseUrlFile = path.join(dir, 'base-url');
  if (!existsSync(baseUrlFile)) writeFileSync(baseUrlFile, `${baseUrl}\n`);
  const issuedBaseUrl = readFileSync(baseUrlFile, 'utf8').trim();

  /** A keystore made earlier is used again unless `stillFits` says its certificate no longer matches what is issued now. */
  const loadOrIssue = async (name: string, make: () => Promise<Issued>, chain: () => Buffer[], stillFits: (certDer: Buffer) => boolean = () => true): Promise<Issued> => {
    const file = path.join(dir, `${name}.p12`);
    if (existsSync(file)) {
      const { privateKey, chainDer } = readPkcs12(readFileSync(file), password);
      if (stillFits(chainDer[0]!)) return { certDer: chainDer[0]!, privateKey };
    }
    const issued = await make();
    writeSecret(file, writePkcs12({ privateKey: issued.privateKey, chainDer: [issued.certDer, ...chain()], password, friendlyName: name }));
    return issued;
  };

  const root = await loadOrIssue(
    'root',
    () =>
      issueCertificate({
        subject: [['C', 'CN'], ['O', 'E-Seal Development PKI'], ['CN', 'E-Seal Development Root CA']],
        keyKind: 'rsa',
        ...validityYears(20),
        ca: {},
        keyUsage: KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign,
      }),
    () => [],
  );
  const sealCa = await loadOrIssue(
    'seal-ca',
    () =>
      issueCertificate(
        {
          subject: [['C', 'CN'], ['O', 'E-Seal Development PKI'], ['CN', 'E-Seal Development Seal CA']],
          keyKind: 'rsa',
          ...validityYears(10),
          ca: { pathLength: 0 },
          keyUsage: KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign,
          crlUrl: `${baseUrl}/pki/root.crl`,
          caIssuersUrl: `${baseUrl}/pki/root.cer`,
        },
        root,
      ),
    () => [root.certDer],
  );
  const serviceCert = (name: string, cn: string, eku: string, extra: { ocspNoCheck?: boolean }) =>
    loadOrIssue(
      name,
      () =>
        issueCertificate(
          {
            subject: [['C', 'CN'], ['O', 'E-Seal Development PKI'], ['CN', cn]],
            keyKind: 'ec',
            ...validityYears(5),
            keyUsage: KEY_USAGE.digitalSignature,
            extendedKeyUsage: { usages: [eku], critical: true },
            crlUrl: `${baseUrl}/pki/seal-ca.crl`,
            ...extra,
          },
          sealCa,
        ),
      () => [sealCa.certDer, root.certDer],
    );
  const ocsp = await serviceCert('ocsp', 'E-Seal Development OCSP Responder', EXTENDED_KEY_USAGE.ocspSigning, { ocspNoCheck: true });
  const tsa = await serviceCert('tsa', 'E-Seal Development TSA', EXTENDED_KEY_USAGE.timeStamping, {});

  const sm2 = await ensureSm2Hierarchy(loadOrIssue, baseUrl);

  const seals: DevPki['seals'] = [];
  for (const spec of opts.seals) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(spec.id)) throw new Error(`bad seal id ${spec.id}`);
    const p12Path = path.join(dir, 'seals', `${spec.id}.p12`);
    const [issuingCa, issuingRoot] = spec.keyKind === 'sm2' ? [sm2.sealCa, sm2.root] : [sealCa, root];
    const issued = await loadOrIssue(
      path.join('seals', spec.id),
      () => issueSealCertificate({ orgName: spec.orgName, uscc: spec.uscc, sealName: spec.sealName, sealTypes: [spec.sealType], keyKind: spec.keyKind, baseUrl }, issuingCa),
      () => [issuingCa.certDer, issuingRoot.certDer],
      // seal certificates from before seal type policies are issued again (a registered seal keeps its own copy)
      (certDer) => certificatePolicyOids(readCertFields(certDer))?.includes(DEV_SEAL_TYPE_POLICY[spec.sealType]) ?? false,
    );
    const sesSeal = spec.keyKind === 'sm2' ? await ensureDevSesSeal(path.join(dir, 'seals', `${spec.id}.ses`), { ...spec, certDer: issued.certDer }, sm2.maker) : undefined;
    seals.push({ ...spec, p12Path, chainDer: [issued.certDer, issuingCa.certDer, issuingRoot.certDer], ...(sesSeal ? { sesSeal } : {}) });
  }
  writeFileSync(path.join(dir, 'root.pem'), derToPem(root.certDer));
  writeFileSync(path.join(dir, 'seal-ca.pem'), derToPem(sealCa.certDer));
  writeFileSync(path.join(dir, 'sm2-root.pem'), derToPem(sm2.root.certDer));
  writeFileSync(path.join(dir, 'sm2-seal-ca.pem'), derToPem(sm2.sealCa.certDer));
  return { dir, root, sealCa, ocsp, tsa, sm2, seals, keystorePassword: password, issuedBaseUrl };
}

type LoadOrIssue = (name: string, make: () => Promise<Issued>, chain: () => Buffer[]) => Promise<Issued>;

/** The SM2 root, seal CA and OCSP responder, published under /pki/sm2-*; keystores as for the RSA hierarchy. */
async function ensureSm2Hierarchy(loadOrIssue: LoadOrIssue, baseUrl: string): Promise<DevSm2Pki> {
  const subject = (cn: string): Array<[string, string]> => [['C', 'CN'], ['O', 'E-Seal Development PKI'], ['CN', cn]];
  const root = await loadOrIssue(
    'sm2-root',
    () => issueCertificate({ subject: subject('E-Seal Development SM2 Root CA'), keyKind: 'sm2', ...validityYears(20), ca: {}, keyUsage: KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign }),
    () => [],
  );
  const sealCa = await loadOrIssue(
    'sm2-seal-ca',
    () =>
      issueCertificate(
        {
          subject: subject('E-Seal Development SM2 Seal CA'),
          keyKind: 'sm2',
          ...validityYears(10),
          ca: { pathLength: 0 },
          keyUsage: KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign,
          crlUrl: `${baseUrl}/pki/sm2-root.crl`,
          caIssuersUrl: `${baseUrl}/pki/sm2-root.cer`,
        },
        root,
      ),
    () => [root.certDer],
  );
  const ocsp = await loadOrIssue(
    'sm2-ocsp',
    () =>
      issueCertificate(
        {
          subject: subject('E-Seal Development SM2 OCSP Responder'),
          keyKind: 'sm2',
          ...validityYears(5),
          keyUsage: KEY_USAGE.digitalSignature,
          extendedKeyUsage: { usages: [EXTENDED_KEY_USAGE.ocspSigning], critical: true },
          crlUrl: `${baseUrl}/pki/sm2-seal-ca.crl`,
          ocspNoCheck: true,
        },
        sealCa,
      ),
    () => [sealCa.certDer, root.certDer],
  );
  const maker = await loadOrIssue(
    'sm2-seal-maker',
    () =>
      issueCertificate(
        {
          subject: subject('E-Seal Development Seal Maker'),
          keyKind: 'sm2',
          ...validityYears(10),
          keyUsage: KEY_USAGE.digitalSignature | KEY_USAGE.nonRepudiation,
          crlUrl: `${baseUrl}/pki/sm2-root.crl`,
          caIssuersUrl: `${baseUrl}/pki/sm2-root.cer`,
        },
        root,
      ),
    () => [root.certDer],
  );
  const tsa = await loadOrIssue(
    'sm2-tsa',
    () =>
      issueCertificate(
        {
          subject: subject('E-Seal Development SM2 TSA'),
          keyKind: 'sm2',
          ...validityYears(5),
          keyUsage: KEY_USAGE.digitalSignature,
          extendedKeyUsage: { usages: [EXTENDED_KEY_USAGE.timeStamping], critical: true },
          crlUrl: `${baseUrl}/pki/sm2-seal-ca.crl`,
        },
        sealCa,
      ),
    () => [sealCa.certDer, root.certDer],
  );
  return { root, sealCa, ocsp, maker, tsa };
}
