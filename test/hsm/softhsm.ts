import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/tools.js';

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

export interface SoftHsm {
  dir: string;
  conf: string;
  tokenDir: string;
  /** Initialises a token; returns its serial number. */
  initToken(label: string, pin: string): string;
  /** Moves a token's files out of the token directory (as if unplugged); returns a function that puts them back. */
  unplug(serial: string): () => void;
}

/**
 * A SoftHSM2 of its own in a temporary directory. SOFTHSM2_CONF is set for this process, and
 * read by the module at C_Initialize, so call this before anything opens a token.
 */
export function createSoftHsm(): SoftHsm {
  if (!existsSync(SOFTHSM_MODULE)) throw new Error(`SoftHSM2 is not installed (${SOFTHSM_MODULE} is missing): apt-get install softhsm2`);
  const dir = tempDir('softhsm');
  const tokenDir = path.join(dir, 'tokens');
  mkdirSync(tokenDir);
  const conf = path.join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  process.env.SOFTHSM2_CONF = conf;
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  return {
    dir,
    conf,
    tokenDir,
    initToken(label, pin) {
      execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--so-pin', `so-${pin}`, '--pin', pin], { env, stdio: 'pipe' });
      const out = execFileSync('softhsm2-util', ['--show-slots'], { env, encoding: 'utf8' });
      const block = out.split(/^Slot /m).find((b) => new RegExp(`Label:\\s+${label}\\s*$`, 'm').test(b));
      const serial = block && /Serial number:\s+(\S+)/.exec(block)?.[1];
      if (!serial) throw new Error(`token ${label} not listed after initialisation`);
      return serial;
    },
    unplug(serial) {
      // SoftHSM names a token's directory after a UUID ending in its serial number.
      const name = readdirSync(tokenDir).find((n) => n.replace(/-/g, '').endsWith(serial));
      if (!name) throw new Error(`no token directory for serial ${serial}`);
      const away = path.join(dir, `unplugged-${name}`);
      renameSync(path.join(tokenDir, name), away);
      return () => renameSync(away, path.join(tokenDir, name));
    },
  };
}
