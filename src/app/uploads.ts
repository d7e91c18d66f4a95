import { timingSafeEqual } from 'node:crypto';
import { HuwiyaError } from '../domain/errors.ts';
import { sniffImageFormat } from '../pipeline/image/decode.ts';
import type { UploadRecord } from '../ports/stores.ts';
import type { AppDeps, Caller } from './deps.ts';
import { newId } from './ids.ts';

/** A presigned upload URL is valid this long (PUT before it ends). */
export const UPLOAD_URL_TTL_MS = 15 * 60_000;
/** An uploaded file can be used by its key this long after it was presigned; then it is deleted. */
export const UPLOAD_KEY_TTL_MS = 60 * 60_000;
/** Files one presign call may ask for. */
export const MAX_PRESIGNED_FILES = 10;

const CONTENT_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
const FORMAT_OF: Record<(typeof CONTENT_TYPES)[number], string> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/webp': 'webp',
};

/** A file key as issued by `presignUploads` (`upl_` and 20 base-36 characters). */
export const UPLOAD_KEY = /^upl_[0-9a-z]{20}$/;

function blobKeyOf(u: Pick<UploadRecord, 'tenantId' | 'id'>): string {
  return `${u.tenantId}/uploads/${u.id}`;
}

function signature(deps: Pick<AppDeps, 'keyring'>, u: UploadRecord, expiresMs: number): string {
  return deps.keyring.blindIndex(
    'upload-url',
    [u.id, u.tenantId, expiresMs, u.contentType, u.byteLength].join('\n'),
  );
}

export interface PresignRequest {
  contentType: string;
  byteLength: number;
}

/**
 * Reserve upload keys: each gets a URL this server accepts one PUT on, signed for that key, tenant,
 * type and length, until it expires. The bytes are sealed with a key of the upload's own and deleted
 * by a job when the key expires (used or not).
 */
export async function presignUploads(
  deps: AppDeps,
  caller: Caller,
  files: readonly PresignRequest[],
  urlFor: (id: string, query: string) => string,
): Promise<{ uploadUrl: string; fileKey: string; expiresAt: string }[]> {
  if (files.length === 0 || files.length > MAX_PRESIGNED_FILES)
    throw new HuwiyaError('invalid_parameter', `files must list 1-${MAX_PRESIGNED_FILES} files.`, {
      param: 'files',
    });
  for (const [i, f] of files.entries()) {
    if (!(CONTENT_TYPES as readonly string[]).includes(f.contentType))
      throw new HuwiyaError(
        'unsupported_media_type',
        `files[${i}].contentType must be one of ${CONTENT_TYPES.join(', ')}.`,
        { param: `files[${i}].contentType` },
      );
    if (!Number.isInteger(f.byteLength) || f.byteLength < 1 || f.byteLength > deps.limits.maxImageBytes)
      throw new HuwiyaError(
        f.byteLength > deps.limits.maxImageBytes ? 'image_too_large' : 'invalid_parameter',
        `files[${i}].byteLength must be an integer from 1 to ${deps.limits.maxImageBytes}.`,
        { param: `files[${i}].byteLength` },
      );
  }
  const now = deps.now();
  const urlExpires = now.getTime() + UPLOAD_URL_TTL_MS;
  const records: UploadRecord[] = files.map((f) => ({
    id: newId('upl'),
    tenantId: caller.tenantId,
    contentType: f.contentType,
    byteLength: f.byteLength,
    state: 'pending',
    expiresAt: new Date(now.getTime() + UPLOAD_KEY_TTL_MS).toISOString(),
    createdAt: now.toISOString(),
  }));
  await deps.store.transaction(async (tx) => {
    for (const u of records) {
      await tx.insertUpload(u);
      await deps.keyring.create(tx, u.id, u.tenantId);
      await tx.enqueueJob(
        { name: 'upload.expire', tenantId: u.tenantId, subjectId: u.id, runAt: u.expiresAt },
        u.createdAt,
      );
    }
  });
  return records.map((u) => ({
    uploadUrl: urlFor(u.id, `expires=${urlExpires}&signature=${signature(deps, u, urlExpires)}`),
    fileKey: u.id,
    expiresAt: u.expiresAt,
  }));
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A presigned URL that cannot be used (403, whatever the reason, said in the message). */
const denied = (why: string) => new HuwiyaError('upload_key_forbidden', `This upload URL ${why}.`);

/**
 * The PUT on a presigned URL: the signature, its expiry, the declared type and length must all hold,
 * and the bytes must be an image of that type. One PUT per key.
 */
export async function acceptUpload(
  deps: AppDeps,
  id: string,
  query: { expires?: unknown; signature?: unknown },
  contentType: string | undefined,
  bytes: Buffer,
): Promise<void> {
  const u = await checkUploadUrl(deps, id, query, contentType, bytes.length);
  if (sniffImageFormat(bytes) !== FORMAT_OF[u.contentType as keyof typeof FORMAT_OF])
    throw new HuwiyaError('unsupported_media_type', `The upload is not a ${u.contentType} image.`);
  const key = await deps.keyring.get(deps.store, u.id);
  if (!key) throw denied('has expired');
  await deps.blobs.put(blobKeyOf(u), key.seal(bytes, `blob:${blobKeyOf(u)}`));
  if (!(await deps.store.markUploaded(u.id))) throw denied('was already used');
}

/**
 * What a presigned URL's PUT can be judged on before its body: the key, signature, expiry and state, the
 * type, and the length (`length`: the bytes received, or the declared Content-Length when called before
 * the body is read; undefined when it is not declared). The route calls it as the request arrives, so a
 * forged, expired or used URL is refused without reading up to 15 MB; `acceptUpload` calls it again.
 */
export async function checkUploadUrl(
  deps: AppDeps,
  id: string,
  query: { expires?: unknown; signature?: unknown },
  contentType: string | undefined,
  length: number | undefined,
): Promise<UploadRecord> {
  const u = UPLOAD_KEY.test(id) ? await deps.store.getUpload(id) : undefined;
  const expires = Number(query.expires);
  if (!u || typeof query.signature !== 'string' || !Number.isFinite(expires)) throw denied('is not valid');
  if (!sameText(query.signature, signature(deps, u, expires))) throw denied('is not valid');
  if (expires < deps.now().getTime()) throw denied('has expired');
  if (u.state !== 'pending') throw denied('was already used');
  if ((contentType ?? '').split(';')[0]!.trim().toLowerCase() !== u.contentType)
    throw new HuwiyaError('unsupported_media_type', `The upload must be sent as ${u.contentType}.`);
  if (length !== undefined && length !== u.byteLength)
    throw new HuwiyaError(
      'invalid_request',
      `The upload is ${length} bytes; ${u.byteLength} were presigned.`,
    );
  return u;
}

/**
 * The bytes behind a file key, for an image field of any request. A key of another tenant, expired,
 * or never uploaded is refused (403), never confused with "not found".
 */
export async function readUpload(deps: AppDeps, caller: Caller, id: string, param: string): Promise<Buffer> {
  const denied = (why: string) =>
    new HuwiyaError('upload_key_forbidden', `${param}: the file key ${why}.`, { param });
  const u = await deps.store.getUpload(id);
  if (!u || u.tenantId !== caller.tenantId) throw denied('is not readable by this organization');
  if (new Date(u.expiresAt) <= deps.now()) throw denied('has expired');
  if (u.state !== 'uploaded') throw denied('has no file uploaded yet');
  const key = await deps.keyring.get(deps.store, u.id);
  const sealed = key ? await deps.blobs.get(blobKeyOf(u)) : undefined;
  if (!key || !sealed) throw denied('has expired');
  return key.open(sealed, `blob:${blobKeyOf(u)}`);
}

/** The `upload.expire` job: the key, its bytes and its record are destroyed. */
export async function expireUpload(deps: AppDeps, id: string): Promise<void> {
  const u = await deps.store.getUpload(id);
  if (!u) return;
  await deps.store.transaction(async (tx) => {
    await deps.keyring.destroy(tx, id);
    await tx.deleteUpload(id);
  });
  await deps.blobs.deletePrefix(blobKeyOf(u));
}
