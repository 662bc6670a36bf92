import { Router } from 'express';
import { z } from 'zod';
import { IssueLicenseBody, ReplaceLicenseBody, RevokeLicenseBody } from './license-routes.js';
import { HolderAccessLogBody } from './holder-routes.js';
import { ExtendQuery } from './extend-routes.js';
import { SealQuery } from './seal-lane.js';
import { SesSignBody } from './ses-routes.js';
import { NewSealBody } from './seals-routes.js';
import { MAX_BATCH_CERTIFICATES, StatusBatchBody } from './status-routes.js';
import { VerifyQuery } from './verify-routes.js';

const schema = (s: z.ZodType) => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

/** Query parameters from a zod object schema. */
function queryParameters(s: z.ZodType): unknown[] {
  const json = schema(s) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({ name, in: 'query', required: json.required?.includes(name) ?? false, schema: property }));
}

const problem = { description: 'problem+json (RFC 9457)', content: { 'application/problem+json': { schema: { type: 'object', properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' } } } } } };
const pdf = { required: true, content: { 'application/pdf': { schema: { type: 'string', format: 'binary' } } } };
const json = (s: z.ZodType) => ({ required: true, content: { 'application/json': { schema: schema(s) } } });
const bearer = [{ bearer: [] }];

const level = { enum: ['B-B', 'B-T', 'B-LT', 'B-LTA'] };
const missingCertificate = {
  type: 'object',
  required: ['subject', 'issuer', 'serialNumber', 'reason'],
  properties: { subject: { type: 'string' }, issuer: { type: 'string' }, serialNumber: { type: 'string', description: 'hexadecimal' }, reason: { type: 'string' } },
};
const extendHeaders = {
  'X-PAdES-Level': { description: 'the level every signature of the file now reaches (below the requested one when data is missing)', schema: level },
  'X-LTV-Missing': { description: 'how many certificates have no OCSP response or CRL', schema: { type: 'integer' } },
  'X-LTV-Missing-Certificates': { description: 'up to 20 of them, comma-separated, each serial=<hex>;subject=<DN>;issuer=<DN>, the names percent-encoded', schema: { type: 'string' } },
};
const extendResponses = {
  '200': {
    description: 'The extended PDF; with report=true a JSON report holding it',
    headers: extendHeaders,
    content: {
      'application/pdf': { schema: { type: 'string', format: 'binary' } },
      'application/json': {
        schema: {
          type: 'object',
          required: ['requested', 'reached', 'complete', 'missing', 'unreadableSignatures', 'pdf'],
          properties: {
            requested: { enum: ['B-LT', 'B-LTA'] },
            reached: level,
            complete: { type: 'boolean' },
            missing: { type: 'array', items: missingCertificate },
            unreadableSignatures: { type: 'array', items: { type: 'string' }, description: 'fields whose CMS cannot be read: nothing was added for them' },
            pdf: { type: 'string', contentEncoding: 'base64' },
          },
        },
      },
    },
  },
  '422': { ...problem, description: 'problem+json: not-signed, level-not-available, pdf-encrypted, or (strict=true) ltv-incomplete with `missing` listing the certificates' },
  '4XX': problem,
  '5XX': problem,
};

const sealTypeNotAllowed = {
  description:
    "problem+json: invalid-seal (field names the input), invalid-pkcs12, or seal-type-not-allowed: the certificate's policies, through the configured mapping (SEAL_TYPE_POLICIES), do not allow the seal type",
  content: {
    'application/problem+json': {
      schema: {
        type: 'object',
        properties: {
          type: { type: 'string' },
          title: { type: 'string' },
          status: { type: 'integer' },
          detail: { type: 'string' },
          field: { type: 'string' },
          sealType: { type: 'string', description: 'seal-type-not-allowed: the type asked for' },
          certificatePolicies: { type: 'array', items: { type: 'string' }, description: "seal-type-not-allowed: the certificate's policy OIDs (empty: no certificatePolicies extension)" },
          allowedSealTypes: { type: 'array', items: { type: 'string' }, description: 'seal-type-not-allowed: the types those policies allow' },
        },
      },
    },
  },
};
const registerSealResponses = { '201': { description: 'The seal registered' }, '422': sealTypeNotAllowed, '4XX': problem, '5XX': problem };
const statusItem = {
  type: 'object',
  description: 'the answer for one certificate, or, in the batch form, `error` alone when that item could not be read',
  properties: {
    subject: { type: 'string' },
    issuer: { type: 'string' },
    serialNumber: { type: 'string', description: 'hexadecimal' },
    status: { enum: ['good', 'revoked', 'unknown'] },
    revokedAt: { type: 'string', format: 'date-time' },
    reason: { type: 'integer', description: 'CRL reason code' },
    source: { type: 'string', description: 'ocsp or crl' },
    thisUpdate: { type: 'string', format: 'date-time' },
    nextUpdate: { type: 'string', format: 'date-time' },
    cached: { type: 'boolean' },
    stale: { type: 'boolean', description: 'past its freshness, served because the responder could not be reached' },
    detail: { type: 'string' },
    error: { type: 'object', properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' } } },
  },
};
const statusCallers = {
  description: 'Anonymous callers are limited per address (PUBLIC_RATE_LIMIT); platform components send a client token with the `status` role and are limited per client (STATUS_CLIENT_RATE_LIMIT). A token that is sent must be valid (401) and hold the role (403).',
  security: [{}, { bearer: [] }],
};
const statusResponses = {
  '200': { description: 'One answer per certificate asked about, in the order sent', content: { 'application/json': { schema: { type: 'object', required: ['certificates'], properties: { certificates: { type: 'array', items: statusItem } } } } } },
  '401': { ...problem, description: 'problem+json: the token sent is unknown or disabled' },
  '403': { ...problem, description: 'problem+json: the token lacks the status role' },
  '413': { ...problem, description: `problem+json: more than 20 PEM certificates, or more than ${MAX_BATCH_CERTIFICATES} batch items` },
  '422': { ...problem, description: 'problem+json: a certificate of the single form cannot be read' },
  '429': { ...problem, description: 'problem+json: rate-limited (per address, or per client with a token)' },
  '4XX': problem,
  '5XX': problem,
};

const publicLicense = {
  type: 'object',
  description: "a licence's public facts: a legal person holder's name and code in full, a natural person's masked; never a revocation reason",
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    number: { type: 'string' },
    version: { type: 'string' },
    status: { enum: ['valid', 'not-yet-valid', 'revoked', 'superseded', 'expired'] },
    issuer: { type: 'string' },
    holder: { type: 'string' },
    holderCode: { type: 'string' },
    issuedOn: { type: 'string', format: 'date' },
    validFrom: { type: ['string', 'null'], format: 'date' },
    validUntil: { type: ['string', 'null'], format: 'date' },
    revokedAt: { type: ['string', 'null'], format: 'date-time' },
  },
};
const licenseVerifyResponses = {
  '200': {
    description:
      'The verdict on the uploaded file. A file matches a licence when one of its signatures, by the licence\'s issuing seal, signs exactly the file as issued; later revisions (B-LT/B-LTA evidence, countersignatures) keep it authentic if they are permitted changes, and report their own results.',
    content: {
      'application/json': {
        schema: {
          type: 'object',
          required: ['verdict', 'detail', 'license', 'currentVersion', 'signatures'],
          properties: {
            verdict: { enum: ['authentic', 'untrusted', 'signature-invalid', 'document-altered', 'not-in-registry', 'not-yet-valid', 'revoked', 'superseded', 'expired'], description: 'untrusted: the seals do not lead to a trusted authority and the file is not in the registry' },
            detail: { type: 'string' },
            license: { oneOf: [publicLicense, { type: 'null' }] },
            currentVersion: { oneOf: [{ ...publicLicense, properties: { ...publicLicense.properties, verificationUrl: { type: 'string' } } }, { type: 'null' }], description: 'for a superseded licence, the last version of its replacement chain' },
            signatures: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  fieldName: { type: 'string' },
                  kind: { enum: ['signature', 'document-timestamp'] },
                  revision: { type: ['integer', 'null'] },
                  role: { enum: ['issuing', 'earlier', 'later', 'unmatched'], description: 'relative to the issuing seal\'s signature; unmatched when the file matched no licence' },
                  indication: { enum: ['TOTAL_PASSED', 'TOTAL_FAILED', 'INDETERMINATE'] },
                  subIndication: { type: ['string', 'null'] },
                  seal: { type: ['object', 'null'], properties: { id: { type: 'string' }, name: { type: 'string' } } },
                  trusted: { type: 'boolean', description: 'the certificate path reaches a trust anchor' },
                  changesAfterSigningPermitted: { type: 'boolean' },
                },
              },
            },
          },
        },
      },
    },
  },
  '4XX': problem,
  '5XX': problem,
};
const licensePageParameters = [
  { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'the GB/T 36904 identifier' },
  { name: 'c', in: 'query', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{10}$' }, description: 'the check code printed in the QR code' },
];
const htmlPage = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' } } } });
/** The purpose of a read (用证事由): one the administrator configured for the client, which decides the licence types it sees. */
const purposeParameter = {
  name: 'purpose',
  in: 'query',
  required: true,
  description: 'one of the purposes configured for this API key (`admin clients purpose`); only licences of the types it covers are found, and the read is recorded with it in the audit log and the holder\'s access log',
  schema: { type: 'string', minLength: 1, maxLength: 64 },
};
const readResponses = (what: string) => ({
  '200': { description: what },
  '400': { ...problem, description: 'problem+json: `purpose-required` or `invalid-purpose`' },
  '401': { ...problem, description: 'problem+json: no or an unknown API key' },
  '403': { ...problem, description: 'problem+json: `forbidden` (no lookup role) or `purpose-not-permitted` (not a purpose configured for this key)' },
  '404': { ...problem, description: 'problem+json: `unknown-license`, also for a licence of a type the purpose does not cover (its existence is not revealed)' },
  '5XX': problem,
});
const scopeResponses = {
  '403': { ...problem, description: 'problem+json: `forbidden` (role), `authority-not-bound` (the client does not act for the licence\'s issuing authority; decided from the identifier, whether or not the licence exists) or `issuing-seal-not-permitted` (the type\'s seal is not among the client\'s seals)' },
};

/** OpenAPI 3.1, built from the zod schemas the routes validate with. */
export function openApiDocument(baseUrl: string): Record<string, unknown> {
  const op = (summary: string, extra: Record<string, unknown> = {}) => ({ summary, responses: { '200': { description: 'OK' }, '4XX': problem, '5XX': problem }, ...extra });
  return {
    openapi: '3.1.0',
    info: { title: 'E-seal and e-license service', version: '1' },
    servers: [{ url: baseUrl }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths: {
      '/v1/seal': { post: op('Seal a PDF (PAdES B-B to B-LTA); returns the sealed PDF', { security: bearer, parameters: queryParameters(SealQuery), requestBody: pdf }) },
      '/v1/extend': { post: op('Raise a signed PDF to B-LT or B-LTA; says which certificates lack revocation data', { security: bearer, parameters: queryParameters(ExtendQuery), requestBody: pdf, responses: extendResponses }) },
      '/v1/verify': {
        post: op('Validation report of every signature in a PDF', {
          parameters: [...queryParameters(VerifyQuery), { name: 'X-PDF-Password', in: 'header', required: false, description: 'the password of an encrypted PDF, when the empty user password does not open it', schema: { type: 'string' } }],
          requestBody: pdf,
        }),
      },
      '/v1/seals': { get: op('List seals', { security: bearer }), post: op('Register a seal from a PKCS#12 file, optionally with its national e-seal (GB/T 38540 SESeal, `sesSeal`) (admin)', { security: bearer, requestBody: json(NewSealBody), responses: registerSealResponses }) },
      '/v1/ses/sign': { post: op('Sign an SM3 hash with a national e-seal: a GB/T 38540 SES_Signature (base64) for OFD and other formats', { security: bearer, requestBody: json(SesSignBody) }) },
      '/v1/ses/verify': { post: op('Verify a GB/T 38540 or GM/T 0031 SES_Signature against a document (`document`, base64) or its SM3 hash (`sm3`): a signature report as /v1/verify gives', { requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['signature'], properties: { signature: { type: 'string', format: 'byte' }, document: { type: 'string', format: 'byte' }, sm3: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' } } } } } } }) },
      '/v1/seals/{id}': { get: op('One seal with its certificate chain', { security: bearer }) },
      '/v1/seals/{id}/revoke': {
        post: op('Revoke a seal and its certificate, with every registration of that certificate (admin)', {
          security: bearer,
          responses: { '200': { description: 'The seal, revoked, with `revokedRegistrations`: the seals this revoked (the seal itself and any other registration of its certificate)' }, '4XX': problem, '5XX': problem },
        }),
      },
      '/v1/certificates/status': {
        post: op(`Status of certificates: PEM (the chain may follow) or one DER certificate; or, for batch callers, JSON {"certificates": [...]} with up to ${MAX_BATCH_CERTIFICATES} items, each answered or refused on its own`, {
          ...statusCallers,
          requestBody: {
            required: true,
            content: {
              'application/x-pem-file': { schema: { type: 'string' } },
              'application/pkix-cert': { schema: { type: 'string', format: 'binary' } },
              'application/json': { schema: schema(StatusBatchBody) },
            },
          },
          responses: statusResponses,
        }),
      },
      '/ocsp': { post: op('RFC 6960 OCSP; other CAs\' responses are served from the cache as their responders signed them', { ...statusCallers, requestBody: { required: true, content: { 'application/ocsp-request': { schema: { type: 'string', format: 'binary' } } } } }) },
      '/ocsp/{request}': { get: op('RFC 6960 OCSP over GET (the request in URL-encoded base64)', { ...statusCallers, parameters: [{ name: 'request', in: 'path', required: true, schema: { type: 'string' } }] }) },
      '/v1/license-types': {
        get: op('License and notice types with their fields', {
          description:
            'Each type as defined in templates/: fields with their limits, and the layout (style licence or letter, font sizes with minFontSize, maxPages, qr either {leftMm, bottomMm, sizeMm} at the lower left of the last page or {corner: "top-right", rightMm, topMm, sizeMm}, seal position, issuerLabel, validityLabel, rightColumn) and, for letters, the letter text. The food permit has the optional fields domicile (住所), supervisoryAuthority (日常监督管理机构) and complaintPhone (投诉举报电话).',
        }),
      },
      '/v1/licenses': {
        post: op('Issue a license or notice', {
          security: bearer,
          description:
            'Only for an issuing authority the client is bound to (the organisation of the type\'s seal), with a seal the client may use. A 422 invalid-license-fields names each field that is invalid, holds a character no embedded font draws (emoji), or does not fit in the pages the type allows.',
          parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, description: 'a retry with the same key and request gets the licence the first one produced', schema: { type: 'string', maxLength: 200 } }],
          requestBody: json(IssueLicenseBody),
          responses: { '201': { description: 'The licence record' }, ...scopeResponses, '4XX': problem, '5XX': problem },
        }),
        get: op('Look a holder\'s licenses up by holder code (lookup role), for a configured purpose: only the types it covers', { security: bearer, parameters: [{ name: 'holderCode', in: 'query', required: true, schema: { type: 'string' } }, purposeParameter], responses: readResponses('The licences found') }),
      },
      '/v1/licenses/{id}': { get: op('A license record (lookup role), for a configured purpose', { security: bearer, parameters: [purposeParameter], responses: readResponses('The licence record') }) },
      '/v1/licenses/{id}/pdf': { get: op('The sealed license PDF (lookup role), for a configured purpose', { security: bearer, parameters: [purposeParameter], responses: readResponses('The sealed PDF') }) },
      '/v1/licenses/{id}/revoke': { post: op('Revoke a license of an authority the client is bound to', { security: bearer, requestBody: json(RevokeLicenseBody), responses: { '200': { description: 'The licence, revoked' }, ...scopeResponses, '4XX': problem, '5XX': problem } }) },
      '/v1/licenses/{id}/replace': { post: op('Issue the next version of a license of an authority the client is bound to: same holder and number, the old term unless a new one is given, a stated reason', { security: bearer, requestBody: json(ReplaceLicenseBody), responses: { '201': { description: 'The new version' }, ...scopeResponses, '4XX': problem, '5XX': problem } }) },
      '/v1/holders/access-log': {
        post: op('For a holder: who read its licences, when and for what purpose. The holder proves itself with its code, one of its licences\' identifier and that licence\'s check code (the `c` of its QR code); limited per address like the public routes', {
          requestBody: json(HolderAccessLogBody),
          responses: { '200': { description: '`{holderCode, entries: [{at, client: {id, name}, purpose, access: record|pdf|holder-search, licenseId, results}]}`, oldest first' }, '404': { ...problem, description: 'problem+json: `holder-not-verified`, the same for every failed proof, whether the licence exists or not' }, '429': problem, '4XX': problem, '5XX': problem },
        }),
      },
      '/v1/holders/{holderCode}/access-log': {
        get: op('The same access log, for a client acting for the holder (lookup role and a configured purpose); the request is audited', { security: bearer, parameters: [{ name: 'holderCode', in: 'path', required: true, schema: { type: 'string' } }, purposeParameter] }),
      },
      '/v1/licenses/verify': { post: op('Is this license file authentic and valid now', { requestBody: pdf, responses: licenseVerifyResponses }) },
      '/v/{id}': {
        get: op('The public verification page the QR code opens (HTML, zh-CN): verdict banner, public facts, the licence face, a link to the version in force', {
          parameters: licensePageParameters,
          responses: { '200': htmlPage('the page'), '400': htmlPage('malformed identifier or check code (Chinese page)'), '404': htmlPage('no such licence, or a wrong check code (Chinese page)'), '429': problem },
        }),
      },
      '/v/{id}/present': {
        get: op("The holder's presentation page (HTML): a QR code of a presentation code that opens the licence's page for 5 minutes", {
          parameters: licensePageParameters,
          responses: { '200': htmlPage('the page with the QR code (SVG) and its expiry'), '400': htmlPage('malformed identifier or check code'), '404': htmlPage('no such licence, or a wrong check code'), '429': problem },
        }),
      },
      '/v/presented/{token}': {
        get: op("The licence's public page opened with a presentation code; its links carry presentation codes, never the permanent check code", {
          parameters: [{ name: 'token', in: 'path', required: true, schema: { type: 'string' }, description: 'the presentation code (base64url payload, a dot, a 16-byte HMAC)' }],
          responses: { '200': htmlPage('the page'), '400': htmlPage('malformed or forged code'), '404': htmlPage('no such licence'), '410': htmlPage('the code has expired'), '429': problem },
        }),
      },
      '/v/presented/{token}/face.png': { get: op('The licence face, opened with a presentation code', { parameters: [{ name: 'token', in: 'path', required: true, schema: { type: 'string' } }] }) },
      '/v/{id}/face.png': {
        get: op("The licence's first page as issued, rendered as a PNG (at most 1000 pixels a side)", {
          parameters: licensePageParameters,
          responses: { '200': { description: 'the image', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } }, '400': htmlPage('malformed identifier or check code'), '404': htmlPage('no such licence, or a wrong check code'), '503': { description: 'the image cannot be rendered now (Retry-After)' } },
        }),
      },
      '/healthz': { get: op('Liveness') },
      '/readyz': { get: op('Readiness') },
      '/metrics': { get: op('Prometheus metrics') },
    },
  };
}

const escape = (text: string): string => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function openApiRouter(baseUrl: string): Router {
  const router = Router();
  const document = openApiDocument(baseUrl);
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  router.get('/docs', (_req, res) => {
    const paths = document.paths as Record<string, Record<string, { summary: string; security?: Array<Record<string, unknown>> }>>;
    const access = (security: Array<Record<string, unknown>> | undefined): string => (!security ? 'public' : security.some((s) => Object.keys(s).length === 0) ? 'public, or API key' : 'API key');
    const rows = Object.entries(paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escape(path)}</code></td><td>${escape(op.summary)}</td><td>${access(op.security)}</td></tr>`),
    );
    res.type('html').send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>API</title><style>body{font-family:sans-serif;margin:2em}td{padding:4px 12px;border-bottom:1px solid #ddd}</style></head><body><h1>E-seal and e-license service API</h1><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Errors are application/problem+json.</p><table>${rows.join('')}</table></body></html>`);
  });
  return router;
}
