#!/usr/bin/env node
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AuditLog } from '../audit/log.js';
import { isValidUscc } from '../codes/check-characters.js';
import { ConfigError, loadConfig } from '../config.js';
import { ensureDevPki } from '../devpki/index.js';
import { CertificateRequestError, issueSealCertificateFromCsr } from '../devpki/issue.js';
import { buildCertificationRequest } from '../pki/csr.js';
import { derToPem, pemBlock, pemBlocks, pemToDerList } from '../pki/pem.js';
import { HsmError } from '../pki/pkcs11/errors.js';
import { generateTokenKey, KEY_TYPES, tokenPublicKey, type TokenKeyType } from '../pki/pkcs11/keygen.js';
import { Pkcs11KeyRefSchema, type Pkcs11KeyRef } from '../pki/pkcs11/key-ref.js';
import { finalizeModules } from '../pki/pkcs11/module.js';
import { Pkcs11Signer } from '../pki/pkcs11/token-signer.js';
import { sealCertificateSubject } from '../seals/certificate-subject.js';
import { SEAL_TYPES, type SealType } from '../seals/seal-types.js';
import { SealInputError } from '../seals/errors.js';
import { SealKeys } from '../seals/keys.js';
import { SealRepository } from '../seals/repository.js';
import { openDatabase } from '../store/open.js';

const USAGE = `usage:
  hsm keygen    TOKEN --label LABEL [--id HEX] [--type ${KEY_TYPES.join('|')}]
  hsm csr       TOKEN KEY SEAL [--rsa-padding pss] [--out FILE]
  hsm dev-issue --csr FILE --seal-type ${SEAL_TYPES.join('|')} [--out FILE]
  hsm register  TOKEN KEY SEAL --id SEAL_ID --cert CHAIN.pem [--image PNG] [--rsa-padding pss]
where
  TOKEN = --module LIBRARY.so (--token LABEL | --token-serial SERIAL) (--pin-env VAR | --pin-file FILE)
  KEY   = --key-label LABEL | --key-id HEX
  SEAL  = --org NAME --uscc CODE --seal-type ${SEAL_TYPES.join('|')}
keygen makes a key pair inside the token (sensitive, never extractable) and prints its id and
public key; csr prints a PKCS#10 request signed by the token key; dev-issue has the development
CA of DATA_DIR/pki issue the seal certificate, with the certificate policy of the seal type, and
prints the chain (leaf first); register adds
the seal to the database of DATA_DIR / DATABASE_URL once its key proves to match the certificate.`;

class UsageError extends Error {}

const OPTIONS = {
  module: { type: 'string' },
  token: { type: 'string' },
  'token-serial': { type: 'string' },
  'pin-env': { type: 'string' },
  'pin-file': { type: 'string' },
  label: { type: 'string' },
  id: { type: 'string' },
  type: { type: 'string' },
  'key-label': { type: 'string' },
  'key-id': { type: 'string' },
  org: { type: 'string' },
  uscc: { type: 'string' },
  'seal-type': { type: 'string' },
  'rsa-padding': { type: 'string' },
  csr: { type: 'string' },
  cert: { type: 'string' },
  image: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function required(values: Values, name: keyof Values): string {
  const value = values[name];
  if (typeof value !== 'string' || !value) throw new UsageError(`--${name} is required`);
  return value;
}

function tokenTarget(values: Values): Pick<Pkcs11KeyRef, 'module' | 'token' | 'pin'> {
  const token = { ...(values.token ? { label: values.token } : {}), ...(values['token-serial'] ? { serial: values['token-serial'] } : {}) };
  if (!token.label && !token.serial) throw new UsageError('name the token with --token LABEL or --token-serial SERIAL');
  const pin = values['pin-file'] ? { file: path.resolve(values['pin-file']) } : values['pin-env'] ? { env: values['pin-env'] } : undefined;
  if (!pin) throw new UsageError('say where the PIN is: --pin-env VAR or --pin-file FILE');
  return { module: required(values, 'module'), token, pin };
}

function keyRef(values: Values): Pkcs11KeyRef {
  const key = { ...(values['key-label'] ? { label: values['key-label'] } : {}), ...(values['key-id'] ? { id: values['key-id'].toLowerCase() } : {}) };
  const padding = values['rsa-padding'];
  const parsed = Pkcs11KeyRefSchema.safeParse({ kind: 'pkcs11', ...tokenTarget(values), key, ...(padding ? { rsaPadding: padding } : {}) });
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => `${i.path.join('.') || 'key'}: ${i.message}`).join('; '));
  return parsed.data;
}

function sealType(values: Values): SealType {
  const type = required(values, 'seal-type');
  if (!SEAL_TYPES.includes(type as SealType)) throw new UsageError(`--seal-type must be one of ${SEAL_TYPES.join(', ')}`);
  return type as SealType;
}

function sealFields(values: Values): { orgName: string; orgUscc: string; sealType: SealType } {
  const type = sealType(values);
  const orgUscc = required(values, 'uscc');
  if (!isValidUscc(orgUscc)) throw new UsageError(`${orgUscc} is not a valid unified social credit code (check character)`);
  return { orgName: required(values, 'org'), orgUscc, sealType: type };
}

function output(values: Values, text: string): void {
  if (values.out) writeFileSync(values.out, text);
  else process.stdout.write(text);
}

async function keygen(values: Values): Promise<void> {
  const type = (values.type ?? 'rsa-3072') as TokenKeyType;
  if (!KEY_TYPES.includes(type)) throw new UsageError(`--type must be one of ${KEY_TYPES.join(', ')}`);
  if (values.id && !/^([0-9a-f]{2})+$/i.test(values.id)) throw new UsageError('--id is hex');
  const target = tokenTarget(values);
  const label = required(values, 'label');
  const { id, publicKey } = await generateTokenKey(target, { type, label, id: values.id?.toLowerCase() });
  const result = { token: target.token, key: { label, id }, type, publicKey: publicKey.export({ format: 'pem', type: 'spki' }) };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

async function csr(values: Values): Promise<void> {
  const ref = keyRef(values);
  const publicKey = await tokenPublicKey(ref, ref.key);
  const der = await buildCertificationRequest({
    subject: sealCertificateSubject(sealFields(values)),
    publicKeySpki: publicKey.export({ format: 'der', type: 'spki' }),
    signer: await Pkcs11Signer.open(ref),
  });
  output(values, pemBlock('CERTIFICATE REQUEST', der));
}

async function devIssue(values: Values): Promise<void> {
  const config = loadConfig();
  if (!config.devPki) throw new UsageError('dev-issue is for development only: with DEV_PKI=false a real CA issues the seal certificate');
  const [csrDer] = pemBlocks('CERTIFICATE REQUEST', readFileSync(required(values, 'csr'), 'utf8'));
  if (!csrDer) throw new UsageError('--csr must be a PEM certificate request');
  const pki = await ensureDevPki({ dir: path.join(config.dataDir, 'pki'), baseUrl: config.baseUrl, seals: [] });
  const certDer = await issueSealCertificateFromCsr(csrDer, { baseUrl: pki.issuedBaseUrl, sealTypes: [sealType(values)] }, pki.sealCa);
  output(values, [certDer, pki.sealCa.certDer, pki.root.certDer].map(derToPem).join(''));
}

async function register(values: Values): Promise<void> {
  const ref = keyRef(values);
  const fields = sealFields(values);
  const chainDer = pemToDerList(readFileSync(required(values, 'cert'), 'utf8'));
  const imagePng = values.image ? readFileSync(values.image) : undefined;
  const config = loadConfig();
  const db = await openDatabase(config.database);
  try {
    // The keystore password only matters for PKCS#12 seals, which this command does not make.
    const audit = new AuditLog(db);
    const seals = new SealRepository({ db, audit, keys: new SealKeys(db, config.dataDir, config.keystorePassword ?? ''), sealTypePolicies: config.sealTypePolicies });
    const record = await seals.registerPkcs11({ id: required(values, 'id'), ...fields, chainDer, keyRef: ref, ...(imagePng ? { imagePng } : {}) });
    await audit.append({ actor: 'cli', action: 'seal.register', subject: record.id, details: { name: record.name, keyStorage: 'pkcs11', token: ref.token, key: ref.key } });
    process.stdout.write(`${JSON.stringify({ id: record.id, name: record.name, keyStorage: record.keyRef.kind, notAfter: record.notAfter }, null, 2)}\n`);
  } finally {
    await db.close();
  }
}

const COMMANDS: Record<string, (values: Values) => Promise<void>> = { keygen, csr, 'dev-issue': devIssue, register };

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  const command = COMMANDS[positionals[0] ?? ''];
  if (values.help || !command || positionals.length > 1) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  try {
    await command(values);
    return 0;
  } finally {
    finalizeModules();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`hsm: ${err.message}\n${USAGE}\n`);
      process.exit(2);
    }
    // These errors' messages say what to fix; anything else is unexpected.
    const expected = err instanceof HsmError || err instanceof SealInputError || err instanceof ConfigError || err instanceof CertificateRequestError;
    process.stderr.write(`hsm: ${expected ? (err as Error).message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
