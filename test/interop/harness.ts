import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Debian's PDFBox 2 and BouncyCastle (default-jdk-headless, libpdfbox2-java, libbc*-java). */
const JARS = ['pdfbox2.jar', 'fontbox2.jar', 'commons-logging.jar', 'bcprov.jar', 'bcpkix.jar', 'bcutil.jar'].map((jar) => path.join('/usr/share/java', jar));
const SOURCE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'java', 'SignPdf.java');

/**
 * Compiles SignPdf.java once per source version into os.tmpdir(), keyed by the hash of the
 * source and the class path. Test files running at the same time each compile into a private
 * directory and rename it into place; the first rename wins and the others use its result.
 */
export function compiledHarness(): Promise<string> {
  compiling ??= compile();
  return compiling;
}

let compiling: Promise<string> | undefined;

async function compile(): Promise<string> {
  const source = readFileSync(SOURCE);
  const hash = createHash('sha256').update(source).update(JARS.join(':')).digest('hex').slice(0, 16);
  const target = path.join(os.tmpdir(), `eseal-interop-java-${hash}`);
  if (existsSync(path.join(target, 'SignPdf.class'))) return target;
  const scratch = mkdtempSync(`${target}.build-`);
  await run('javac', ['-nowarn', '-encoding', 'UTF-8', '-cp', JARS.join(':'), '-d', scratch, SOURCE]);
  try {
    renameSync(scratch, target);
  } catch (err) {
    // Another test file finished first (ENOTEMPTY/EEXIST): its classes are the same.
    rmSync(scratch, { recursive: true, force: true });
    if (!existsSync(path.join(target, 'SignPdf.class'))) throw err;
  }
  return target;
}

export type Job = Record<string, string>;

export interface JobResult {
  kind: 'ok' | 'error' | 'sig' | 'nosig';
  fields: string[];
}

/** Runs a list of jobs in one JVM (the start costs about a second) and returns its output rows. */
export async function runJobs(jobs: Job[], workDir: string): Promise<JobResult[]> {
  const classes = await compiledHarness();
  const jobFile = path.join(workDir, `jobs-${process.pid}-${Date.now()}.txt`);
  writeFileSync(jobFile, jobs.map((job) => Object.entries(job).map(([k, v]) => `${k}=${v}`).join('\t')).join('\n'));
  const { stdout } = await run(
    'java',
    ['-Djava.awt.headless=true', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-cp', [classes, ...JARS].join(':'), 'SignPdf', jobFile],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  return stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [kind, ...fields] = line.split('\t');
      return { kind: kind as JobResult['kind'], fields };
    });
}

export interface TestPki {
  dir: string;
  rootPem: string;
  rootDer: Buffer;
  /** PKCS#12 keystores (password `pass`) for Java: RSA-2048 and ECDSA P-256 signers. */
  rsaP12: string;
  ecP12: string;
  /** The RSA signer's keystore with SHA-1/3DES protection, which node-forge can read. */
  rsaLegacyP12: Buffer;
  rsaKey: string;
  rsaCert: string;
  pass: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  await run('openssl', args, { cwd });
}

/** A root CA and two signer certificates (keyUsage digitalSignature + nonRepudiation), made by openssl. */
export async function makeTestPki(dir: string): Promise<TestPki> {
  const pass = 'interop-pass';
  writeFileSync(
    path.join(dir, 'signer.ext'),
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,nonRepudiation',
      'extendedKeyUsage=emailProtection',
      'subjectKeyIdentifier=hash',
      'authorityKeyIdentifier=keyid',
      '',
    ].join('\n'),
  );
  await openssl(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'root.key', '-out', 'root.pem', '-days', '3650', '-subj', '/C=CN/O=Interop Test/CN=Interop Test Root CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-addext', 'subjectKeyIdentifier=hash'],
    dir,
  );
  await Promise.all([
    openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'rsa.key'], dir),
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ec.key'], dir),
  ]);
  let serial = 4096;
  for (const [name, cn] of [['rsa', 'Interop RSA Signer'], ['ec', 'Interop ECDSA Signer']] as const) {
    await openssl(['req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/C=CN/O=Interop Test/CN=${cn}`], dir);
    await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'root.pem', '-CAkey', 'root.key', '-set_serial', String(serial++), '-days', '730', '-sha256', '-extfile', 'signer.ext', '-out', `${name}.pem`], dir);
    await openssl(['pkcs12', '-export', '-inkey', `${name}.key`, '-in', `${name}.pem`, '-certfile', 'root.pem', '-name', name, '-passout', `pass:${pass}`, '-out', `${name}.p12`], dir);
  }
  await openssl(
    ['pkcs12', '-export', '-inkey', 'rsa.key', '-in', 'rsa.pem', '-certfile', 'root.pem', '-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1', '-passout', `pass:${pass}`, '-out', 'rsa-legacy.p12'],
    dir,
  );
  const rootPem = readFileSync(path.join(dir, 'root.pem'), 'utf8');
  return {
    dir,
    rootPem,
    rootDer: Buffer.from(rootPem.replace(/-----[A-Z ]+-----|\s+/g, ''), 'base64'),
    rsaP12: path.join(dir, 'rsa.p12'),
    ecP12: path.join(dir, 'ec.p12'),
    rsaLegacyP12: readFileSync(path.join(dir, 'rsa-legacy.p12')),
    rsaKey: path.join(dir, 'rsa.key'),
    rsaCert: path.join(dir, 'rsa.pem'),
    pass,
  };
}

/** `openssl cms -sign -stream`: a detached CMS in BER with indefinite lengths. */
export async function opensslStreamingCms(pki: TestPki, data: Buffer, dir: string): Promise<Buffer> {
  const work = mkdtempSync(path.join(dir, 'cms-'));
  writeFileSync(path.join(work, 'data.bin'), data);
  await openssl(
    ['cms', '-sign', '-binary', '-stream', '-outform', 'DER', '-md', 'sha256', '-in', 'data.bin', '-signer', pki.rsaCert, '-inkey', pki.rsaKey, '-certfile', path.join(pki.dir, 'root.pem'), '-out', 'sig.der'],
    work,
  );
  return readFileSync(path.join(work, 'sig.der'));
}

const UNIVERSAL: Record<number, string> = { 0x30: 'SEQUENCE', 0x31: 'SET', 0x04: 'OCTET STRING', 0x24: 'OCTET STRING' };

function tagName(tag: number): string {
  if ((tag & 0xc0) === 0x80) return `[${tag & 0x1f}]`;
  return UNIVERSAL[tag] ?? `tag 0x${tag.toString(16)}`;
}

/** RFC 5652 names for the elements of ContentInfo/SignedData, by their tag path from the top. */
const CMS_NAMES: Record<string, string> = {
  'SEQUENCE': 'ContentInfo',
  'SEQUENCE > [0]': 'ContentInfo.content',
  'SEQUENCE > [0] > SEQUENCE': 'SignedData',
  'SEQUENCE > [0] > SEQUENCE > SET': 'SignedData.digestAlgorithms/signerInfos',
  'SEQUENCE > [0] > SEQUENCE > SEQUENCE': 'SignedData.encapContentInfo',
  'SEQUENCE > [0] > SEQUENCE > SEQUENCE > [0]': 'SignedData.encapContentInfo.eContent',
  'SEQUENCE > [0] > SEQUENCE > SEQUENCE > [0] > OCTET STRING': 'SignedData.encapContentInfo.eContent OCTET STRING',
  'SEQUENCE > [0] > SEQUENCE > [0]': 'SignedData.certificates',
  'SEQUENCE > [0] > SEQUENCE > [1]': 'SignedData.crls',
};

/**
 * Where a CMS uses BER indefinite lengths: every constructed element encoded with length 0x80,
 * named after RFC 5652 where it is part of ContentInfo/SignedData (else by its tag path). An
 * empty list means definite lengths throughout.
 */
export function indefiniteLengthElements(cms: Buffer): string[] {
  const found: string[] = [];
  const walk = (start: number, end: number, trail: string[], indefinite: boolean): number => {
    let at = start;
    while (at + 1 < end) {
      const tag = cms[at]!;
      if (tag === 0 && cms[at + 1] === 0) return indefinite ? at + 2 : end; // end-of-contents, or zero padding after the structure
      let pos = at + 1;
      if ((tag & 0x1f) === 0x1f) while (pos < end && (cms[pos++]! & 0x80) !== 0);
      const first = cms[pos]!;
      const here = [...trail, tagName(tag)];
      if (first === 0x80) {
        const key = here.join(' > ');
        found.push(CMS_NAMES[key] ?? key);
        at = walk(pos + 1, end, here, true);
        continue;
      }
      let length = first;
      let header = pos + 1;
      if (first > 0x80) {
        length = 0;
        for (let k = 1; k <= (first & 0x7f); k++) length = length * 256 + cms[pos + k]!;
        header = pos + 1 + (first & 0x7f);
      }
      if (tag & 0x20) walk(header, header + length, here, false);
      at = header + length;
    }
    return end;
  };
  walk(0, cms.length, [], false);
  return found;
}
