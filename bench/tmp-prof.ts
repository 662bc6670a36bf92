import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { makePdf } from '../test/helpers/pdfs.js';
import { freePort } from '../test/helpers/redis.js';
import { tempDir } from '../test/helpers/tools.js';
const port = await freePort(); const dataDir = tempDir('prof'); const url = `http://127.0.0.1:${port}`;
const profDir = tempDir('profout');
const child = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir', profDir, 'dist/server.js'], { env: { ...process.env, WORKERS: '1', PORT: String(port), HOST: '127.0.0.1', BASE_URL: url, DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, stdio: 'inherit' });
for (let i = 0; i < 200; i++) { try { if ((await fetch(`${url}/healthz`)).ok) break; } catch {} await new Promise(r => setTimeout(r, 200)); }
const token = readFileSync(path.join(dataDir, 'dev-api-token'), 'utf8').trim();
const pdf = new Uint8Array(await makePdf(1));
const end = Date.now() + 8000; let n = 0;
await Promise.all(Array.from({ length: 8 }, async () => { while (Date.now() < end) { const r = await fetch(`${url}/v1/seal?sealId=xzsp-official`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/pdf' }, body: pdf }); await r.arrayBuffer(); n++; } }));
console.log('seals', n, (n / 8).toFixed(0), '/s');
child.kill('SIGTERM'); await new Promise(r => child.once('exit', r));
console.log(profDir);
