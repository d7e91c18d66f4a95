/**
 * The one error catalogue. Every code here is stable, documented in docs/errors.md (a test checks
 * both directions) and mapped to an HTTP status by each dialect in src/http, never here.
 */
export type ErrorType =
  | 'validation_error'
  | 'authentication_error'
  | 'authorization_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'idempotency_error'
  | 'api_error';

export interface ErrorSpec {
  type: ErrorType;
  message: string;
}

export const errorCatalogue = {
  invalid_request: { type: 'validation_error', message: 'The request is malformed.' },
  invalid_json: { type: 'validation_error', message: 'The request body is not valid JSON.' },
  missing_parameter: { type: 'validation_error', message: 'A required parameter is missing.' },
  invalid_parameter: { type: 'validation_error', message: 'A parameter has an invalid value.' },
  unknown_parameter: {
    type: 'validation_error',
    message: 'The request contains a parameter that is not accepted.',
  },
  invalid_base64: {
    type: 'validation_error',
    message: 'The image is not valid base64, base64url or data URL.',
  },
  image_too_large: { type: 'validation_error', message: 'The image exceeds the size limit.' },
  payload_too_large: { type: 'validation_error', message: 'The request body exceeds the size limit.' },
  unsupported_media_type: {
    type: 'validation_error',
    message: 'The file is not a supported image (JPEG, PNG or WebP).',
  },
  unsupported_content_type: {
    type: 'validation_error',
    message: 'The request content type is not supported; use application/json or multipart/form-data.',
  },
  image_dimensions_exceeded: {
    type: 'validation_error',
    message: 'The image has too many pixels (decompression bomb guard).',
  },
  image_corrupt: { type: 'validation_error', message: 'The image could not be decoded.' },
  image_too_small: { type: 'validation_error', message: 'The image is too small to analyse.' },
  invalid_cursor: { type: 'validation_error', message: 'The pagination cursor is not valid.' },
  face_not_found: { type: 'validation_error', message: 'No face was found in the image.' },
  invalid_state: {
    type: 'validation_error',
    message: 'The verification is not in a state that allows this operation.',
  },
  authentication_required: { type: 'authentication_error', message: 'No API key was provided.' },
  invalid_api_key: { type: 'authentication_error', message: 'The API key is not valid or has been revoked.' },
  upload_key_forbidden: {
    type: 'authorization_error',
    message: 'The file key or upload URL is not valid for this organization, or has expired.',
  },
  insufficient_scope: {
    type: 'authorization_error',
    message: 'The API key lacks the scope this operation needs.',
  },
  sandbox_only: {
    type: 'authorization_error',
    message: 'This endpoint acts on the sandbox; call it with a test key (hw_test_…).',
  },
  resource_not_found: { type: 'not_found_error', message: 'The resource does not exist.' },
  route_not_found: { type: 'not_found_error', message: 'No such endpoint.' },
  method_not_allowed: { type: 'validation_error', message: 'The method is not allowed on this endpoint.' },
  rate_limit_exceeded: {
    type: 'rate_limit_error',
    message: 'Too many requests; retry after the indicated delay.',
  },
  idempotency_key_invalid: {
    type: 'idempotency_error',
    message: 'The Idempotency-Key must be 10-255 characters of [A-Za-z0-9_-].',
  },
  idempotency_key_conflict: {
    type: 'idempotency_error',
    message: 'The Idempotency-Key was already used with a different request.',
  },
  idempotency_key_in_use: {
    type: 'idempotency_error',
    message: 'A request with this Idempotency-Key is still being processed.',
  },
  verification_timeout: {
    type: 'api_error',
    message: 'The verification did not finish within the sync time limit; it continues and can be fetched.',
  },
  not_ready: { type: 'api_error', message: 'The service is not ready.' },
  storage_full: {
    type: 'api_error',
    message: 'The data volume is full; nothing was stored. Retry after the indicated delay (Retry-After).',
  },
  server_busy: {
    type: 'api_error',
    message: 'The server is at capacity; retry after the indicated delay (Retry-After).',
  },
  internal_error: { type: 'api_error', message: 'An unexpected error occurred.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof errorCatalogue;

/** A coded error thrown by domain, pipeline and app code; carries no HTTP status. */
export class HuwiyaError extends Error {
  readonly code: ErrorCode;
  readonly param: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message?: string,
    options: { param?: string; details?: Record<string, unknown> } = {},
  ) {
    super(message ?? errorCatalogue[code].message);
    this.name = 'HuwiyaError';
    this.code = code;
    this.param = options.param;
    this.details = options.details;
  }

  get type(): ErrorType {
    return errorCatalogue[this.code].type;
  }
}

export function isHuwiyaError(e: unknown): e is HuwiyaError {
  return e instanceof HuwiyaError;
}
