import { sign, type KeyObject } from 'node:crypto';
import { readPkcs12 } from './pfx.js';
import type { DigestName, Signer, SignerKeyInfo } from './signer.js';
import { sm2SignerFromKeyObject } from './sm2/sm2-signer.js';

/** Node's names of the curves seal keys may use, by their usual names. */
export const NODE_CURVES: Record<string, 'P-256' | 'P-384' | 'P-521'> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

/** A signer over an RSA or EC key held in this process (loaded from a PKCS#12 keystore). */
export class KeyObjectSigner implements Signer {
  readonly key: SignerKeyInfo;

  constructor(private readonly privateKey: KeyObject) {
    const details = privateKey.asymmetricKeyDetails ?? {};
    if (privateKey.asymmetricKeyType === 'rsa') {
      this.key = { kind: 'rsa', modulusBits: details.modulusLength ?? 2048 };
    } else if (privateKey.asymmetricKeyType === 'ec' && details.namedCurve && NODE_CURVES[details.namedCurve]) {
      this.key = { kind: 'ec', curve: NODE_CURVES[details.namedCurve]! };
    } else {
      throw new Error(`unsupported seal key type ${privateKey.asymmetricKeyType} ${details.namedCurve ?? ''}`.trim());
    }
  }

  async sign(data: Buffer, digest: DigestName): Promise<Buffer> {
    return sign(digest, data, this.privateKey);
  }

  /** The key, for a PDF thread of this process to sign with (runtime/worker-protocol.ts, `LocalSigning`). */
  get keyObject(): KeyObject {
    return this.privateKey;
  }
}

/** A signer for a key read from a keystore: SM2 keys get the SM2 signer, RSA and EC keys node:crypto's. */
export function signerForPrivateKey(privateKey: KeyObject): Signer {
  return sm2SignerFromKeyObject(privateKey) ?? new KeyObjectSigner(privateKey);
}

export function loadPkcs12Signer(bytes: Buffer, password: string): { signer: Signer; chainDer: Buffer[] } {
  const { privateKey, chainDer } = readPkcs12(bytes, password);
  return { signer: signerForPrivateKey(privateKey), chainDer };
}
