import { createHash } from 'node:crypto';
import { P11, type Handle, type Pkcs11 } from './binding.js';
import { HsmError, isTokenGone, toHsmError } from './errors.js';
import { describeToken, type PinSource, type TokenSelector } from './key-ref.js';
import { pkcs11Module, type Pkcs11Module } from './module.js';
import { readPin } from './pin.js';

export interface PoolTarget {
  module: string;
  token: TokenSelector;
  pin: PinSource;
}

interface Lease {
  session: Handle;
  epoch: number;
  reused: boolean;
}

/** What a pooled call gets: the library, a logged-in session, and a per-pool cache of object handles. */
export interface SessionContext {
  lib: Pkcs11;
  session: Handle;
  /** Token object handles are valid in every session of the process until the token goes away. */
  handles: Map<string, Handle>;
}

/** CKS_RO_USER_FUNCTIONS and CKS_RW_USER_FUNCTIONS (the binding does not export session states). */
const USER_STATES = new Set<number>([1, 3]);

/**
 * SHA-256 of the PIN that logged each token in, by module and token serial. A token stays
 * logged in for the whole process, so without this a key reference with a wrong PIN would sign
 * once another reference had logged the token in.
 */
const loginPins = new Map<string, string>();

function pinDigest(pin: string): string {
  return createHash('sha256').update(pin).digest('hex');
}

/**
 * A bounded pool of logged-in sessions on one token. Login is per token for the whole process,
 * so a session opened after another one logged in is already logged in. When the token goes
 * away every session and cached handle is forgotten, the module re-initialises on the next
 * use, and a call that failed on a stale session is tried once more on a fresh one.
 */
export class SessionPool {
  private idle: Handle[] = [];
  private open = 0;
  private epoch = 0;
  private moduleGeneration = -1;
  private waiters: Array<() => void> = [];
  private handles = new Map<string, Handle>();
  readonly name: string;

  constructor(
    private readonly module: Pkcs11Module,
    private readonly token: TokenSelector,
    private readonly pin: PinSource,
    private readonly options: { size: number; readWrite: boolean },
  ) {
    this.name = describeToken(token);
  }

  /** Sessions open now (idle or in use). */
  get openSessions(): number {
    return this.open;
  }

  /** Runs `fn` with a session of this pool; errors come out as HsmError. */
  async use<T>(doing: string, fn: (ctx: SessionContext) => Promise<T> | T): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const lease = await this.acquire(doing);
      this.module.enter();
      let result: T;
      try {
        result = await fn({ lib: this.module.api, session: lease.session, handles: this.handles });
      } catch (err) {
        this.module.leave();
        if (isTokenGone(err)) {
          this.forget();
          this.module.markLost();
          if (lease.reused && attempt === 1) continue;
        } else {
          this.release(lease);
        }
        throw toHsmError(err, doing, this.name);
      }
      this.module.leave();
      this.release(lease);
      return result;
    }
  }

  private async acquire(doing: string): Promise<Lease> {
    for (;;) {
      if (this.moduleGeneration !== this.module.generation) {
        this.forget();
        this.moduleGeneration = this.module.generation;
      }
      const idle = this.idle.pop();
      if (idle) return { session: idle, epoch: this.epoch, reused: true };
      if (this.open < this.options.size) {
        this.open++;
        const epoch = this.epoch;
        let opened: { session: Handle; generation: number };
        try {
          opened = await this.openSession(doing);
        } catch (err) {
          if (epoch === this.epoch) this.open--;
          throw err;
        }
        if (opened.generation !== this.moduleGeneration) {
          // The module was re-initialised while the slot was looked up: older sessions are void.
          this.forget();
          this.moduleGeneration = opened.generation;
          this.open = 1;
        } else if (epoch !== this.epoch) {
          this.open++; // the count this session was part of has been reset meanwhile
        }
        return { session: opened.session, epoch: this.epoch, reused: false };
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private release(lease: Lease): void {
    if (lease.epoch === this.epoch && this.moduleGeneration === this.module.generation) this.idle.push(lease.session);
    this.waiters.shift()?.();
  }

  /** Drops every session and handle: the token (or the module) is not what they belonged to any more. */
  private forget(): void {
    this.idle = [];
    this.open = 0;
    this.epoch++;
    this.handles.clear();
    for (const wake of this.waiters.splice(0)) wake();
  }

  private async openSession(doing: string): Promise<{ session: Handle; generation: number }> {
    const pin = readPin(this.pin, this.name);
    let slot: Handle;
    try {
      slot = await this.module.slotFor(this.token);
    } catch (err) {
      throw toHsmError(err, doing, this.name);
    }
    const lib = this.module.api;
    let session: Handle;
    try {
      session = lib.C_OpenSession(slot, P11.CKF_SERIAL_SESSION | (this.options.readWrite ? P11.CKF_RW_SESSION : 0));
    } catch (err) {
      throw toHsmError(err, 'opening a session', this.name);
    }
    const closeQuietly = (): void => {
      try {
        lib.C_CloseSession(session);
      } catch {
        // the session is being discarded anyway
      }
    };
    try {
      const loginKey = `${this.module.path}\0${lib.C_GetTokenInfo(slot).serialNumber.trim()}`;
      let loggedIn = USER_STATES.has(lib.C_GetSessionInfo(session).state);
      if (!loggedIn) {
        try {
          lib.C_Login(session, P11.CKU_USER, pin);
          loginPins.set(loginKey, pinDigest(pin));
        } catch (err) {
          if (!(err instanceof P11.Pkcs11Error && err.code === P11.CKR_USER_ALREADY_LOGGED_IN)) throw err;
          loggedIn = true;
        }
      }
      const known = loginPins.get(loginKey);
      if (loggedIn && known !== undefined && known !== pinDigest(pin)) {
        throw new HsmError('pin_incorrect', `token ${this.name} is logged in with another PIN than this key reference's`);
      }
    } catch (err) {
      closeQuietly();
      throw toHsmError(err, 'logging in', this.name);
    }
    return { session, generation: this.module.generation };
  }
}

const pools = new Map<string, SessionPool>();

/** The process-wide pool for a token (one per module, token, PIN source and session kind). */
export function sessionPool(target: PoolTarget, options: { size?: number; readWrite?: boolean } = {}): SessionPool {
  const opts = { size: options.size ?? 4, readWrite: options.readWrite ?? false };
  const key = JSON.stringify([target.module, target.token.label ?? null, target.token.serial ?? null, target.pin, opts.readWrite]);
  let pool = pools.get(key);
  if (!pool) {
    pool = new SessionPool(pkcs11Module(target.module), target.token, target.pin, opts);
    pools.set(key, pool);
  }
  return pool;
}
