import { HuwiyaError } from '../domain/errors.ts';
import type { AppDeps } from './deps.ts';

/**
 * Run request-path pipeline work (a sync verification, a face match, an upload's grading) if the queue
 * in front of the pipeline slots has room; otherwise refuse at once with `server_busy` and a retry delay,
 * rather than let the request wait unseen past its time limit. The worker's jobs are not admitted here:
 * they wait, since nobody is waiting on them.
 */
export function runAdmitted<T>(deps: AppDeps, fn: () => Promise<T>): Promise<T> {
  const slots = deps.pipelineSlots;
  if (pipelineFull(deps)) {
    // About one pipeline run (a few seconds on two cores) per queued request and slot.
    const retryAfter = Math.max(1, Math.ceil((2 * (slots.queued + 1)) / slots.capacity));
    return Promise.reject(
      new HuwiyaError('server_busy', undefined, { details: { retry_after: retryAfter } }),
    );
  }
  return slots.run(fn);
}

/** Every slot busy and the queue at its limit: requests are refused, and readiness says `busy`. */
export function pipelineFull(deps: Pick<AppDeps, 'pipelineSlots' | 'limits'>): boolean {
  const slots = deps.pipelineSlots;
  return slots.inUse >= slots.capacity && slots.queued >= deps.limits.maxQueued;
}
