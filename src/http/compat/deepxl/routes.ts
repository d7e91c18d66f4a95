import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../../../app/deps.ts';
import {
  getVerificationByNumber,
  listVerifications,
  readVerificationImage,
} from '../../../app/manage-verifications.ts';
import { tagHash, verifyNow, type VerifyInput } from '../../../app/verify.ts';
import { HuwiyaError, type ErrorCode } from '../../../domain/errors.ts';
import { DEFAULT_CHECKS } from '../../../domain/verification.ts';
import { NATIVE_STATUS } from '../../error-status.ts';
import { messageInDialectTerms, useDialectErrors } from '../../request-error.ts';
import { caller } from '../../native/routes.ts';
import { contentTypeOf, DEEPXL_FILES, presentDeepxl, safeFileName, servedFileName } from './present.ts';
import * as S from './schemas.ts';
import { answerIsAbout } from '../../answer-is-about.ts';
import { waitedMs } from '../../waited.ts';

export const DEEPXL_PREFIX = '/compat/deepxl/v1';

/**
 * DeepXL's statuses for each error code. Its page documents 400, 401, 404, 413 above the size limit
 * and 415 for an unsupported file type: the native table already answers exactly those.
 */
const DEEPXL_STATUS: Record<ErrorCode, number> = NATIVE_STATUS;

/** Native parameter names as DeepXL's clients know them, for error messages. */
const PART_NAMES: Record<string, string> = Object.fromEntries(
  DEEPXL_FILES.map(({ field, part }) => [field, part]),
);

function sendDeepxlError(reply: FastifyReply, err: HuwiyaError): FastifyReply {
  const status = DEEPXL_STATUS[err.code];
  return reply.code(status).send({
    statusCode: status,
    error: STATUS_CODES[status] ?? 'Error',
    message: messageInDialectTerms(err, PART_NAMES),
  });
}

const MAX_TAGS = 20;
const MAX_TAG_KEY = 64;
const MAX_TAG_VALUE = 256;

/** `tags`: a JSON object of scalar values, as a string (multipart field). */
function parseTags(v: unknown): Record<string, string> {
  if (v === undefined || v === null || v === '') return {};
  let parsed: unknown;
  try {
    parsed = typeof v === 'string' ? JSON.parse(v) : v;
  } catch {
    throw new HuwiyaError('invalid_parameter', 'tags must be a JSON object as a string.', { param: 'tags' });
  }
  if (parsed === null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed))
    throw new HuwiyaError('invalid_parameter', 'tags must be a JSON object.', { param: 'tags' });
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.length > MAX_TAGS)
    throw new HuwiyaError('invalid_parameter', `tags has more than ${MAX_TAGS} keys.`, { param: 'tags' });
  const out: Record<string, string> = {};
  for (const [key, value] of entries) {
    if (!['string', 'number', 'boolean'].includes(typeof value))
      throw new HuwiyaError('invalid_parameter', `tags.${key} must be a string, number or boolean.`, {
        param: 'tags',
      });
    const text = String(value);
    if (key.length === 0 || key.length > MAX_TAG_KEY || key.includes('=') || text.length > MAX_TAG_VALUE)
      throw new HuwiyaError(
        'invalid_parameter',
        `tags keys are 1-${MAX_TAG_KEY} characters without "=", values at most ${MAX_TAG_VALUE}.`,
        { param: 'tags' },
      );
    out[key] = text;
  }
  return out;
}

/** `tagFilter=key=value` (repeatable): every pair required. */
function parseTagFilter(v: unknown): [string, string][] {
  const list = v === undefined ? [] : Array.isArray(v) ? v : [v];
  return list.map((f) => {
    const s = String(f);
    const at = s.indexOf('=');
    if (at <= 0)
      throw new HuwiyaError('invalid_parameter', 'tagFilter must be key=value.', { param: 'tagFilter' });
    return [s.slice(0, at), s.slice(at + 1)];
  });
}

const SORT_COLUMNS: Record<string, 'created_at' | 'number'> = {
  timestamp: 'created_at',
  createdat: 'created_at',
  timestampiso: 'created_at',
  verificationid: 'number',
  id: 'number',
};

function fileParam(req: FastifyRequest, part: string): Buffer | undefined {
  const v = (req.body as Record<string, unknown> | undefined)?.[part];
  if (v === undefined) return undefined;
  if (!Buffer.isBuffer(v))
    throw new HuwiyaError('invalid_parameter', `${part} must be a file part of the multipart body.`, {
      param: part,
    });
  return v;
}

/**
 * The DeepXL dialect (API.md "DeepXL dialect"): a request mapper and a response mapper over the native
 * use cases. Its verifications are native ones, with `metadata.dialect: "deepxl"` and the tags in
 * `metadata.tags`; every verification of the tenant shows in its list, whatever dialect created it.
 */
export async function registerDeepxl(app: FastifyInstance, deps: AppDeps, publicUrl: string): Promise<void> {
  await app.register(
    async (scope) => {
      useDialectErrors(scope, (e) => DEEPXL_STATUS[e.code], sendDeepxlError);
      const filesUrl = `${publicUrl}${DEEPXL_PREFIX}/files`;
      const tags = ['DeepXL dialect'];
      const errors = { 400: S.DeepxlError, 401: S.DeepxlError, 404: S.DeepxlError };

      scope.post(
        '/verification',
        {
          config: { scope: 'identity:write' },
          schema: {
            tags,
            summary: 'Verify a user with an ID and a selfie (DeepXL)',
            description:
              "Multipart `idFile`, `selfieFile` and optional `tags`; runs the native verification synchronously and answers it in DeepXL's `result` shape.",
            consumes: ['multipart/form-data'],
            'x-responses': { 200: S.DeepxlResult, ...errors, 413: S.DeepxlError, 415: S.DeepxlError },
          },
        },
        async (req) => {
          if (!req.isMultipart())
            throw new HuwiyaError(
              'unsupported_content_type',
              'POST /verification takes multipart/form-data with idFile, selfieFile and tags.',
            );
          const body = (req.body ?? {}) as Record<string, unknown>;
          const extra = Object.keys(body).find((k) => !['idFile', 'selfieFile', 'tags'].includes(k));
          if (extra)
            throw new HuwiyaError('unknown_parameter', `${extra} is not a field of this endpoint.`, {
              param: extra,
            });
          const idFile = fileParam(req, 'idFile');
          const selfieFile = fileParam(req, 'selfieFile');
          if (!idFile) throw new HuwiyaError('missing_parameter', 'idFile is required.', { param: 'idFile' });
          if (!selfieFile)
            throw new HuwiyaError('missing_parameter', 'selfieFile is required.', { param: 'selfieFile' });
          const tagValues = parseTags(body.tags);
          const input: VerifyInput = {
            images: { document_front: idFile, selfie: selfieFile },
            // DeepXL declares neither: the document's MRZ and templates tell them.
            documentType: 'auto',
            country: '',
            checks: [...DEFAULT_CHECKS],
            mode: 'sync',
            metadata: { dialect: 'deepxl', tags: tagValues },
            fileNames: {
              document_front: req.uploadedFiles?.idFile?.fileName,
              selfie: req.uploadedFiles?.selfieFile?.fileName,
            },
            tags: tagValues,
          };
          const doc = await verifyNow(deps, caller(req), input, { waitedMs: waitedMs(req) });
          answerIsAbout(req, doc.id);
          return { result: presentDeepxl(doc, filesUrl) };
        },
      );

      scope.get(
        '/verification',
        {
          config: { scope: 'identity:read' },
          schema: {
            tags,
            summary: 'List verifications (DeepXL)',
            querystring: S.DeepxlListQuery,
            'x-responses': { 200: S.DeepxlList, ...errors },
          },
        },
        async (req) => {
          const q = req.query as Record<string, unknown>;
          const sortKey = String(q.sortBy ?? 'timestamp').toLowerCase();
          const by = Object.hasOwn(SORT_COLUMNS, sortKey) ? SORT_COLUMNS[sortKey] : undefined;
          if (!by)
            throw new HuwiyaError('invalid_parameter', 'sortBy must be timestamp or verificationId.', {
              param: 'sortBy',
            });
          const direction = String(q.direction ?? 'desc').toLowerCase();
          if (direction !== 'asc' && direction !== 'desc')
            throw new HuwiyaError('invalid_parameter', 'direction must be asc or desc.', {
              param: 'direction',
            });
          const { data, total } = await listVerifications(deps, caller(req), {
            limit: Number(q.limit ?? 25),
            offset: Number(q.offset ?? 0),
            order: { by, direction },
            tagHashes: parseTagFilter(q.tagFilter).map(([k, v]) => tagHash(deps, k, v)),
          });
          const url = filesUrl;
          return { totalCount: total, count: data.length, data: data.map((d) => presentDeepxl(d, url)) };
        },
      );

      scope.get(
        '/verification/:verificationId',
        {
          config: { scope: 'identity:read' },
          schema: {
            tags,
            summary: 'Get a verification by its integer id (DeepXL)',
            params: {
              type: 'object',
              properties: { verificationId: { type: 'string', pattern: '^[0-9]{1,15}$' } },
              required: ['verificationId'],
            },
            'x-responses': { 200: S.DeepxlResult, ...errors },
          },
        },
        async (req) => {
          const { verificationId } = req.params as { verificationId: string };
          const doc = await getVerificationByNumber(deps, caller(req), Number(verificationId));
          return { result: presentDeepxl(doc, filesUrl) };
        },
      );

      scope.get(
        '/files/:fileName',
        {
          config: { scope: 'identity:read' },
          schema: {
            tags,
            summary: "Download a verification's stored image (DeepXL)",
            description: 'Only the tenant that owns the verification gets it; anyone else gets a 404.',
            params: {
              type: 'object',
              properties: { fileName: { type: 'string', maxLength: 200 } },
              required: ['fileName'],
            },
          },
        },
        async (req, reply) => {
          const { fileName } = req.params as { fileName: string };
          const m = /^v_(id|face)_([0-9]{1,15})_(.+)$/.exec(fileName);
          const notFound = new HuwiyaError('resource_not_found', `No file ${fileName}.`);
          if (!m) throw notFound;
          const file = DEEPXL_FILES.find((f) => f.category === m[1])!;
          const c = caller(req);
          const doc = await getVerificationByNumber(deps, c, Number(m[2])).catch(() => {
            throw notFound;
          });
          const info = doc.input_files?.[file.field];
          if (
            !info ||
            servedFileName(
              file.category,
              doc.number!,
              safeFileName(info.file_name, file.category, info.format),
            ) !== fileName
          )
            throw notFound;
          const image = await readVerificationImage(deps, c, doc.id, file.field);
          return reply
            .type(contentTypeOf(image.format))
            .header('Cache-Control', 'private, no-store')
            .header('X-Content-Type-Options', 'nosniff')
            .send(image.bytes);
        },
      );
    },
    { prefix: DEEPXL_PREFIX },
  );
}
