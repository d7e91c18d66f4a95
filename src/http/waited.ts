import type { FastifyRequest } from 'fastify';

/** How long the request has been here (body upload and queueing included): the sync limit counts from arrival. */
export function waitedMs(req: FastifyRequest): number {
  return req.arrivedAt === undefined ? 0 : performance.now() - req.arrivedAt;
}
