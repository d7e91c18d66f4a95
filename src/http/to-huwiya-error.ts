import { HuwiyaError, isHuwiyaError } from '../domain/errors.ts';

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
  validation?: {
    instancePath?: string;
    keyword?: string;
    params?: Record<string, unknown>;
    message?: string;
  }[];
  validationContext?: string;
  /** @fastify/multipart's file-size error carries the offending part. */
  part?: { fieldname?: unknown };
}

function paramOf(v: NonNullable<FastifyLikeError['validation']>[number]): string | undefined {
  const path = (v.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  if (v.keyword === 'required' && typeof v.params?.missingProperty === 'string') {
    return path ? `${path}.${v.params.missingProperty}` : v.params.missingProperty;
  }
  if (v.keyword === 'additionalProperties' && typeof v.params?.additionalProperty === 'string') {
    return path ? `${path}.${v.params.additionalProperty}` : v.params.additionalProperty;
  }
  return path || undefined;
}

/** Turn anything thrown in a request into a coded error; unknown errors become internal_error. */
export function toHuwiyaError(err: unknown): HuwiyaError {
  if (isHuwiyaError(err)) return err;
  const e = (err ?? {}) as FastifyLikeError;
  if (e.validation && e.validation.length > 0) {
    const v = e.validation[0]!;
    const param = paramOf(v);
    const where = e.validationContext && e.validationContext !== 'body' ? ` (${e.validationContext})` : '';
    if (v.keyword === 'required')
      return new HuwiyaError('missing_parameter', `${param} is required${where}.`, { param });
    if (v.keyword === 'additionalProperties') {
      return new HuwiyaError('unknown_parameter', `${param} is not an accepted parameter${where}.`, {
        param,
      });
    }
    return new HuwiyaError(
      'invalid_parameter',
      `${param ?? 'request'} ${v.message ?? 'is invalid'}${where}.`,
      { param },
    );
  }
  // A full volume (files or database) is a condition the client can wait out, never a 500.
  if (e.code === 'ENOSPC' || e.code === 'EDQUOT' || e.code === 'SQLITE_FULL')
    return new HuwiyaError('storage_full', undefined, { details: { retry_after: 60 } });
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HuwiyaError(
        'payload_too_large',
        'The request body exceeds the size limit; JSON requests carry at most 15 MB in all, multipart at most 15 MB per image.',
      );
    case 'FST_REQ_FILE_TOO_LARGE': {
      const field = typeof e.part?.fieldname === 'string' ? e.part.fieldname : undefined;
      return new HuwiyaError(
        'image_too_large',
        `${field ?? 'An uploaded file'} exceeds the 15 MB per-image limit.`,
        field ? { param: field } : {},
      );
    }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HuwiyaError('unsupported_content_type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HuwiyaError('invalid_json', 'The JSON body is empty.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new HuwiyaError('invalid_json');
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
    case 'FST_MULTIPART_INVALID_CONTENT_TYPE':
      return new HuwiyaError(
        'invalid_request',
        'The multipart body is malformed (missing or broken boundary).',
      );
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new HuwiyaError('invalid_request', 'The multipart body has too many parts.');
    case 'FST_ERR_BAD_URL':
      return new HuwiyaError('invalid_request', 'The URL contains a malformed percent-encoding.');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new HuwiyaError('invalid_request', 'A path parameter of the URL is too long.');
    case 'FST_PROTO_VIOLATION':
      return new HuwiyaError(
        'invalid_request',
        'The body contains a forbidden key (__proto__ or constructor).',
      );
    default:
      break;
  }
  if (err instanceof SyntaxError) return new HuwiyaError('invalid_json');
  if (e.statusCode === 413) return new HuwiyaError('payload_too_large');
  if (e.statusCode === 415) return new HuwiyaError('unsupported_content_type');
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    // Busboy and other parsers signal malformed input this way.
    return new HuwiyaError('invalid_request', 'The request body could not be parsed.');
  }
  return new HuwiyaError('internal_error');
}
