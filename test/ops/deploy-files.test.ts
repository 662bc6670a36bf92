import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config.js';

/** Fills `${VAR:?message}` and `${VAR:-default}` the way compose does, from `values`. */
function interpolate(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{([A-Z_]+)(?::([?-])([^}]*))?\}/g, (_m, name: string, op?: string, rest?: string) => {
    if (values[name] !== undefined) return values[name]!;
    if (op === '?') throw new Error(`compose requires ${name}: ${rest}`);
    return op === '-' ? (rest ?? '') : '';
  });
}

describe('Dockerfile', () => {
  it('runs the compiled service without the development PKI and offers the CLIs as commands', () => {
    const text = readFileSync('Dockerfile', 'utf8');
    expect(text).toMatch(/ENV [^\n]*DEV_PKI=false/);
    expect(text).toMatch(/CMD \["node", "dist\/server\.js"\]/);
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string>; dependencies: Record<string, string> };
    for (const [name, file] of Object.entries(pkg.bin)) expect(text).toContain(`ln -s /app/${file} /usr/local/bin/${name}`);
    expect(pkg.scripts.start).toBe('node dist/server.js');
    expect(pkg.dependencies.tsx).toBeUndefined();
  });
});

describe('compose.yaml', () => {
  const text = readFileSync('compose.yaml', 'utf8');
  const secrets = Object.fromEntries(
    readFileSync('deploy/env.example', 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.split('=')[0]!, `value-of-${l.split('=')[0]!.toLowerCase()}-long-enough-for-any-rule`]),
  );

  it('asks for every secret the example env file lists, and the example lists every one it asks for', () => {
    const required = [...text.matchAll(/\$\{([A-Z_]+):\?/g)].map((m) => m[1]!);
    for (const name of required) expect(Object.keys(secrets)).toContain(name);
    expect(() => interpolate(text, {})).toThrow(/compose requires/);
  });

  it('gives the service only variables it knows, which its configuration accepts: PostgreSQL, Redis, no dev PKI', () => {
    const compose = parse(interpolate(text, { ...secrets, BASE_URL: 'https://eseal.example.gov.cn', TSA_URL: '' })) as { services: Record<string, { environment?: Record<string, string> }> };
    const env = compose.services.eseal!.environment!;
    for (const name of Object.keys(env)) expect(CONFIG_VARIABLES).toContain(name);
    const config = loadConfig({ ...env, DATA_DIR: '/data' });
    expect(config.database.kind).toBe('postgres');
    expect(config.redis).toEqual({ kind: 'node', url: 'redis://redis:6379' });
    expect(config.devPki).toBe(false);
    expect(config.tsa).toBeUndefined(); // TSA_URL left empty: no timestamps until one is set
    expect(Object.keys(compose.services).sort()).toEqual(['eseal', 'postgres', 'redis']);
  });
});
