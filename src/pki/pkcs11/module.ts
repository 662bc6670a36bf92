import { P11, type Handle, type Pkcs11 } from './binding.js';
import { HsmError } from './errors.js';
import { describeToken, type TokenSelector } from './key-ref.js';

/**
 * Some modules (SoftHSM among them) only see tokens as they were at C_Initialize, so a token
 * that is not found makes the module re-initialise, at most this often.
 */
export const RESCAN_INTERVAL_MS = 1_000;

/**
 * One PKCS#11 library, loaded and initialised once per process. When a token goes away the
 * module is re-initialised (once no call is running on it), which is how modules that list
 * tokens only at C_Initialize see it again; `generation` counts initialisations, so session
 * pools know their handles are void.
 */
export class Pkcs11Module {
  private lib: Pkcs11 | undefined;
  generation = 0;
  private initialisedAt = 0;
  private lost = false;
  private running = 0;
  private drained: Array<() => void> = [];

  constructor(readonly path: string) {}

  /** The initialised library. */
  get api(): Pkcs11 {
    if (!this.lib) {
      const lib = new P11.PKCS11();
      try {
        lib.load(this.path);
      } catch (err) {
        throw new HsmError('module_missing', `the PKCS#11 module ${this.path} cannot be loaded: ${(err as Error).message}`);
      }
      this.lib = lib;
    }
    if (this.initialisedAt === 0) this.initialise(this.lib);
    return this.lib;
  }

  private initialise(lib: Pkcs11): void {
    try {
      lib.C_Initialize({ flags: P11.CKF_OS_LOCKING_OK });
    } catch (err) {
      // Another part of the process initialised the same library: its state is shared.
      if (!(err instanceof P11.Pkcs11Error && err.code === P11.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
        throw new HsmError('module_missing', `the PKCS#11 module ${this.path} cannot be initialised: ${(err as Error).message}`);
      }
    }
    this.initialisedAt = Date.now();
    this.generation++;
    this.lost = false;
  }

  /** Marks that a token of this module went away; the next slot lookup re-initialises. */
  markLost(): void {
    this.lost = true;
  }

  /** Brackets a call that uses a session, so re-initialisation never runs under it. */
  enter(): void {
    this.running++;
  }

  leave(): void {
    this.running--;
    if (this.running === 0) for (const resolve of this.drained.splice(0)) resolve();
  }

  private async reinitialise(): Promise<void> {
    while (this.running > 0) await new Promise<void>((resolve) => this.drained.push(resolve));
    const lib = this.api;
    try {
      lib.C_Finalize();
    } catch {
      // Already finalised: initialising again is all that is needed.
    }
    this.initialise(lib);
  }

  private lookup(token: TokenSelector): Handle | undefined {
    const lib = this.api;
    let slots: Handle[];
    try {
      slots = lib.C_GetSlotList(true);
    } catch {
      return undefined; // a module whose token vanished may fail the listing itself
    }
    return slots.find((slot) => {
      try {
        const info = lib.C_GetTokenInfo(slot);
        return (token.label === undefined || info.label.trim() === token.label) && (token.serial === undefined || info.serialNumber.trim() === token.serial);
      } catch {
        return false;
      }
    });
  }

  /** The slot holding the token, re-initialising the module when the token was lost or is not seen. */
  async slotFor(token: TokenSelector): Promise<Handle> {
    if (this.lost) await this.reinitialise();
    let slot = this.lookup(token);
    if (!slot && Date.now() - this.initialisedAt > RESCAN_INTERVAL_MS) {
      await this.reinitialise();
      slot = this.lookup(token);
    }
    if (!slot) throw new HsmError('token_missing', `token ${describeToken(token)} is not present in ${this.path}`);
    return slot;
  }

  /** Finalises the library (at process end, or in tests). */
  finalize(): void {
    if (this.lib && this.initialisedAt !== 0) {
      try {
        this.lib.C_Finalize();
      } catch {
        // nothing to release
      }
      this.initialisedAt = 0;
    }
  }
}

const modules = new Map<string, Pkcs11Module>();

export function pkcs11Module(path: string): Pkcs11Module {
  let module = modules.get(path);
  if (!module) {
    module = new Pkcs11Module(path);
    modules.set(path, module);
  }
  return module;
}

/** Finalises every loaded module. */
export function finalizeModules(): void {
  for (const module of modules.values()) module.finalize();
}
