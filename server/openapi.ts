/**
 * The OpenAPI 3.1 document served at /openapi.json, built from the same zod schemas that check
 * the requests, so the description cannot drift from what the server accepts.
 */
import { z } from 'zod';
import { VALIDATION_CODES } from '../lib/validation/validation-code.js';
import { activateBody, deactivateBody, heartbeatBody, validateBody } from './routes/client-schemas.js';

type Json = Record<string, unknown>;

/** A route to describe: its request schema and answers. */
export interface OpenApiOperation {
  readonly method: 'get' | 'post';
  readonly path: string;
  readonly summary: string;
  readonly tags: readonly string[];
  readonly body?: z.ZodType;
  readonly query?: z.ZodType;
  readonly admin?: 'read' | 'write';
  readonly responses: Readonly<Record<string, string>>;
}

const errorSchema: Json = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'details', 'requestId'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object' }, requestId: { type: ['string', 'null'] } },
    },
  },
};

const validationAnswer: Json = {
  type: 'object',
  required: ['valid', 'code', 'message'],
  properties: {
    valid: { type: 'boolean' },
    code: { type: 'string', enum: [...VALIDATION_CODES] },
    message: { type: 'string' },
    license: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        product: { type: 'string' },
        status: { type: 'string', enum: ['active', 'suspended', 'expired', 'revoked'] },
        planId: { type: 'string' },
        limits: { type: 'object' },
        features: { type: 'array', items: { type: 'string' } },
        expiresAt: { type: ['string', 'null'], format: 'date-time' },
        trialEndsAt: { type: ['string', 'null'], format: 'date-time' },
      },
    },
    activationId: { type: 'string' },
    leaseExpiresAt: { type: 'string', format: 'date-time', description: 'Floating seats: a heartbeat must come before this; the token expires with it.' },
    token: { type: 'string', description: 'Ed25519-signed JWT (alg EdDSA) of this answer, for offline checks until it expires.' },
  },
};

/** Routes of this server, described. The admin routes are described in routes/admin-operations.ts. */
export const CLIENT_OPERATIONS: readonly OpenApiOperation[] = [
  {
    method: 'post',
    path: '/v1/licenses/validate',
    summary: 'Validate a key (on every launch). The answer is data: HTTP 200 with valid and code.',
    tags: ['client'],
    body: validateBody,
    responses: { '200': 'ValidationAnswer', '400': 'Error', '413': 'Error', '415': 'Error', '429': 'Error' },
  },
  {
    method: 'post',
    path: '/v1/licenses/activate',
    summary: 'Bind a machine (fingerprint) or a domain to the key, within the plan’s seats.',
    tags: ['client'],
    body: activateBody,
    responses: { '200': 'Activation', '400': 'Error', '404': 'Error', '409': 'Error', '413': 'Error', '422': 'Error', '429': 'Error' },
  },
  {
    method: 'post',
    path: '/v1/licenses/deactivate',
    summary: 'Free a seat.',
    tags: ['client'],
    body: deactivateBody,
    responses: { '200': 'Deactivation', '400': 'Error', '404': 'Error', '409': 'Error', '429': 'Error' },
  },
  {
    method: 'post',
    path: '/v1/licenses/heartbeat',
    summary: 'Keep a floating seat (plans with floating seats): answered with a fresh validation and token. A lapsed seat is 409 NOT_ACTIVATED: activate again.',
    tags: ['client'],
    body: heartbeatBody,
    responses: { '200': 'ValidationAnswer', '400': 'Error', '404': 'Error', '409': 'Error', '413': 'Error', '429': 'Error' },
  },
  {
    method: 'get',
    path: '/.well-known/jwks.json',
    summary: 'The Ed25519 public keys (JWK, by kid) that verify validation tokens: the current, the next and the retired keys still in force. Cacheable (max-age 300).',
    tags: ['client'],
    responses: { '200': 'Jwks' },
  },
  { method: 'get', path: '/healthz', summary: 'Liveness.', tags: ['operations'], responses: { '200': 'Object' } },
  { method: 'get', path: '/readyz', summary: 'Readiness: Redis and MongoDB reachable.', tags: ['operations'], responses: { '200': 'Object', '503': 'Object' } },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics.', tags: ['operations'], responses: { '200': 'Text' } },
  { method: 'get', path: '/openapi.json', summary: 'This document.', tags: ['operations'], responses: { '200': 'Object' } },
];

const components: Json = {
  schemas: {
    Error: errorSchema,
    ValidationAnswer: validationAnswer,
    Activation: {
      type: 'object',
      properties: {
        activated: { type: 'boolean' },
        alreadyActive: { type: 'boolean' },
        activationId: { type: ['string', 'null'] },
        licenseId: { type: 'string' },
        leaseExpiresAt: { type: 'string', format: 'date-time', description: 'Floating seats: send a heartbeat before this.' },
        heartbeatSeconds: { type: 'integer', description: 'Floating seats: the plan’s heartbeat interval.' },
      },
    },
    Jwks: {
      type: 'object',
      required: ['keys'],
      properties: {
        keys: {
          type: 'array',
          items: {
            type: 'object',
            required: ['kty', 'crv', 'x', 'kid'],
            properties: { kty: { const: 'OKP' }, crv: { const: 'Ed25519' }, x: { type: 'string' }, kid: { type: 'string' }, alg: { const: 'EdDSA' }, use: { const: 'sig' } },
          },
        },
      },
    },
    Deactivation: { type: 'object', properties: { deactivated: { type: 'boolean' }, licenseId: { type: 'string' } } },
    Object: { type: 'object' },
    Text: { type: 'string' },
  },
  securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'kwa_<id>_<secret>, from `keyward token create`.' } },
};

function describe(operation: OpenApiOperation): Json {
  const responses = Object.fromEntries(
    Object.entries(operation.responses).map(([status, schema]) => [
      status,
      {
        description: status.startsWith('2') ? 'OK' : 'Error',
        content: { [schema === 'Text' ? 'text/plain' : 'application/json']: { schema: { $ref: `#/components/schemas/${schema}` } } },
      },
    ]),
  );
  const pathParameters = [...operation.path.matchAll(/:(\w+)/g)].map(([, name]) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));
  const queryParameters = operation.query
    ? Object.entries((z.toJSONSchema(operation.query, { io: 'input' }) as { properties?: Record<string, unknown> }).properties ?? {}).map(
        ([name, schema]) => ({ name, in: 'query', required: false, schema }),
      )
    : [];
  const parameters = [...pathParameters, ...queryParameters];
  return {
    summary: operation.summary,
    tags: operation.tags,
    ...(operation.admin ? { security: [{ adminToken: [] }], 'x-scope': operation.admin } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(operation.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(operation.body, { io: 'input', unrepresentable: 'any' }) } } } }
      : {}),
    responses,
  };
}

/** The document for these operations (default: the client and operations routes). */
export function buildOpenApiDocument(operations: readonly OpenApiOperation[] = CLIENT_OPERATIONS): Json {
  const paths: Record<string, Json> = {};
  for (const operation of operations) {
    const openApiPath = operation.path.replace(/:(\w+)/g, '{$1}');
    paths[openApiPath] = { ...(paths[openApiPath] ?? {}), [operation.method]: describe(operation) };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Keyward', version: '0.1.0', description: 'License keys: validation, activation, administration.' },
    paths,
    components,
  };
}
