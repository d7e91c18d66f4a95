import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HuwiyaError } from '../../domain/errors.ts';
import {
  CHECK_NAMES,
  DOCUMENT_TYPES,
  DEFAULT_CHECKS,
  STATUS_ALIASES,
  type CheckName,
  type VerificationStatus,
} from '../../domain/verification.ts';
import { requireScope } from '../../app/api-keys.ts';
import { supportedCountries, supportedDocuments } from '../../app/document-registry.ts';
import { POLICY_VERSION } from '../../domain/risk-policy.ts';
import { modelVersions } from '../../pipeline/face/model-manifest.ts';
import type { AppDeps, Caller } from '../../app/deps.ts';
import { checkLiveness, extractDocument, matchFaces, validateImage } from '../../app/face-services.ts';
import {
  cancelVerification,
  retryVerification,
  deleteVerification,
  getAudit,
  getVerification,
  listVerifications,
} from '../../app/manage-verifications.ts';
import { presentVerification } from '../../app/verification-doc.ts';
import { createVerification, verifyNow, type VerifyInput } from '../../app/verify.ts';
import { searchDuplicates } from '../../app/search-duplicates.ts';
import { decodeBase64Image } from '../image-input.ts';
import type { Scope } from '../../ports/stores.ts';
import * as S from './schemas.ts';
import { answerIsAbout } from '../answer-is-about.ts';
import { waitedMs } from '../waited.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Scope the route needs; routes without one are public. */
    scope?: Scope;
  }
  interface FastifyRequest {
    caller?: Caller;
  }
}

/** The authenticated caller of a route that has a scope. */
export function caller(req: FastifyRequest): Caller {
  if (!req.caller) throw new HuwiyaError('authentication_required');
  return req.caller;
}

/** The `id` path parameter. */
export function idParam(req: FastifyRequest): string {
  return (req.params as { id: string }).id;
}

function body(req: FastifyRequest): Record<string, unknown> {
  return (req.body ?? {}) as Record<string, unknown>;
}

function optionalImage(b: Record<string, unknown>, field: string): Buffer | undefined {
  const v = b[field];
  if (v === undefined || v === null || v === '') return undefined;
  return decodeBase64Image(v, field);
}

function requiredImage(b: Record<string, unknown>, field: string): Buffer {
  const img = optionalImage(b, field);
  if (!img) throw new HuwiyaError('missing_parameter', `${field} is required.`, { param: field });
  return img;
}

/** Multipart sends checks as "a,b" or a JSON array, metadata as a JSON string. */
function parseChecks(v: unknown): CheckName[] {
  if (v === undefined) return [...DEFAULT_CHECKS];
  let list: unknown = v;
  if (typeof v === 'string') {
    const s = v.trim();
    try {
      list = s.startsWith('[')
        ? JSON.parse(s)
        : s
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean);
    } catch {
      throw new HuwiyaError('invalid_parameter', 'checks must be a JSON array or comma-separated names.', {
        param: 'checks',
      });
    }
  }
  if (!Array.isArray(list) || list.some((c) => !(CHECK_NAMES as readonly unknown[]).includes(c))) {
    throw new HuwiyaError('invalid_parameter', `checks must be names among ${CHECK_NAMES.join(', ')}.`, {
      param: 'checks',
    });
  }
  return [...new Set(list as CheckName[])];
}

function parseMetadata(v: unknown): Record<string, unknown> {
  if (v === undefined) return {};
  let m: unknown = v;
  if (typeof v === 'string') {
    try {
      m = JSON.parse(v);
    } catch {
      throw new HuwiyaError('invalid_parameter', 'metadata must be a JSON object.', { param: 'metadata' });
    }
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) {
    throw new HuwiyaError('invalid_parameter', 'metadata must be a JSON object.', { param: 'metadata' });
  }
  if (Buffer.byteLength(JSON.stringify(m)) > 16384) {
    throw new HuwiyaError('invalid_parameter', 'metadata is larger than 16 KB.', { param: 'metadata' });
  }
  return m as Record<string, unknown>;
}

function bodySchema(json: object, multipart: object) {
  return { content: { 'application/json': { schema: json }, 'multipart/form-data': { schema: multipart } } };
}

export function registerNativeRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.post(
    '/v1/identity/verify',
    {
      config: { scope: 'identity:write' },
      schema: {
        operationId: 'createVerification',
        tags: ['Verification'],
        summary: 'Verify an identity: document, selfie, checks, risk',
        description:
          'Runs the requested checks on a document and a selfie and answers an `identity.verification`. `mode: sync` (default) waits up to the sync time limit; `mode: async` answers 201 at once with `status: pending`. Checks this build cannot run are reported as `skipped` with `reason: not_available` and do not affect the decision.',
        body: bodySchema(S.VerifyJsonBody, S.VerifyMultipartBody),
        'x-responses': {
          200: S.Verification,
          201: S.Verification,
          ...S.errorResponses(400, 401, 403, 409, 413, 415, 422, 429),
        },
      },
    },
    async (req, reply) => {
      const c = caller(req);
      const b = body(req);
      const input: VerifyInput = {
        images: {
          document_front: requiredImage(b, 'document_front'),
          document_back: optionalImage(b, 'document_back'),
          selfie: optionalImage(b, 'selfie'),
        },
        documentType: String(b.document_type),
        country: String(b.country).toUpperCase(),
        checks: parseChecks(b.checks),
        mode: b.mode === 'async' ? 'async' : 'sync',
        metadata: parseMetadata(b.metadata),
        webhookUrl: typeof b.webhook_url === 'string' ? b.webhook_url : undefined,
      };
      if (input.mode === 'async') {
        // Stored with its job in one transaction; a worker (in this process or `huwiya worker`) runs it.
        const { doc } = await createVerification(deps, c, input);
        answerIsAbout(req, doc.id);
        return reply.code(201).send(presentVerification(doc));
      }
      const doc = await verifyNow(deps, c, input, { waitedMs: waitedMs(req) });
      answerIsAbout(req, doc.id);
      return reply.code(200).send(presentVerification(doc));
    },
  );

  app.get(
    '/v1/identity/verifications',
    {
      config: { scope: 'identity:read' },
      schema: {
        operationId: 'listVerifications',
        tags: ['Management'],
        summary: 'List verifications, newest first',
        description:
          'Cursor pagination with `starting_after` / `ending_before` (verification ids). `status` also accepts the aliases `failed` (= rejected) and `manual_review` (= review).',
        querystring: S.ListQuery,
        'x-responses': { 200: S.VerificationList, ...S.errorResponses(400, 401, 403) },
      },
    },
    async (req) => {
      const q = req.query as Record<string, string | number | undefined>;
      const rawStatus = q.status as string | undefined;
      const status = rawStatus ? (STATUS_ALIASES[rawStatus] ?? (rawStatus as VerificationStatus)) : undefined;
      const { data, hasMore, total } = await listVerifications(deps, caller(req), {
        status,
        documentType: q.document_type as string | undefined,
        createdAfter: q.created_after ? new Date(String(q.created_after)).toISOString() : undefined,
        createdBefore: q.created_before ? new Date(String(q.created_before)).toISOString() : undefined,
        limit: Number(q.limit ?? 20),
        startingAfter: q.starting_after as string | undefined,
        endingBefore: q.ending_before as string | undefined,
      });
      return { object: 'list', data: data.map(presentVerification), has_more: hasMore, total_count: total };
    },
  );

  app.get(
    '/v1/identity/verifications/:id',
    {
      config: { scope: 'identity:read' },
      schema: {
        operationId: 'getVerification',
        tags: ['Management'],
        summary: 'Get a verification',
        params: S.IdParams,
        'x-responses': { 200: S.Verification, ...S.errorResponses(401, 403, 404) },
      },
    },
    async (req) => presentVerification(await getVerification(deps, caller(req), idParam(req))),
  );

  app.delete(
    '/v1/identity/verifications/:id',
    {
      config: { scope: 'identity:write' },
      schema: {
        operationId: 'deleteVerification',
        tags: ['Management'],
        summary: 'Delete a verification and its images',
        description:
          "Destroys the verification's data key (its record and images become unreadable), then removes them. The audit trail keeps a tombstone without personal data. Irreversible.",
        params: S.IdParams,
        'x-responses': { 200: S.Deleted, ...S.errorResponses(401, 403, 404) },
      },
    },
    async (req) => deleteVerification(deps, caller(req), idParam(req)),
  );

  app.post(
    '/v1/identity/verifications/:id/cancel',
    {
      config: { scope: 'identity:write' },
      schema: {
        operationId: 'cancelVerification',
        tags: ['Management'],
        summary: 'Cancel a pending verification',
        description:
          'Only `pending` verifications can be cancelled (409 `invalid_state` otherwise); the status becomes `cancelled`, a documented extension of the published enum.',
        params: S.IdParams,
        'x-responses': { 200: S.Verification, ...S.errorResponses(401, 403, 404, 409) },
      },
    },
    async (req) => presentVerification(await cancelVerification(deps, caller(req), idParam(req))),
  );

  app.post(
    '/v1/identity/verifications/:id/retry',
    {
      config: { scope: 'identity:write' },
      schema: {
        operationId: 'retryVerification',
        tags: ['Management'],
        summary: 'Run an errored or rejected verification again',
        description:
          'Runs the checks again on the stored images, asynchronously: the answer is the verification back in `pending`; fetch it or wait for its webhook. Only `error` and `rejected` verifications can be retried (409 `invalid_state`). New images are not accepted here: create a new verification instead.',
        params: S.IdParams,
        'x-responses': { 200: S.Verification, ...S.errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (req) => {
      const extra = Object.keys(body(req))[0];
      if (extra) {
        throw new HuwiyaError(
          'unknown_parameter',
          `${extra} is not accepted: a retry runs on the stored images; create a new verification for new images.`,
          { param: extra },
        );
      }
      return presentVerification(await retryVerification(deps, caller(req), idParam(req)));
    },
  );

  app.get(
    '/v1/identity/verifications/:id/audit',
    {
      config: { scope: 'identity:read' },
      schema: {
        operationId: 'getVerificationAudit',
        tags: ['Management'],
        summary: 'Audit trail of a verification',
        params: S.IdParams,
        'x-responses': { 200: S.AuditTrail, ...S.errorResponses(401, 403, 404) },
      },
    },
    async (req) => getAudit(deps, caller(req), idParam(req)),
  );

  app.post(
    '/v1/identity/extract',
    {
      config: { scope: 'identity:write' },
      schema: {
        operationId: 'extractDocument',
        tags: ['Verification'],
        summary: 'Extract document data (no face checks, nothing stored)',
        description:
          'Reads the document (today: its machine-readable zone) and answers `identity.extraction` with `extracted_data`, `field_confidences` and the `ocr` check.',
        body: bodySchema(S.ExtractJsonBody, S.ExtractMultipartBody),
        'x-responses': { 200: S.ExtractResponse, ...S.errorResponses(400, 401, 403, 413, 415) },
      },
    },
    async (req) => {
      const b = body(req);
      return extractDocument(deps, {
        front: requiredImage(b, 'document_front'),
        back: optionalImage(b, 'document_back'),
        documentType: String(b.document_type),
        country: String(b.country).toUpperCase(),
      });
    },
  );

  app.post(
    '/v1/identity/duplicates/search',
    {
      config: { scope: 'identity:read' },
      schema: {
        operationId: 'searchDuplicates',
        tags: ['Management'],
        summary: 'Find your verifications with a document number and/or a face',
        description:
          'Looks the number up (keyed hash, with its issuing country) and the face up (the selfies indexed by verifications that requested the `duplicate` check) among your verifications; nothing is stored. Face matches are at or above the duplicate threshold, nearest first.',
        body: bodySchema(S.DuplicateSearchBody, S.DuplicateSearchMultipartBody),
        'x-responses': S.errorResponses(400, 401, 403, 413, 415, 422),
      },
    },
    async (req) => {
      const b = body(req);
      return searchDuplicates(deps, caller(req), {
        documentNumber: typeof b.document_number === 'string' ? b.document_number : undefined,
        country: typeof b.country === 'string' ? b.country : undefined,
        image: optionalImage(b, 'image'),
      });
    },
  );

  app.post(
    '/v1/identity/face-match',
    {
      config: { scope: 'identity:write' },
      schema: {
        operationId: 'matchFaces',
        tags: ['Verification'],
        summary: 'Compare two faces',
        description:
          '`similarity_score` is on the published 0..1 scale where ≥ 0.70 is a match; the raw cosine and its calibrated threshold are in `evidence`. Nothing is stored.',
        body: bodySchema(S.FaceMatchBody, S.FaceMatchMultipartBody),
        'x-responses': { 200: S.FaceMatchResponse, ...S.errorResponses(400, 401, 403, 413, 415, 422) },
      },
    },
    async (req) => {
      const b = body(req);
      return matchFaces(deps, requiredImage(b, 'image_1'), requiredImage(b, 'image_2'));
    },
  );

  app.post(
    '/v1/identity/liveness',
    {
      config: { scope: 'identity:write' },
      schema: {
        operationId: 'checkLiveness',
        tags: ['Verification'],
        summary: 'Passive liveness of a selfie',
        body: bodySchema(S.LivenessBody, S.LivenessMultipartBody),
        'x-responses': { 200: S.LivenessResponse, ...S.errorResponses(400, 401, 403, 413, 415, 422) },
      },
    },
    async (req) => checkLiveness(deps, requiredImage(body(req), 'image')),
  );

  app.post(
    '/v1/identity/validate',
    {
      config: { scope: 'identity:write' },
      schema: {
        operationId: 'validateDocument',
        tags: ['Verification'],
        summary: 'Pre-validate image quality',
        description:
          'Resolution, blur, exposure and glare; with `type: selfie` (or `side: selfie`) also face presence and size. Issues carry stable codes and a recommendation each.',
        body: bodySchema(S.ValidateBody, S.ValidateMultipartBody),
        'x-responses': { 200: S.ValidateResponse, ...S.errorResponses(400, 401, 403, 413, 415) },
      },
    },
    async (req) => {
      const b = body(req);
      const kind = b.type === 'selfie' || b.side === 'selfie' ? 'selfie' : 'document';
      return validateImage(
        deps,
        requiredImage(b, 'image'),
        kind,
        typeof b.side === 'string' ? b.side : undefined,
      );
    },
  );
}

/** GET /v1/capabilities (API.md "Beyond the three vendors"): what this server can do, from its own registry. */
function capabilities(deps: AppDeps) {
  const available: CheckName[] = ['face_match', 'liveness'];
  // OCR: the MRZ of any ICAO document, the visual zone only where a template exists (see /countries).
  // Fraud: portrait substitution on cards with a ghost portrait; recapture signals not built yet.
  // Duplicate: the same document number seen before; face duplicates not built yet.
  const partial: CheckName[] = ['ocr', 'fraud', 'duplicate'];
  return {
    object: 'capabilities',
    checks: Object.fromEntries(
      CHECK_NAMES.map((c) => [
        c,
        available.includes(c) ? 'available' : partial.includes(c) ? 'partial' : 'not_available',
      ]),
    ),
    document_types: [...DOCUMENT_TYPES],
    countries: supportedCountries()
      .data.filter((c) => c.status === 'full_support')
      .map((c) => c.code),
    image_formats: ['image/jpeg', 'image/png', 'image/webp'],
    limits: {
      max_image_bytes: deps.limits.maxImageBytes,
      max_image_pixels: deps.limits.maxImagePixels,
      sync_timeout_ms: deps.limits.syncTimeoutMs,
    },
    thresholds: {
      face_match_similarity: 0.7,
      face_match_cosine: deps.manifest.thresholds.face_match_cosine,
      document_portrait_cosine:
        deps.manifest.thresholds.document_portrait_cosine ?? deps.manifest.thresholds.face_match_cosine,
      liveness_live_probability: deps.manifest.thresholds.liveness_live_probability,
    },
    model_versions: modelVersions(deps.manifest),
    policy_version: POLICY_VERSION,
  };
}

/** The template registry, as the supported documents and countries (a template added is a country listed). */
function registerDocumentRegistry(app: FastifyInstance): void {
  app.get(
    '/v1/identity/supported-documents',
    {
      config: { scope: 'identity:read' },
      schema: {
        operationId: 'listSupportedDocuments',
        tags: ['Configuration'],
        summary: 'Document templates this server reads, per country',
        querystring: S.SupportedDocumentsQuery,
        'x-responses': { 200: S.SupportedDocuments, ...S.errorResponses(400, 401, 403) },
      },
    },
    async (req) => supportedDocuments((req.query as { country?: string }).country),
  );
  app.get(
    '/v1/identity/countries',
    {
      config: { scope: 'identity:read' },
      schema: {
        operationId: 'listCountries',
        tags: ['Configuration'],
        summary: 'Countries and the document types read for each',
        'x-responses': { 200: S.SupportedCountries, ...S.errorResponses(401, 403) },
      },
    },
    async () => supportedCountries(),
  );
}

export function registerCapabilities(app: FastifyInstance, deps: AppDeps): void {
  registerDocumentRegistry(app);
  app.get(
    '/v1/capabilities',
    {
      config: { scope: 'identity:read' },
      schema: {
        operationId: 'getCapabilities',
        tags: ['Operations'],
        summary: 'Checks, document types, limits and model versions of this server',
        'x-responses': { ...S.errorResponses(401, 403) },
      },
    },
    async () => capabilities(deps),
  );
}

export function scopeGuard(req: FastifyRequest): void {
  const scope = req.routeOptions.config.scope;
  if (scope) requireScope(caller(req), scope);
}
