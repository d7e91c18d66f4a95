import type { FastifyRequest } from 'fastify';

/** Tie a request's stored idempotent answer to the verification it created: its deletion drops the answer. */
export function answerIsAbout(req: FastifyRequest, verificationId: string): void {
  if (req.idempotency) req.idempotency.subjectId = verificationId;
}
