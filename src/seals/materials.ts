import { PadesCmsBuilder } from '../pki/cms-signer.js';
import { pemToDer } from '../pki/pem.js';
import type { SealMaterial } from '../signing/pades.js';
import { pageImage } from './image-pipeline.js';
import type { SealKeys } from './keys.js';
import type { SealRecord } from './seal-record.js';

/** What signing with a seal needs (key, CMS pieces, prepared image), loaded once per process. */
export class SealMaterials {
  private readonly loaded = new Map<string, Promise<SealMaterial>>();

  constructor(private readonly keys: SealKeys) {}

  material(record: SealRecord): Promise<SealMaterial> {
    let material = this.loaded.get(record.id);
    if (!material) {
      material = this.load(record);
      this.loaded.set(record.id, material);
      material.catch(() => this.loaded.delete(record.id));
    }
    return material;
  }

  /** Drops what was loaded for these seals (they were revoked). */
  forget(sealIds: readonly string[]): void {
    for (const id of sealIds) this.loaded.delete(id);
  }

  private async load(record: SealRecord): Promise<SealMaterial> {
    const signer = await this.keys.signer(record);
    const image = pageImage(record.imagePng);
    const checkKey = signer.checkAvailable?.bind(signer);
    return { cms: new PadesCmsBuilder(record.chainPem.map(pemToDer), signer), image, signerName: record.name, ...(checkKey ? { checkKey } : {}) };
  }
}
