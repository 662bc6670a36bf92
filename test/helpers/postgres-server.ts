import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './redis.js';
import { tempDir } from './tools.js';

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)');
  return path.join(root, newest, 'bin');
}

/** PostgreSQL refuses to run as root, so as root its commands run as the postgres user. */
function asServerUser(command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

/** A real PostgreSQL server in a temporary directory, on a random loopback port, tuned for tests (no fsync). */
export class PostgresProcess {
  private child: ChildProcess;

  private constructor(
    private readonly serverCommand: [string, string[]],
    private readonly dir: string,
    readonly port: number,
  ) {
    this.child = spawn(serverCommand[0], serverCommand[1], { stdio: ['ignore', 'ignore', 'pipe'] });
  }

  /** The server's process (as root, the `runuser` that starts it). */
  get pid(): number {
    return this.child.pid!;
  }

  /** Superuser URL of the server's maintenance database. */
  get url(): string {
    return `postgres://eseal@127.0.0.1:${this.port}/postgres`;
  }

  /**
   * `durableCommits` keeps synchronous_commit on, so a commit that was acknowledged survives the
   * server being killed (without it, the last commits may still sit in the server's memory);
   * fsync stays off, since the machine itself does not crash.
   */
  static async start(options: { durableCommits?: boolean } = {}): Promise<PostgresProcess> {
    const bin = binDir();
    const dir = tempDir('pg');
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
      chownSync(dir, uid, gid);
    }
    const data = path.join(dir, 'data');
    execFileSync(...asServerUser(path.join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'eseal', '-E', 'UTF8', '--locale=C', '--no-sync']), { stdio: 'pipe' });
    const port = await freePort();
    const settings = ['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', `synchronous_commit=${options.durableCommits ? 'on' : 'off'}`, '-c', 'full_page_writes=off', '-c', 'max_connections=200'];
    const server = new PostgresProcess(asServerUser(path.join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, ...settings]), dir, port);
    await server.waitReady();
    return server;
  }

  async startAgain(): Promise<void> {
    this.child = spawn(this.serverCommand[0], this.serverCommand[1], { stdio: ['ignore', 'ignore', 'pipe'] });
    await this.waitReady();
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + 30_000;
    let log = '';
    this.child.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`postgres exited: ${log}`);
      const client = new pg.Client({ connectionString: this.url });
      try {
        await client.connect();
        await client.end();
        return;
      } catch {
        await client.end().catch(() => undefined);
        if (Date.now() > deadline) throw new Error(`postgres did not start: ${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  async stop(): Promise<void> {
    await this.pause();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Stops the server but keeps its data, so `startAgain` brings the same databases back. */
  async pause(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      // SIGINT is PostgreSQL's fast shutdown. runuser does not pass signals on, so the
      // postmaster is signalled by the pid it records.
      const postmaster = this.postmasterPid();
      if (postmaster) process.kill(postmaster, 'SIGINT');
      else this.child.kill('SIGKILL');
      await exited;
    }
  }

  /**
   * `kill -9` of the whole server, postmaster and every backend at once, as a crash would end
   * it: nothing is flushed or rolled back; `startAgain` then runs crash recovery.
   */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    const postmaster = this.postmasterPid();
    if (!postmaster) throw new Error('postgres has not written its pid file');
    const backends = childPids(postmaster);
    for (const pid of [postmaster, ...backends]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // a backend that ended on its own meanwhile
      }
    }
    await exited;
  }

  private postmasterPid(): number | undefined {
    const pidFile = path.join(this.dir, 'data', 'postmaster.pid');
    return existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : undefined;
  }
}

/** The processes whose parent is `parent`, read from /proc. */
function childPids(parent: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // ended while listing
    }
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === parent) pids.push(Number(entry));
  }
  return pids;
}

/** Creates an empty database on the server at `adminUrl` and returns its URL. */
export async function createDatabase(adminUrl: string): Promise<string> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
