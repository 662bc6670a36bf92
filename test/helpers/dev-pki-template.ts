/**
 * Global setup: the development PKI made once for the whole run. Making one costs about 1.5 s of
 * CPU (RSA and SM2 keys, certificates, the national seal's picture), and most tests start a
 * service in a fresh data dir; `startService` copies this one into such a dir instead, unless
 * the test asks for a PKI of its own (`freshPki`) or a reachable service (whose certificates must
 * name its own port). It is made by starting the service exactly as a test service starts.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { tempDir } from './tools.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A data dir's `pki` directory made by a test service started with no options. */
    devPkiTemplate: string;
  }
}

export default function setup(project: TestProject): () => void {
  const dataDir = tempDir('dev-pki-template');
  const { BASE_URL: _vitests, ...env } = process.env;
  execFileSync(path.resolve('node_modules/.bin/tsx'), [path.resolve('test/helpers/make-dev-pki-template.ts'), dataDir], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  project.provide('devPkiTemplate', path.join(dataDir, 'pki'));
  return () => rmSync(dataDir, { recursive: true, force: true });
}
