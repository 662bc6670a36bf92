#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { AuditLog } from '../audit/log.js';
import { ConfigError, loadConfig } from '../config.js';
import { ApiClientStore, ROLES, type Role } from '../store/api-clients.js';
import { ClientScopeStore } from '../store/client-scopes.js';
import { openDatabase } from '../store/open.js';
import { loadLicenseTypes } from '../licenses/types.js';
import { authoritiesProblem, listOption, runScopeCommand, SCOPE_USAGE } from './client-scope-commands.js';

const USAGE = `usage:
  admin clients create --name NAME --roles ${ROLES.join(',')} [--seals ID,ID] [--authorities USCC,USCC]
    (status: a platform component asking certificate status, limited per client)
  admin clients list
  admin clients disable CLIENT_ID
${SCOPE_USAGE}
  admin audit verify
(the database is the one of DATA_DIR / DATABASE_URL, as for the service)`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      roles: { type: 'string' },
      seals: { type: 'string' },
      authorities: { type: 'string' },
      purpose: { type: 'string' },
      types: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [group, command, arg] = positionals;
  if (values.help || !group) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const config = loadConfig();
  const db = await openDatabase(config.database);
  try {
    if (group === 'clients') {
      const audit = new AuditLog(db);
      const clients = new ApiClientStore(db, audit);
      if (command === 'create') {
        const roles = (values.roles ?? '').split(',').map((r) => r.trim()).filter(Boolean);
        const unknown = roles.filter((r) => !ROLES.includes(r as Role));
        if (!values.name || roles.length === 0 || unknown.length) {
          process.stderr.write(`clients create needs --name and --roles from ${ROLES.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}\n`);
          return 2;
        }
        const seals = listOption(values.seals);
        const authorities = listOption(values.authorities);
        const authorityProblem = authorities.length ? authoritiesProblem(authorities) : null;
        if (authorityProblem) {
          process.stderr.write(`clients create: ${authorityProblem}\n`);
          return 2;
        }
        const { client, token } = await clients.create(values.name, roles as Role[], seals);
        if (authorities.length) await new ClientScopeStore(db).bind(client.id, authorities);
        await audit.append({ actor: 'cli', action: 'client.create', subject: client.id, details: { name: client.name, roles, seals, authorities } });
        const bound = authorities.length ? `; it issues, replaces and revokes licences for ${authorities.join(', ')}` : '';
        process.stdout.write(`client ${client.id} created${bound}; its token, shown only now:\n${token}\n`);
        return 0;
      }
      if (command === 'list') {
        const scopes = new ClientScopeStore(db);
        for (const c of await clients.list()) {
          const authorities = await scopes.authorities(c.id);
          const purposes = (await scopes.purposes(c.id)).map((p) => p.purpose);
          process.stdout.write(`${c.id}  ${c.disabled ? 'disabled' : 'enabled '}  ${c.name}  roles=${c.roles.join(',')}  seals=${c.sealIds.join(',') || '-'}  authorities=${authorities.join(',') || '-'}  purposes=${purposes.join(',') || '-'}\n`);
        }
        return 0;
      }
      if (command && arg && ['bind', 'unbind', 'purpose', 'purpose-remove', 'show'].includes(command)) {
        const client = await clients.get(arg);
        if (!client) {
          process.stderr.write(`no client ${arg}\n`);
          return 1;
        }
        const io = { out: (line: string) => process.stdout.write(`${line}\n`), err: (line: string) => process.stderr.write(`${line}\n`) };
        const types = new Set(loadLicenseTypes(config.templatesDir).keys());
        const code = await runScopeCommand(db, client, command, values, types, io);
        if (code !== undefined) return code;
      }
      if (command === 'disable' && arg) {
        if (!(await clients.disable(arg, 'cli'))) {
          process.stderr.write(`no enabled client ${arg}\n`);
          return 1;
        }
        process.stdout.write(`client ${arg} disabled\n`);
        return 0;
      }
    }
    if (group === 'audit' && command === 'verify') {
      const result = await new AuditLog(db).verify();
      if (result.ok) {
        process.stdout.write(`audit log intact: ${result.entries} entries\n`);
        return 0;
      }
      process.stdout.write(`audit log BROKEN at entry ${result.brokenAt} of ${result.entries}: ${result.reason}\n`);
      return 1;
    }
    process.stderr.write(`${USAGE}\n`);
    return 2;
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`admin: ${err instanceof ConfigError || err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
