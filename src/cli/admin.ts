#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { AuditLog } from '../audit/log.js';
import { ConfigError, loadConfig } from '../config.js';
import { ApiClientStore, ROLES, type Role } from '../store/api-clients.js';
import { openDatabase } from '../store/open.js';

const USAGE = `usage:
  admin clients create --name NAME --roles ${ROLES.join(',')} [--seals ID,ID]
    (status: a platform component asking certificate status, limited per client)
  admin clients list
  admin clients disable CLIENT_ID
  admin audit verify
(the database is the one of DATA_DIR / DATABASE_URL, as for the service)`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { name: { type: 'string' }, roles: { type: 'string' }, seals: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
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
      const clients = new ApiClientStore(db);
      if (command === 'create') {
        const roles = (values.roles ?? '').split(',').map((r) => r.trim()).filter(Boolean);
        const unknown = roles.filter((r) => !ROLES.includes(r as Role));
        if (!values.name || roles.length === 0 || unknown.length) {
          process.stderr.write(`clients create needs --name and --roles from ${ROLES.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}\n`);
          return 2;
        }
        const seals = (values.seals ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        const { client, token } = await clients.create(values.name, roles as Role[], seals);
        await new AuditLog(db).append({ actor: 'cli', action: 'client.create', subject: client.id, details: { name: client.name, roles, seals } });
        process.stdout.write(`client ${client.id} created; its token, shown only now:\n${token}\n`);
        return 0;
      }
      if (command === 'list') {
        for (const c of await clients.list()) process.stdout.write(`${c.id}  ${c.disabled ? 'disabled' : 'enabled '}  ${c.name}  roles=${c.roles.join(',')}  seals=${c.sealIds.join(',') || '-'}\n`);
        return 0;
      }
      if (command === 'disable' && arg) {
        if (!(await clients.disable(arg))) {
          process.stderr.write(`no enabled client ${arg}\n`);
          return 1;
        }
        await new AuditLog(db).append({ actor: 'cli', action: 'client.disable', subject: arg });
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
