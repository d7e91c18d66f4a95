import { randomBytes } from 'node:crypto';
import { statfs } from 'node:fs/promises';
import {
  AjvCompiler,
  type BuildCompilerFromPool,
  type Options as AjvOptions,
  type RouteDefinition,
} from '@fastify/ajv-compiler';
import fastifyMultipart from '@fastify/multipart';
import fastifySwagger from '@fastify/swagger';
import secureJson from 'secure-json-parse';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { pipelineFull } from '../app/admission.ts';
import { authenticate } from '../app/api-keys.ts';
import { clientTokenMatches } from '../app/sessions.ts';
import type { AppDeps } from '../app/deps.ts';
import {
  beginIdempotent,
  finishIdempotent,
  abandonIdempotent,
  requestFingerprint,
} from '../app/idempotency.ts';
import { errorCatalogue, HuwiyaError } from '../domain/errors.ts';
import { modelVersions } from '../pipeline/face/model-manifest.ts';
import type { RateLimiter } from '../ports/rate-limiter.ts';
import { renderDocsPage } from './docs-page.ts';
import { NATIVE_STATUS } from './error-status.ts';
import { registerCapabilities, registerNativeRoutes, scopeGuard } from './native/routes.ts';
import { toHuwiyaError } from './to-huwiya-error.ts';
import { requestError } from './request-error.ts';
import { registerWebhookRoutes } from './native/webhook-routes.ts';
import { registerSessionRoutes } from './native/session-routes.ts';
import { registerSandboxRoutes } from './native/sandbox-routes.ts';
import { registerAccountRoutes } from './native/account-routes.ts';
import { registerCapturePage } from './pages/capture-page.ts';
import { registerDeepxl } from './compat/deepxl/routes.ts';
import { registerDeepidv } from './compat/deepidv/routes.ts';

export interface HttpOptions {
  rateLimiter: RateLimiter;
  rateLimitPerMinute: number;
  logger: boolean | { level: string; stream?: NodeJS.WritableStream };
  version: string;
  /** The origin of every URL handed out (session links, upload and file URLs); never the Host header. */
  publicUrl: string;
  /** A client's whole request (headers and body) must arrive within this; then 408 and the socket closes. */
  requestTimeoutMs?: number;
  /** The data volume, whose free space readiness reports. */
  dataDir?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotency?: { endpoint: string; key: string; subjectId?: string };
    /** Set while @fastify/multipart reads the parts (see the hooks around its registration). */
    readingMultipart?: boolean;
    /** performance.now() when the request arrived: the sync limit counts from here. */
    arrivedAt?: number;
    /** The name and declared type of each multipart file part, by field (the bytes are in the body). */
    uploadedFiles?: Record<string, { fileName: string; mimeType: string }>;
  }
}

const ajvCompilers = AjvCompiler();

/**
 * Query strings and path params are text and keep Fastify's coercion (`limit=5`); a body is typed JSON,
 * so `document_front: 123` or `checks: "ocr"` is a 400, never a value silently coerced into shape.
 */
const buildValidator: BuildCompilerFromPool = (externalSchemas, options) => {
  const ajvOptions = options as { customOptions?: AjvOptions } | undefined;
  const coercing = ajvCompilers(externalSchemas, ajvOptions);
  const exact = ajvCompilers(externalSchemas, {
    ...ajvOptions,
    customOptions: { ...ajvOptions?.customOptions, coerceTypes: false },
  });
  // Fastify calls the compiler with a route definition (the published typing says a bare schema).
  return (route) =>
    (route as unknown as RouteDefinition).httpPart === 'body'
      ? exact(route)
      : (finiteOnly(coercing(route)) as unknown as ReturnType<typeof coercing>);
};

type Validate = ((data: unknown) => boolean) & { errors?: unknown[] | null };

/**
 * Ajv coerces `limit=1e400` to Infinity and lets it through `maximum` (and a 30-digit number past any
 * integer the database holds): a query or path value must come out of coercion a safe integer or a
 * finite number, or the request is refused naming it.
 */
function finiteOnly(validate: Validate): Validate {
  const wrapped: Validate = (data) => {
    if (!validate(data)) {
      wrapped.errors = validate.errors;
      return false;
    }
    if (data && typeof data === 'object') {
      for (const [name, value] of Object.entries(data)) {
        if (typeof value !== 'number') continue;
        if (Number.isFinite(value) && (!Number.isInteger(value) || Number.isSafeInteger(value))) continue;
        wrapped.errors = [{ instancePath: `/${name}`, keyword: 'maximum', message: 'is out of range' }];
        return false;
      }
    }
    wrapped.errors = null;
    return true;
  };
  return wrapped;
}

/** Nesting allowed in a body (metadata is the only free-form field; clients nest it a few levels at most). */
const MAX_BODY_DEPTH = 32;

/**
 * The top-level field under which a body nests deeper than `maxDepth` ('' for the body itself), found
 * without recursion: a 15 MB JSON body can nest millions deep, and recursive code downstream
 * (JSON.stringify, the idempotency fingerprint) would overflow the stack.
 */
function tooDeepField(body: unknown, maxDepth: number): string | undefined {
  if (!body || typeof body !== 'object' || Buffer.isBuffer(body)) return undefined;
  const roots: [string, unknown][] = Array.isArray(body) ? [['', body]] : Object.entries(body);
  for (const [field, root] of roots) {
    const stack: [unknown, number][] = [[root, 1]];
    while (stack.length > 0) {
      const [value, depth] = stack.pop()!;
      if (!value || typeof value !== 'object' || Buffer.isBuffer(value)) continue;
      if (depth > maxDepth) return field;
      for (const child of Object.values(value)) stack.push([child, depth + 1]);
    }
  }
  return undefined;
}

function presentedKey(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const x = req.headers['x-api-key'];
  return typeof x === 'string' && x.trim() ? x.trim() : undefined;
}

function fingerprintBody(value: unknown, parts: (string | Buffer)[]): void {
  if (Buffer.isBuffer(value)) parts.push(value);
  else if (Array.isArray(value)) {
    parts.push('[');
    for (const v of value) fingerprintBody(v, parts);
    parts.push(']');
  } else if (value && typeof value === 'object') {
    for (const k of Object.keys(value).sort()) {
      parts.push(k);
      fingerprintBody((value as Record<string, unknown>)[k], parts);
    }
  } else parts.push(JSON.stringify(value ?? null));
}

export function sendError(
  reply: FastifyReply,
  err: HuwiyaError,
  extra: Record<string, unknown> = {},
): FastifyReply {
  const status = NATIVE_STATUS[err.code];
  return reply.code(status).send({
    error: {
      type: err.type,
      code: err.code,
      message: err.message,
      ...(err.param ? { param: err.param } : {}),
      request_id: reply.request.id,
      ...extra,
    },
  });
}

/**
 * What a request's log line says about it: method, path and request id. Never the query string (DeepXL's
 * `tagFilter=email=…` carries personal data, a presigned upload URL its signature), never the Host header
 * or the client's address.
 */
function withPrivateSerializers(
  logger: HttpOptions['logger'],
): HttpOptions['logger'] | Record<string, unknown> {
  if (logger === false) return false;
  const base = logger === true ? { level: 'info' } : logger;
  return {
    ...base,
    serializers: {
      req: (req: { method?: string; url?: string; id?: string }) => ({
        method: req.method,
        path: String(req.url ?? '').split('?')[0],
        id: req.id,
      }),
    },
  };
}

/** Below this much free space on the data volume, readiness says `storage_low` (a verification needs a few MB). */
const LOW_STORAGE_BYTES = 64 * 1024 * 1024;

async function freeSpace(dir: string): Promise<number | undefined> {
  try {
    const s = await statfs(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return undefined;
  }
}

/** Build the HTTP app without listening (STYLE.md §3): main.ts listens, tests inject. */
export async function buildApp(deps: AppDeps, options: HttpOptions): Promise<FastifyInstance> {
  // JSON bodies carry at most one maximum-size image's worth in all (API.md: 15 MB); multipart allows 15 MB per file.
  const jsonBodyLimit = deps.limits.maxImageBytes;
  // A text part may carry an image as base64 (deepidv mixes forms in one call): room for the largest
  // image's base64 and a data-URL prefix. Busboy cuts a longer value to exactly this length, silently;
  // a value that long is refused below rather than read truncated.
  const fieldBytes = Math.ceil(deps.limits.maxImageBytes / 3) * 4 + 256;
  const app = Fastify({
    logger: withPrivateSerializers(options.logger),
    bodyLimit: jsonBodyLimit,
    genReqId: () => `req_${randomBytes(10).toString('hex')}`,
    requestIdHeader: false,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    // A body that trickles or never ends holds a connection at most this long (hardening, finding 4);
    // an idle socket (no byte either way) longer than a sync verification can take is closed too.
    requestTimeout: options.requestTimeoutMs ?? 60_000,
    connectionTimeout: Math.max(options.requestTimeoutMs ?? 60_000, deps.limits.syncTimeoutMs) + 30_000,
    http: {
      headersTimeout: Math.min(options.requestTimeoutMs ?? 60_000, 20_000),
      connectionsCheckingInterval: Math.min(1000, Math.floor((options.requestTimeoutMs ?? 60_000) / 4)),
    },
    // Errors the router raises before any route runs (a malformed percent-encoding, an over-long path
    // parameter) bypass the error handler; without this they answer Fastify's own body, not the envelope.
    frameworkErrors: (error, _req, reply) => {
      sendError(reply, toHuwiyaError(error));
    },
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: 'array', keywords: ['x-file'] },
    },
    schemaController: { compilersFactory: { buildValidator } },
  });
  // Only JSON and multipart bodies are accepted; Fastify's built-in text/plain parser would hand the
  // routes a string (API.md: anything else is 415 unsupported_content_type).
  app.removeContentTypeParser('text/plain');
  // JSON through secure-json-parse, so that a __proto__ or constructor key is named as such rather than
  // reported as "not JSON" (Fastify's default parser hides the cause).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(new HuwiyaError('invalid_json', 'The JSON body is empty.'), undefined);
      return;
    }
    try {
      done(null, secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch (e) {
      const forbidden = e instanceof SyntaxError && /prototype|constructor/i.test(e.message);
      done(
        forbidden
          ? new HuwiyaError(
              'invalid_request',
              'The body contains a forbidden key (__proto__ or constructor.prototype).',
            )
          : new HuwiyaError('invalid_json'),
        undefined,
      );
    }
  });

  // Busboy reports a malformed multipart body (no boundary, a boundary that never appears, a truncated
  // part) as a plain Error from @fastify/multipart's preValidation hook; these two hooks bracket it so
  // the error handler answers 400 rather than 500.
  app.addHook('preValidation', async (req) => {
    req.readingMultipart = true;
  });

  await app.register(fastifyMultipart, {
    attachFieldsToBody: 'keyValues',
    // The bytes become the field's value, as without this hook; the name a file was sent under is kept
    // beside them for the dialects that echo it (DeepXL's idFileName).
    async onFile(this: FastifyRequest, part) {
      await part.toBuffer();
      this.uploadedFiles = {
        ...this.uploadedFiles,
        [part.fieldname]: { fileName: part.filename, mimeType: part.mimetype },
      };
    },
    limits: {
      fileSize: deps.limits.maxImageBytes,
      files: 3,
      fields: 12,
      fieldSize: fieldBytes,
      parts: 15,
      headerPairs: 50,
    },
  });
  app.addHook('preValidation', async (req) => {
    req.readingMultipart = false;
    if (req.isMultipart() && req.body && typeof req.body === 'object') {
      for (const [field, value] of Object.entries(req.body)) {
        if (typeof value === 'string' && value.length >= fieldBytes)
          throw new HuwiyaError('image_too_large', `${field} exceeds the 15 MB per-image limit.`, {
            param: field,
          });
      }
    }
    const field = tooDeepField(req.body, MAX_BODY_DEPTH);
    if (field === '') {
      throw new HuwiyaError('invalid_request', `The body is nested more than ${MAX_BODY_DEPTH} levels deep.`);
    }
    if (field !== undefined) {
      throw new HuwiyaError(
        'invalid_parameter',
        `${field} is nested more than ${MAX_BODY_DEPTH} levels deep.`,
        { param: field },
      );
    }
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Huwiya Identity API',
        version: options.version,
        description:
          'Self-hosted identity verification. The native dialect is TXCloud-compatible (`/v1`). Authenticate with `Authorization: Bearer hw_live_…` or `x-api-key`. Errors: `{"error": {type, code, message, param, request_id}}`; every code is listed on /docs.',
      },
      servers: [{ url: '/' }],
      components: {
        securitySchemes: {
          BearerAuth: { type: 'http', scheme: 'bearer', description: 'API key as Bearer token' },
          ApiKeyHeader: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        },
      },
      security: [{ BearerAuth: [] }, { ApiKeyHeader: [] }],
      tags: [
        { name: 'Verification', description: 'Verify identities' },
        { name: 'Management', description: 'Stored verifications' },
        { name: 'Sessions', description: 'Hosted capture sessions' },
        { name: 'Webhooks', description: 'Endpoints, deliveries, dead letters (admin scope)' },
        { name: 'Account', description: 'The account, its risk policy and switches (docs/risk-factors.md)' },
        { name: 'Sandbox', description: 'Test keys: scenarios, simulation, reset (docs/sandbox.md)' },
        { name: 'Operations', description: 'Health and readiness' },
        { name: 'DeepXL dialect', description: 'DeepXL-compatible endpoints under /compat/deepxl/v1' },
        { name: 'deepidv dialect', description: 'deepidv-compatible endpoints under /compat/deepidv/v1' },
      ],
    },
    transform: ({ schema, url }) => {
      if (!schema) return { schema, url };
      const { 'x-responses': responses, ...rest } = schema as Record<string, unknown>;
      return { schema: { ...rest, ...(responses ? { response: responses } : {}) } as typeof schema, url };
    },
    transformObject: (doc) => {
      // The multipart file parts are documented as binary strings.
      const obj = (doc as { openapiObject: unknown }).openapiObject;
      const json = JSON.stringify(obj).replace(/"x-file":true/g, '"type":"string","format":"binary"');
      return JSON.parse(json) as Record<string, unknown>;
    },
  });

  app.addHook('onRequest', async (req, reply) => {
    req.arrivedAt = performance.now();
    const scope = req.routeOptions.config.scope;
    if (!scope) return;
    const presented = presentedKey(req);
    let budgetKey: string;
    let refused: HuwiyaError | undefined;
    if (req.routeOptions.config.allowSessionToken && presented?.startsWith('cst_')) {
      // A session's client token, checked here on the headers (before the body): the right one spends
      // its session's budget, a wrong one the budget of the address it came from (never the user's).
      const sessionId = (req.params as { id?: string }).id ?? '';
      if (await clientTokenMatches(deps, sessionId, presented)) {
        req.sessionAccess = { kind: 'client', sessionId, token: presented };
        budgetKey = `session:${sessionId}`;
      } else {
        budgetKey = `bad-client-token:${req.ip}`;
        refused = new HuwiyaError('resource_not_found', `No session ${sessionId}.`, { param: 'id' });
      }
    } else {
      req.caller = await authenticate(deps.store, presented);
      budgetKey = req.caller.apiKeyId;
    }
    const d = await options.rateLimiter.hit(budgetKey, options.rateLimitPerMinute, Date.now());
    reply.header('X-RateLimit-Limit', d.limit);
    reply.header('X-RateLimit-Remaining', d.remaining);
    reply.header('X-RateLimit-Reset', d.resetAt);
    if (!d.allowed) {
      reply.header('Retry-After', d.retryAfterSeconds);
      // Thrown, so that the route's own dialect writes the envelope.
      throw new HuwiyaError('rate_limit_exceeded', undefined, {
        details: { retry_after: d.retryAfterSeconds },
      });
    }
    if (refused) throw refused;
    if (req.caller) scopeGuard(req);
    return undefined;
  });

  app.addHook('preHandler', async (req, reply) => {
    const key = req.headers['idempotency-key'];
    if (req.method !== 'POST' || key === undefined || !req.caller) return undefined;
    if (typeof key !== 'string')
      throw new HuwiyaError('idempotency_key_invalid', undefined, { param: 'Idempotency-Key' });
    const endpoint = `${req.method} ${req.routeOptions.url}`;
    const parts: (string | Buffer)[] = [endpoint];
    fingerprintBody(req.body, parts);
    const outcome = await beginIdempotent(deps, req.caller, endpoint, key, requestFingerprint(parts));
    if (outcome.kind === 'replay') {
      reply.header('Idempotent-Replayed', 'true');
      return reply.code(outcome.response.statusCode).send(outcome.response.body);
    }
    req.idempotency = { endpoint, key };
    return undefined;
  });

  app.addHook('onSend', async (req, reply, payload) => {
    if (req.idempotency && req.caller && reply.getHeader('Idempotent-Replayed') === undefined) {
      const { endpoint, key, subjectId } = req.idempotency;
      req.idempotency = undefined;
      try {
        const body: unknown = typeof payload === 'string' ? JSON.parse(payload) : null;
        await finishIdempotent(
          deps,
          req.caller,
          endpoint,
          key,
          { statusCode: reply.statusCode, body },
          subjectId,
        );
      } catch {
        await abandonIdempotent(deps, req.caller, endpoint, key);
      }
    }
    return payload;
  });

  // Every answer: no MIME sniffing, no caching by a proxy or the browser (answers carry personal data),
  // and never framed. A route that sets its own Cache-Control (the capture page's assets) keeps it.
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    if (reply.getHeader('Cache-Control') === undefined) reply.header('Cache-Control', 'no-store');
    if (reply.getHeader('X-Frame-Options') === undefined) reply.header('X-Frame-Options', 'DENY');
    if (reply.getHeader('Referrer-Policy') === undefined) reply.header('Referrer-Policy', 'no-referrer');
    return payload;
  });

  app.setErrorHandler((error, req, reply) => {
    const err = requestError(error, req, (e) => NATIVE_STATUS[e.code]);
    const retryAfter = err.details?.retry_after;
    if (retryAfter !== undefined) reply.header('Retry-After', String(retryAfter));
    return sendError(reply, err, retryAfter !== undefined ? { retry_after: retryAfter } : {});
  });

  app.setNotFoundHandler((req, reply) =>
    sendError(
      reply,
      new HuwiyaError('route_not_found', `No endpoint ${req.method} ${req.url.split('?')[0]}.`),
    ),
  );

  app.get(
    '/healthz',
    { schema: { tags: ['Operations'], summary: 'Liveness of the process', security: [] } },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    { schema: { tags: ['Operations'], summary: 'Models loaded and store reachable', security: [] } },
    async (_req, reply) => {
      let storeOk = true;
      try {
        await deps.store.ping();
      } catch {
        storeOk = false;
      }
      // The app is only built once every model session is loaded (main.ts): the store decides, and a
      // pipeline whose queue is full answers 503 busy so that a load balancer sends work elsewhere.
      const slots = deps.pipelineSlots;
      const busy = pipelineFull(deps);
      const freeBytes = options.dataDir ? await freeSpace(options.dataDir) : undefined;
      const storageLow = freeBytes !== undefined && freeBytes < LOW_STORAGE_BYTES;
      const status = !storeOk ? 'not_ready' : storageLow ? 'storage_low' : busy ? 'busy' : 'ready';
      return reply.code(status === 'ready' ? 200 : 503).send({
        status,
        store: storeOk ? 'ok' : 'unreachable',
        ...(freeBytes !== undefined ? { storage: { free_bytes: freeBytes, low: storageLow } } : {}),
        pipeline: {
          running: slots.inUse,
          capacity: slots.capacity,
          queued: slots.queued,
          max_queued: deps.limits.maxQueued,
          background_queued: slots.queuedBackground,
        },
        models: modelVersions(deps.manifest),
      });
    },
  );

  registerNativeRoutes(app, deps);
  registerCapabilities(app, deps);
  registerWebhookRoutes(app, deps);
  registerSessionRoutes(app, deps, options.publicUrl);
  registerSandboxRoutes(app, deps);
  registerAccountRoutes(app, deps);
  registerCapturePage(app);
  await registerDeepxl(app, deps, options.publicUrl);
  await registerDeepidv(app, deps, options.publicUrl);

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/docs', { schema: { hide: true } }, async (_req, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header(
        'Content-Security-Policy',
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
      )
      .send(renderDocsPage(app.swagger() as unknown as Record<string, unknown>, errorCatalogue)),
  );

  return app;
}
