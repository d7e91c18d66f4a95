import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps, Caller } from '../../../app/deps.ts';
import { compareFaceImages, extractDocument, locateFace } from '../../../app/face-services.ts';
import {
  acceptUpload,
  checkUploadUrl,
  presignUploads,
  readUpload,
  UPLOAD_KEY,
} from '../../../app/uploads.ts';
import { verifyNow } from '../../../app/verify.ts';
import { getVerification } from '../../../app/manage-verifications.ts';
import { decideVerification } from '../../../app/review.ts';
import { createSession, getSession, listSessions } from '../../../app/sessions.ts';
import { HuwiyaError, type ErrorCode } from '../../../domain/errors.ts';
import { decodeBase64Image } from '../../image-input.ts';
import { caller } from '../../native/routes.ts';
import { messageInDialectTerms, useDialectErrors } from '../../request-error.ts';
import * as S from './schemas.ts';
import {
  documentConfidence,
  documentFields,
  mrzData,
  presentDeepidvSession,
  presentDeepidvVerify,
} from './present.ts';
import { answerIsAbout } from '../../answer-is-about.ts';
import { waitedMs } from '../../waited.ts';

export const DEEPIDV_PREFIX = '/compat/deepidv/v1';

/**
 * deepidv's statuses (API.md): 400 for a bad body, an unsupported format or an image over 15 MB; 401;
 * 403 for a key it may not read; 404; 429 with Retry-After; 500 for a failure of ours.
 */
const DEEPIDV_STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  invalid_json: 400,
  missing_parameter: 400,
  invalid_parameter: 400,
  unknown_parameter: 400,
  invalid_base64: 400,
  image_too_large: 400,
  payload_too_large: 400,
  unsupported_media_type: 400,
  unsupported_content_type: 400,
  image_dimensions_exceeded: 400,
  image_corrupt: 400,
  image_too_small: 400,
  invalid_cursor: 400,
  face_not_found: 400,
  invalid_state: 400,
  authentication_required: 401,
  invalid_api_key: 401,
  insufficient_scope: 403,
  sandbox_only: 403,
  upload_key_forbidden: 403,
  resource_not_found: 404,
  route_not_found: 404,
  method_not_allowed: 404,
  rate_limit_exceeded: 429,
  idempotency_key_invalid: 400,
  idempotency_key_conflict: 400,
  idempotency_key_in_use: 400,
  verification_timeout: 500,
  not_ready: 500,
  server_busy: 503,
  storage_full: 507,
  internal_error: 500,
};

/** Native image fields as /identity/verify's clients name them, for error messages. */
const FIELD_NAMES = { document_front: 'documentImage', selfie: 'faceImage' } as const;

function sendDeepidvError(reply: FastifyReply, err: HuwiyaError): FastifyReply {
  return reply.code(DEEPIDV_STATUS[err.code]).send({ error: messageInDialectTerms(err, FIELD_NAMES) });
}

const DOCUMENT_TYPES = ['passport', 'drivers_license', 'national_id', 'auto'] as const;

function body(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  if (b === undefined || b === null) return {};
  if (typeof b !== 'object' || Array.isArray(b) || Buffer.isBuffer(b))
    throw new HuwiyaError('invalid_request', 'The body must be a JSON object or a multipart form.');
  return b as Record<string, unknown>;
}

function onlyFields(b: Record<string, unknown>, allowed: readonly string[]): void {
  const extra = Object.keys(b).find((k) => !allowed.includes(k));
  if (extra)
    throw new HuwiyaError('unknown_parameter', `${extra} is not a field of this endpoint.`, { param: extra });
}

/**
 * An image field in any of deepidv's forms, mixed freely in one call: a multipart file part, or a JSON
 * string that is a file key from a presigned upload, base64, base64url or a data URL.
 */
async function image(
  deps: AppDeps,
  c: Caller,
  b: Record<string, unknown>,
  field: string,
  required = true,
): Promise<Buffer | undefined> {
  const v = b[field];
  if (v === undefined || v === null || v === '') {
    if (required) throw new HuwiyaError('missing_parameter', `${field} is required.`, { param: field });
    return undefined;
  }
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === 'string' && UPLOAD_KEY.test(v.trim())) return readUpload(deps, c, v.trim(), field);
  return decodeBase64Image(v, field);
}

function documentType(b: Record<string, unknown>): string {
  const t = b.documentType ?? 'auto';
  if (typeof t !== 'string' || !(DOCUMENT_TYPES as readonly string[]).includes(t))
    throw new HuwiyaError('invalid_parameter', `documentType must be one of ${DOCUMENT_TYPES.join(', ')}.`, {
      param: 'documentType',
    });
  return t;
}

const FIVE_POINTS = ['leftEye', 'rightEye', 'nose', 'mouthLeft', 'mouthRight'] as const;
const round4 = (v: number) => Math.round(v * 10_000) / 10_000;

/**
 * The deepidv dialect (API.md "deepidv dialect"): request and response mappers over the native use
 * cases. /identity/verify stores a native verification (`metadata.dialect: "deepidv"`); the single
 * operations, like the native ones, store nothing.
 */
export async function registerDeepidv(app: FastifyInstance, deps: AppDeps, publicUrl: string): Promise<void> {
  await app.register(
    async (scope) => {
      useDialectErrors(scope, (e) => DEEPIDV_STATUS[e.code], sendDeepidvError);
      // The bytes of a presigned upload arrive raw, typed as the image they are.
      scope.addContentTypeParser(
        ['image/jpeg', 'image/png', 'image/webp', 'application/octet-stream'],
        { parseAs: 'buffer', bodyLimit: deps.limits.maxImageBytes },
        (_req, payload, done) => done(null, payload),
      );
      const base = `${publicUrl}${DEEPIDV_PREFIX}`;
      const tags = ['deepidv dialect'];
      const write = { scope: 'identity:write' as const };

      scope.post(
        '/identity/verify',
        {
          config: write,
          schema: {
            tags,
            'x-responses': {
              200: S.DeepidvVerifyResult,
              400: S.DeepidvError,
              401: S.DeepidvError,
              403: S.DeepidvError,
            },
            summary: 'Document scan, selfie face detection and face compare in one call (deepidv)',
            description:
              '`documentImage`, `faceImage` (multipart parts, or JSON strings: base64, base64url or a file key from /upload/presign, mixed freely), `documentType` passport | drivers_license | national_id | auto. Stored as a native verification. Confidences 0-100; overallConfidence = 0.4·document + 0.2·faceDetection + 0.4·faceMatch; a failed part is reported in its block.',
          },
        },
        async (req) => {
          const b = body(req);
          onlyFields(b, ['documentImage', 'faceImage', 'documentType']);
          const c = caller(req);
          const type = documentType(b);
          const [documentImage, faceImage] = await Promise.all([
            image(deps, c, b, 'documentImage'),
            image(deps, c, b, 'faceImage'),
          ]);
          const doc = await verifyNow(
            deps,
            c,
            {
              images: { document_front: documentImage, selfie: faceImage },
              documentType: type,
              country: '',
              checks: ['ocr', 'face_match'],
              mode: 'sync',
              metadata: { dialect: 'deepidv' },
              fileNames: {
                document_front: req.uploadedFiles?.documentImage?.fileName,
                selfie: req.uploadedFiles?.faceImage?.fileName,
              },
            },
            { waitedMs: waitedMs(req) },
          );
          answerIsAbout(req, doc.id);
          return presentDeepidvVerify(doc);
        },
      );

      scope.post(
        '/document/scan',
        {
          config: write,
          schema: {
            tags,
            'x-responses': {
              200: S.DeepidvScanResult,
              400: S.DeepidvError,
              401: S.DeepidvError,
              403: S.DeepidvError,
            },
            summary: 'Read an identity document (deepidv); nothing is stored',
            description:
              '`documentImage` (and optionally `documentBackImage`), `documentType`. Confidence 0..1; `mrzData` is the MRZ as read (null without one); `rawFields` every field read, with `fieldConfidences`.',
          },
        },
        async (req) => {
          const b = body(req);
          onlyFields(b, ['documentImage', 'documentBackImage', 'documentType']);
          const c = caller(req);
          const type = documentType(b);
          const [front, back] = await Promise.all([
            image(deps, c, b, 'documentImage'),
            image(deps, c, b, 'documentBackImage', false),
          ]);
          const out = await extractDocument(deps, { front: front!, back, documentType: type, country: '' });
          const {
            field_confidences: fieldConfidences,
            field_provenance: _provenance,
            ...raw
          } = out.extracted_data as Record<string, unknown>;
          const ocr = out.checks.ocr;
          const read = ocr.status === 'passed' || ocr.status === 'failed';
          return {
            ...documentFields(out.extracted_data, ocr, type),
            confidence: read ? round4(documentConfidence(out.extracted_data)) : 0,
            mrzData: mrzData(out.extracted_data, ocr),
            rawFields: raw,
            fieldConfidences: fieldConfidences ?? {},
            ...(read ? {} : { error: ocr.reason ?? 'document_unreadable' }),
          };
        },
      );

      scope.post(
        '/face/detect',
        {
          config: write,
          schema: {
            tags,
            'x-responses': {
              200: S.DeepidvFaceDetectResult,
              400: S.DeepidvError,
              401: S.DeepidvError,
              403: S.DeepidvError,
            },
            summary: 'Detect the most confident face (deepidv)',
            description:
              "`image`. No face is a 200 with `faceDetected: false`. `boundingBox` and landmark points are shares (0..1) of the image width and height; `leftEye` is the eye on the image's left.",
          },
        },
        async (req) => {
          const b = body(req);
          onlyFields(b, ['image']);
          const face = await locateFace(deps, (await image(deps, caller(req), b, 'image'))!, 'image');
          if (!face) return { faceDetected: false, confidence: 0, boundingBox: null, landmarks: [] };
          return {
            faceDetected: true,
            confidence: round4(face.score),
            boundingBox: {
              top: round4(face.box.top),
              left: round4(face.box.left),
              width: round4(face.box.width),
              height: round4(face.box.height),
            },
            landmarks: face.landmarks.map((p, i) => ({
              type: FIVE_POINTS[i],
              x: round4(p.x),
              y: round4(p.y),
            })),
            facesDetected: face.facesFound,
          };
        },
      );

      scope.post(
        '/face/compare',
        {
          config: write,
          schema: {
            tags,
            'x-responses': {
              200: S.DeepidvFaceCompareResult,
              400: S.DeepidvError,
              401: S.DeepidvError,
              403: S.DeepidvError,
            },
            summary: 'Compare the faces of two images (deepidv)',
            description:
              '`source`, `target`. Confidence and threshold 0-100; a face not found is a 200 saying so.',
          },
        },
        async (req) => {
          const b = body(req);
          onlyFields(b, ['source', 'target']);
          const c = caller(req);
          const [source, target] = await Promise.all([
            image(deps, c, b, 'source'),
            image(deps, c, b, 'target'),
          ]);
          const r = await compareFaceImages(deps, [
            { bytes: source!, param: 'source' },
            { bytes: target!, param: 'target' },
          ]);
          const check = r.check as { match?: boolean; similarity?: number; threshold?: number } | undefined;
          return {
            isMatch: Boolean(check?.match),
            confidence: check?.similarity !== undefined ? Math.round(check.similarity * 10_000) / 100 : 0,
            threshold: Math.round((check?.threshold ?? 0.7) * 100),
            sourceFaceDetected: r.first !== undefined,
            targetFaceDetected: r.second !== undefined,
          };
        },
      );

      scope.post(
        '/face/estimate-age',
        {
          config: write,
          schema: {
            tags,
            summary: 'Not offered: answers 404 (see description)',
            description:
              'The bundled age model has no labelled set here to be validated on; Huwiya does not answer ages it cannot vouch for.',
          },
        },
        async () => {
          throw new HuwiyaError(
            'route_not_found',
            'Age estimation is not offered by this server: the bundled age model could not be validated against labelled ages, and Huwiya does not report figures it cannot vouch for.',
          );
        },
      );

      scope.post(
        '/upload/presign',
        {
          config: write,
          schema: {
            tags,
            'x-responses': {
              200: S.DeepidvPresignResult,
              400: S.DeepidvError,
              401: S.DeepidvError,
              403: S.DeepidvError,
            },
            summary: 'Presigned upload URLs for images (deepidv)',
            description:
              '`{files: [{contentType, byteLength}]}` → `{uploads: [{uploadUrl, fileKey}]}`. PUT the bytes to `uploadUrl` (this server; valid 15 min, signed for this key, type and length) with that Content-Type, then pass `fileKey` as any image field within the hour. A key of another organization, expired or never uploaded answers 403.',
            body: {
              type: 'object',
              additionalProperties: false,
              required: ['files'],
              properties: {
                files: {
                  type: 'array',
                  items: {
                    type: 'object',
                    additionalProperties: false,
                    required: ['contentType', 'byteLength'],
                    properties: { contentType: { type: 'string' }, byteLength: { type: 'integer' } },
                  },
                },
              },
            },
          },
        },
        async (req) => {
          const { files } = req.body as { files: { contentType: string; byteLength: number }[] };
          const uploads = await presignUploads(
            deps,
            caller(req),
            files,
            (id, query) => `${base}/upload/${id}?${query}`,
          );
          return {
            uploads: uploads.map((u) => ({
              uploadUrl: u.uploadUrl,
              fileKey: u.fileKey,
              expiresAt: u.expiresAt,
            })),
          };
        },
      );

      scope.put(
        '/upload/:fileKey',
        {
          bodyLimit: deps.limits.maxImageBytes,
          schema: {
            tags,
            summary: 'Receive the bytes of a presigned upload (the signature is the authorization)',
            security: [],
          },
          // The URL is judged before the body is read: a forged, expired or used one costs no upload.
          onRequest: async (req) => {
            const declared = req.headers['content-length'];
            await checkUploadUrl(
              deps,
              (req.params as { fileKey: string }).fileKey,
              req.query as Record<string, unknown>,
              req.headers['content-type'],
              declared === undefined ? undefined : Number(declared),
            );
          },
        },
        async (req, reply) => {
          const { fileKey } = req.params as { fileKey: string };
          const bytes = req.body;
          if (!Buffer.isBuffer(bytes))
            throw new HuwiyaError(
              'unsupported_content_type',
              'PUT the raw image bytes with its Content-Type.',
            );
          await acceptUpload(
            deps,
            fileKey,
            req.query as Record<string, unknown>,
            req.headers['content-type'],
            bytes,
          );
          return reply.code(200).send();
        },
      );

      // Sessions: native sessions and their hosted capture page, in deepidv's words.
      const sessionView = async (
        c: Caller,
        session: Awaited<ReturnType<typeof getSession>>,
        url?: string,
      ) => {
        const verification = session.verification_id
          ? await getVerification(deps, c, session.verification_id)
          : undefined;
        return presentDeepidvSession(session, verification, url);
      };
      const sessionId = (req: FastifyRequest) => (req.params as { id: string }).id;

      scope.post(
        '/sessions',
        {
          config: write,
          schema: {
            tags,
            summary: 'Create a verification session with a hosted capture page (deepidv)',
            description:
              '`documentType` passport | drivers_license | national_id (default national_id), optional `country` (ISO alpha-2), `redirectUrl`, `webhookUrl`, `metadata`, `expiresIn` (seconds), `locale` (en, fr, ar). Answers `sessionUrl`: send it to your user.',
            body: {
              type: 'object',
              additionalProperties: false,
              properties: {
                documentType: { type: 'string', enum: ['passport', 'drivers_license', 'national_id'] },
                country: { type: 'string', pattern: '^[A-Za-z]{2}$' },
                redirectUrl: { type: 'string', format: 'uri', maxLength: 2048 },
                webhookUrl: { type: 'string', format: 'uri', maxLength: 2048 },
                metadata: { type: 'object', maxProperties: 50 },
                expiresIn: { type: 'integer', minimum: 60, maximum: 86_400 },
                locale: { type: 'string', enum: ['en', 'fr', 'ar'] },
              },
            },
          },
        },
        async (req, reply) => {
          const b = body(req);
          const c = caller(req);
          const created = await createSession(
            deps,
            c,
            {
              documentType: (b.documentType as string | undefined) ?? 'national_id',
              country: typeof b.country === 'string' ? b.country.toUpperCase() : '',
              metadata: {
                ...((b.metadata as Record<string, unknown> | undefined) ?? {}),
                dialect: 'deepidv',
              },
              expiresInSeconds: b.expiresIn as number | undefined,
              redirectUrl: b.redirectUrl as string | undefined,
              webhookUrl: b.webhookUrl as string | undefined,
              locale: b.locale as string | undefined,
            },
            publicUrl,
          );
          return reply.code(201).send(await sessionView(c, created, created.url));
        },
      );

      scope.get(
        '/sessions',
        {
          config: { scope: 'identity:read' },
          schema: {
            tags,
            summary: 'List sessions, newest first (deepidv)',
            querystring: {
              type: 'object',
              additionalProperties: false,
              properties: {
                limit: { type: 'integer', minimum: 1, maximum: 100, default: 25 },
                offset: { type: 'integer', minimum: 0, default: 0 },
              },
            },
          },
        },
        async (req) => {
          const q = req.query as { limit?: number; offset?: number };
          const c = caller(req);
          const { data, total } = await listSessions(deps, c, {
            limit: q.limit ?? 25,
            offset: q.offset ?? 0,
          });
          const sessions = [];
          for (const session of data) sessions.push(await sessionView(c, session));
          return { sessions, totalCount: total, count: sessions.length };
        },
      );

      scope.get(
        '/sessions/:id',
        {
          config: { scope: 'identity:read' },
          schema: { tags, summary: 'Get a session and its result (deepidv)' },
        },
        async (req) => {
          const c = caller(req);
          return sessionView(c, await getSession(deps, { kind: 'key', caller: c }, sessionId(req)));
        },
      );

      scope.patch(
        '/sessions/:id',
        {
          config: { scope: 'identity:review' as const },
          schema: {
            tags,
            summary: "Decide a session's verification by hand (deepidv)",
            description:
              '`decision` approved | rejected (also verified | declined), optional `note`. Only a completed session whose verification is in review takes a decision (400 otherwise).',
            body: {
              type: 'object',
              additionalProperties: false,
              required: ['decision'],
              properties: {
                decision: { type: 'string', enum: ['approved', 'verified', 'rejected', 'declined'] },
                note: { type: 'string', maxLength: 2000 },
              },
            },
          },
        },
        async (req) => {
          const b = body(req);
          const c = caller(req);
          const session = await getSession(deps, { kind: 'key', caller: c }, sessionId(req));
          if (!session.verification_id)
            throw new HuwiyaError(
              'invalid_state',
              `The session is ${session.status}: nothing to decide until it is completed.`,
            );
          const decision = b.decision === 'approved' || b.decision === 'verified' ? 'verified' : 'rejected';
          await decideVerification(deps, c, session.verification_id, decision, b.note as string | undefined);
          return sessionView(c, await getSession(deps, { kind: 'key', caller: c }, sessionId(req)));
        },
      );
    },
    { prefix: DEEPIDV_PREFIX },
  );
}
