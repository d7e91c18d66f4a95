import type { JobHandlers } from '../worker/worker.ts';
import type { AppDeps } from './deps.ts';
import { processVerification } from './verify.ts';
import { deliverWebhook } from './webhooks.ts';
import { expireSession } from './sessions.ts';
import { expireUpload } from './uploads.ts';
import { HuwiyaError } from '../domain/errors.ts';

/** The use case behind each job name. */
export function jobHandlers(deps: AppDeps): JobHandlers {
  return {
    'verification.process': async (job) => {
      try {
        await processVerification(deps, job.tenantId, job.subjectId, {}, 'worker');
        return { status: 'done' };
      } catch (e) {
        // Deleted in the meantime: nothing left to do.
        if (e instanceof HuwiyaError && e.code === 'resource_not_found') return { status: 'done' };
        throw e;
      }
    },
    'session.expire': async (job) => {
      await expireSession(deps, job.tenantId, job.subjectId);
      return { status: 'done' };
    },
    'upload.expire': async (job) => {
      await expireUpload(deps, job.subjectId);
      return { status: 'done' };
    },
    'webhook.deliver': async (job) => {
      // Failures are not job failures: the delivery schedules its own next attempt.
      await deliverWebhook(deps, job.tenantId, job.subjectId);
      return { status: 'done' };
    },
  };
}
