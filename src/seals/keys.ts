import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadPkcs12Signer } from '../pki/key-object-signer.js';
import { signerMatchesCertificate } from '../pki/key-match.js';
import { pemToDer } from '../pki/pem.js';
import { writePkcs12 } from '../pki/pfx.js';
import { HsmError } from '../pki/pkcs11/errors.js';
import { describeKey, describeToken, type Pkcs11KeyRef } from '../pki/pkcs11/key-ref.js';
import { Pkcs11Signer } from '../pki/pkcs11/token-signer.js';
import type { Signer } from '../pki/signer.js';
import type { Db } from '../store/db.js';
import type { SealRecord } from './seal-record.js';

/**
 * Turns a seal's key reference into a signer: a PKCS#12 keystore (in the database, or a file of
 * an older data directory) opened with the service's keystore password, whose key may be RSA, EC
 * or SM2, or a key in a PKCS#11 token. Also wraps imported keys under that password.
 */
export class SealKeys {
  constructor(
    private readonly db: Db,
    private readonly dataDir: string,
    private readonly keystorePassword: string,
  ) {}

  /** A keystore for an imported key under the service's password, so the uploader's is not kept. */
  wrap(privateKey: KeyObject, chainDer: Buffer[], sealId: string): Buffer {
    return writePkcs12({ privateKey, chainDer, password: this.keystorePassword, friendlyName: sealId });
  }

  /** The signer of a seal's key; the key must belong to the registered certificate. */
  async signer(record: SealRecord): Promise<Signer> {
    const { keyRef } = record;
    const registeredLeaf = pemToDer(record.chainPem[0]!);
    if (keyRef.kind === 'pkcs11') return openTokenSigner(keyRef, registeredLeaf);
    const keystore = await this.keystore({ ...record, keyRef });
    const { signer, chainDer } = loadPkcs12Signer(keystore, this.keystorePassword);
    if (!chainDer[0]?.equals(registeredLeaf)) throw new Error(`keystore of seal ${record.id} holds another certificate`);
    return signer;
  }

  private async keystore(record: SealRecord & { keyRef: { kind: 'pkcs12' } }): Promise<Buffer> {
    if ('file' in record.keyRef) return readFileSync(path.resolve(this.dataDir, record.keyRef.file));
    const row = await this.db.get<{ pkcs12: Buffer }>('SELECT pkcs12 FROM seal_keystores WHERE seal_id = ?', [record.id]);
    if (!row) throw new Error(`the keystore of seal ${record.id} is missing from the database`);
    return row.pkcs12;
  }
}

/** Opens a token key and checks that it is the key of the seal's certificate. */
export async function openTokenSigner(keyRef: Pkcs11KeyRef, certDer: Buffer): Promise<Signer> {
  const signer = await Pkcs11Signer.open(keyRef);
  if (!(await signerMatchesCertificate(signer, certDer))) {
    throw new HsmError('key_mismatch', `the key ${describeKey(keyRef.key)} on token ${describeToken(keyRef.token)} is not the key of the seal's certificate`);
  }
  return signer;
}
