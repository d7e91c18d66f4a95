import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HuwiyaError } from '../domain/errors.ts';
import { toHuwiyaError } from './to-huwiya-error.ts';

/**
 * What a request failed with, as a coded error, for every dialect's error handler: a malformed multipart
 * body is the client's fault, and a failure of ours is logged (never the body: personal data).
 */
export function requestError(
  error: unknown,
  req: FastifyRequest,
  status: (e: HuwiyaError) => number,
): HuwiyaError {
  let err = toHuwiyaError(error);
  if (err.code === 'internal_error' && req.readingMultipart) {
    err = new HuwiyaError(
      'invalid_request',
      'The multipart body is malformed (missing or broken boundary, or a truncated part).',
    );
  }
  if (status(err) >= 500) {
    req.log.error(
      {
        code: err.code,
        err: error instanceof Error ? { message: error.message, stack: error.stack } : String(error),
      },
      'request failed',
    );
  }
  return err;
}

/**
 * An error's message in a dialect's own field names: the use cases name the native image fields
 * (`document_front`, `selfie`), which that dialect's clients never sent.
 */
export function messageInDialectTerms(err: HuwiyaError, names: Readonly<Record<string, string>>): string {
  let message = err.message;
  for (const [native, own] of Object.entries(names))
    message = message.replace(new RegExp(`\\b${native}\\b`, 'g'), own);
  return message;
}

/**
 * A dialect's error handling within its own plugin scope: every error, and every unknown route under its
 * prefix, answered in its envelope.
 */
export function useDialectErrors(
  scope: FastifyInstance,
  status: (e: HuwiyaError) => number,
  send: (reply: FastifyReply, err: HuwiyaError) => FastifyReply,
): void {
  scope.setErrorHandler((error, req, reply) => {
    const err = requestError(error, req, status);
    const retryAfter = err.details?.retry_after;
    if (retryAfter !== undefined) reply.header('Retry-After', String(retryAfter));
    return send(reply, err);
  });
  scope.setNotFoundHandler((req, reply) =>
    send(reply, new HuwiyaError('route_not_found', `No endpoint ${req.method} ${req.url.split('?')[0]}.`)),
  );
}
