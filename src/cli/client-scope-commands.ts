import { AuditLog } from '../audit/log.js';
import { isValidUscc } from '../codes/check-characters.js';
import { purposeNameProblem } from '../licenses/scope.js';
import type { ApiClient } from '../store/api-clients.js';
import { ClientScopeStore } from '../store/client-scopes.js';
import type { Db } from '../store/db.js';

/** The admin CLI's commands for what a client may do with licences: authorities and purposes. */

export const SCOPE_USAGE = `  admin clients bind CLIENT_ID --authorities USCC,USCC
    (the issuing authorities the client issues, replaces and revokes licences for)
  admin clients unbind CLIENT_ID --authorities USCC,USCC
  admin clients purpose CLIENT_ID --purpose NAME --types TYPE,TYPE
    (a purpose the client may state when reading licences, and the licence types it covers)
  admin clients purpose-remove CLIENT_ID --purpose NAME
  admin clients show CLIENT_ID`;

export interface ScopeOptions {
  authorities?: string;
  purpose?: string;
  types?: string;
}

export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

export const listOption = (value: string | undefined): string[] => (value ?? '').split(',').map((v) => v.trim()).filter(Boolean);

/** Organisation names of the authorities that have seals registered, by USCC. */
async function authorityNames(db: Db): Promise<Map<string, string>> {
  const rows = await db.all<{ org_uscc: string; org_name: string }>('SELECT DISTINCT org_uscc, org_name FROM seals ORDER BY org_uscc');
  return new Map(rows.map((r) => [r.org_uscc, r.org_name]));
}

const named = (code: string, names: Map<string, string>): string => `${code} ${names.get(code) ?? '(no seal of this authority is registered)'}`;

/** Problems with a list of authority codes, or null: each must be a valid USCC. */
export function authoritiesProblem(codes: string[]): string | null {
  if (codes.length === 0) return 'give --authorities USCC[,USCC...]';
  const invalid = codes.filter((c) => !isValidUscc(c));
  return invalid.length ? `not valid unified social credit codes: ${invalid.join(', ')}` : null;
}

/** The client, its seals, authorities and purposes, one thing a line. */
export async function describeClient(db: Db, client: ApiClient): Promise<string[]> {
  const scopes = new ClientScopeStore(db);
  const names = await authorityNames(db);
  const authorities = await scopes.authorities(client.id);
  const purposes = await scopes.purposes(client.id);
  return [
    `client ${client.id}  ${client.disabled ? 'disabled' : 'enabled'}  ${client.name}`,
    `  roles:       ${client.roles.join(', ')}`,
    `  seals:       ${client.sealIds.join(', ') || '-'}`,
    `  authorities: ${authorities.length ? '' : '- (issues, replaces and revokes no licence)'}`,
    ...authorities.map((a) => `    ${named(a, names)}`),
    `  purposes:    ${purposes.length ? '' : '- (reads no licence)'}`,
    ...purposes.map((p) => `    ${p.purpose}: ${p.types.join(', ')}`),
  ];
}

/**
 * Runs `clients bind|unbind|purpose|purpose-remove|show` for an existing client; undefined when
 * `command` is none of these. Every change is written to the audit log.
 */
export async function runScopeCommand(db: Db, client: ApiClient, command: string, options: ScopeOptions, licenseTypes: ReadonlySet<string>, io: CliOutput): Promise<number | undefined> {
  const scopes = new ClientScopeStore(db);
  const audit = new AuditLog(db);
  if (command === 'bind' || command === 'unbind') {
    const codes = listOption(options.authorities);
    const problem = authoritiesProblem(codes);
    if (problem) {
      io.err(`clients ${command}: ${problem}`);
      return 2;
    }
    if (command === 'bind') await scopes.bind(client.id, codes);
    else if ((await scopes.unbind(client.id, codes)) === 0) {
      io.err(`client ${client.id} was bound to none of ${codes.join(', ')}`);
      return 1;
    }
    await audit.append({ actor: 'cli', action: command === 'bind' ? 'client.bind' : 'client.unbind', subject: client.id, details: { authorities: codes } });
    const names = await authorityNames(db);
    const now = await scopes.authorities(client.id);
    io.out(`client ${client.id} (${client.name}) now issues, replaces and revokes licences for ${now.length ? `${now.length} authorit${now.length === 1 ? 'y' : 'ies'}:` : 'no authority'}`);
    for (const code of now) io.out(`  ${named(code, names)}`);
    return 0;
  }
  if (command === 'purpose') {
    const purpose = options.purpose ?? '';
    const types = listOption(options.types);
    const nameProblem = purposeNameProblem(purpose);
    const unknown = types.filter((t) => !licenseTypes.has(t));
    if (nameProblem || types.length === 0 || unknown.length) {
      io.err(`clients purpose needs --purpose NAME (${nameProblem ?? 'ok'}) and --types from ${[...licenseTypes].join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`);
      return 2;
    }
    await scopes.setPurpose(client.id, purpose, types);
    await audit.append({ actor: 'cli', action: 'client.purpose', subject: client.id, details: { purpose, types } });
    io.out(`client ${client.id} (${client.name}) may read licences of type ${[...new Set(types)].sort().join(', ')} for the purpose "${purpose}"`);
    return 0;
  }
  if (command === 'purpose-remove') {
    const purpose = options.purpose ?? '';
    if (!(await scopes.removePurpose(client.id, purpose))) {
      io.err(`client ${client.id} has no purpose "${purpose}"`);
      return 1;
    }
    await audit.append({ actor: 'cli', action: 'client.purpose', subject: client.id, details: { purpose, removed: true } });
    io.out(`client ${client.id} (${client.name}) may no longer read licences for the purpose "${purpose}"`);
    return 0;
  }
  if (command === 'show') {
    for (const line of await describeClient(db, client)) io.out(line);
    return 0;
  }
  return undefined;
}
