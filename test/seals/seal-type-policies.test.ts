import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { ensureDevPki } from '../../src/devpki/index.js';
import { issueCertificate, issueSealCertificate, KEY_USAGE, validityYears, type Issued } from '../../src/devpki/issue.js';
import { DEV_SEAL_TYPE_POLICY } from '../../src/devpki/seal-policies.js';
import { certificatePolicyOids, readCertFields } from '../../src/pki/cert-fields.js';
import { writePkcs12 } from '../../src/pki/pfx.js';
import { SEAL_TYPES } from '../../src/seals/seal-types.js';
import { DEFAULT_SEAL_TYPE_POLICIES_FILE, loadSealTypePolicies, sealTypesAllowed, type SealTypePolicies } from '../../src/seals/seal-type-policies.js';
import { tempDir } from '../helpers/tools.js';

const ANY_POLICY = '2.5.29.32.0';
const CITY_CA_CONTRACT_POLICY = '1.2.156.112562.3.1.4';

let ca: Issued;
beforeAll(async () => {
  ca = await issueCertificate({ subject: [['CN', 'Policy Test CA']], keyKind: 'ec', ...validityYears(2), ca: { pathLength: 0 }, keyUsage: KEY_USAGE.keyCertSign });
});

describe('certificate policies of a seal certificate', () => {
  it('reads the development policies, UUID arcs in decimal, as openssl prints them', async () => {
    const seal = await issueSealCertificate({ orgName: '测试局', uscc: '11370500MB0100001H', sealName: '合同专用章', sealTypes: ['contract', 'finance'], keyKind: 'ec', baseUrl: 'http://127.0.0.1:9' }, ca);
    expect(certificatePolicyOids(readCertFields(seal.certDer))).toEqual([DEV_SEAL_TYPE_POLICY.contract, DEV_SEAL_TYPE_POLICY.finance]);
    const file = path.join(tempDir('policies'), 'seal.der');
    writeFileSync(file, seal.certDer);
    const text = execFileSync('openssl', ['x509', '-inform', 'DER', '-in', file, '-noout', '-text'], { encoding: 'utf8' });
    expect(text).toContain(`Policy: ${DEV_SEAL_TYPE_POLICY.contract}`);
  });

  it('says null for a certificate without the extension, and reads anyPolicy like any other', async () => {
    const bare = await issueSealCertificate({ orgName: '测试局', uscc: '11370500MB0100001H', sealName: '', keyKind: 'ec', baseUrl: 'http://127.0.0.1:9' }, ca);
    expect(certificatePolicyOids(readCertFields(bare.certDer))).toBeNull();
    const any = await issueCertificate({ subject: [['CN', 'any']], keyKind: 'ec', ...validityYears(1), keyUsage: KEY_USAGE.digitalSignature, policies: [ANY_POLICY] }, ca);
    expect(certificatePolicyOids(readCertFields(any.certDer))).toEqual([ANY_POLICY]);
  });
});

describe('the mapping from policies to seal types', () => {
  const mapping: SealTypePolicies = {
    policies: { [CITY_CA_CONTRACT_POLICY]: ['contract'], '1.2.156.112562.3.1.9': ['official', 'approval'] },
    withoutPolicies: [],
  };

  it('allows the union of what the certificate policies allow, and nothing for policies it does not name', () => {
    expect(sealTypesAllowed(mapping, [CITY_CA_CONTRACT_POLICY])).toEqual(['contract']);
    expect(sealTypesAllowed(mapping, ['1.2.156.112562.3.1.9', CITY_CA_CONTRACT_POLICY])).toEqual(['official', 'approval', 'contract']);
    expect(sealTypesAllowed(mapping, ['1.2.3.4'])).toEqual([]);
    // a CA asserting anyPolicy says nothing about seal types, unless the mapping says otherwise
    expect(sealTypesAllowed(mapping, [ANY_POLICY])).toEqual([]);
    expect(sealTypesAllowed({ ...mapping, policies: { ...mapping.policies, [ANY_POLICY]: ['business'] } }, [ANY_POLICY])).toEqual(['business']);
    // toString and other Object.prototype names are not policies
    expect(sealTypesAllowed(mapping, ['toString', 'constructor'])).toEqual([]);
  });

  it('gives a certificate without policies only what withoutPolicies names: nothing by default', () => {
    expect(sealTypesAllowed(mapping, null)).toEqual([]);
    expect(sealTypesAllowed({ ...mapping, withoutPolicies: ['business'] }, null)).toEqual(['business']);
    // withoutPolicies is for certificates without the extension, not for unknown policies
    expect(sealTypesAllowed({ ...mapping, withoutPolicies: ['business'] }, ['1.2.3.4'])).toEqual([]);
  });

  it('ships a default that gives each development policy its own seal type and nothing else', () => {
    const builtIn = loadSealTypePolicies();
    for (const type of SEAL_TYPES) expect(sealTypesAllowed(builtIn, [DEV_SEAL_TYPE_POLICY[type]])).toEqual([type]);
    expect(Object.keys(builtIn.policies).sort()).toEqual(Object.values(DEV_SEAL_TYPE_POLICY).sort());
    expect(builtIn.withoutPolicies).toEqual([]);
    expect(loadConfig({}).sealTypePolicies).toEqual(builtIn);
  });

  it('reads SEAL_TYPE_POLICIES at start and refuses a file that is not a mapping, naming what is wrong', () => {
    const dir = tempDir('seal-type-policies');
    const good = path.join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ policies: { [CITY_CA_CONTRACT_POLICY]: ['contract'] } }));
    expect(loadConfig({ SEAL_TYPE_POLICIES: good }).sealTypePolicies).toEqual({ policies: { [CITY_CA_CONTRACT_POLICY]: ['contract'] }, withoutPolicies: [] });
    const cases: Array<[string, RegExp]> = [
      [JSON.stringify({ policies: { 'not.an.oid': ['contract'] } }), /object identifiers/],
      [JSON.stringify({ policies: { [CITY_CA_CONTRACT_POLICY]: ['stamp'] } }), /policies\.1\.2\.156\.112562\.3\.1\.4\.0/],
      [JSON.stringify({ policies: {}, noPolicy: ['official'] }), /noPolicy/],
      ['{ not json', /JSON/],
    ];
    for (const [content, message] of cases) {
      const file = path.join(dir, 'bad.json');
      writeFileSync(file, content);
      let error: unknown;
      try {
        loadConfig({ SEAL_TYPE_POLICIES: file });
      } catch (err) {
        error = err;
      }
      expect(error, content).toBeInstanceOf(ConfigError);
      expect((error as Error).message, content).toMatch(/^SEAL_TYPE_POLICIES: /);
      expect((error as Error).message, content).toMatch(message);
    }
    expect(() => loadConfig({ SEAL_TYPE_POLICIES: path.join(dir, 'missing.json') })).toThrow(/SEAL_TYPE_POLICIES: .*ENOENT/);
    expect(JSON.parse(readFileSync(DEFAULT_SEAL_TYPE_POLICIES_FILE, 'utf8'))).toHaveProperty('policies');
  });
});

describe('the development PKI', () => {
  it('issues each sample seal certificate with its type policy, and issues again one made before policies existed', async () => {
    const dir = tempDir('dev-pki-policies');
    const spec = { id: 'sample-approval', orgName: '测试局', uscc: '11370500MB0100001H', sealName: '审批专用章', sealType: 'approval' as const, keyKind: 'ec' as const };
    const first = await ensureDevPki({ dir, baseUrl: 'http://127.0.0.1:9', seals: [spec] });
    const policiesOf = (der: Buffer) => certificatePolicyOids(readCertFields(der));
    expect(policiesOf(first.seals[0]!.chainDer[0]!)).toEqual([DEV_SEAL_TYPE_POLICY.approval]);
    // a keystore from an earlier version: the same subject, no certificatePolicies
    const old = await issueSealCertificate({ orgName: spec.orgName, uscc: spec.uscc, sealName: spec.sealName, keyKind: 'ec', baseUrl: 'http://127.0.0.1:9' }, first.sealCa);
    writeFileSync(first.seals[0]!.p12Path, writePkcs12({ privateKey: old.privateKey, chainDer: [old.certDer, first.sealCa.certDer, first.root.certDer], password: first.keystorePassword }));
    const second = await ensureDevPki({ dir, baseUrl: 'http://127.0.0.1:9', seals: [spec] });
    expect(second.seals[0]!.chainDer[0]!.equals(old.certDer)).toBe(false);
    expect(policiesOf(second.seals[0]!.chainDer[0]!)).toEqual([DEV_SEAL_TYPE_POLICY.approval]);
    // and one that has its policy is kept
    const third = await ensureDevPki({ dir, baseUrl: 'http://127.0.0.1:9', seals: [spec] });
    expect(third.seals[0]!.chainDer[0]!.equals(second.seals[0]!.chainDer[0]!)).toBe(true);
  });
});
