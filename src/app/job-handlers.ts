import type { JobRecord } from '../ports/stores.ts';
import type { JobHandlers } from '../worker/worker.ts';
import type { AppDeps } from './deps.ts';
import { failVerification, processVerification } from './verify.ts';
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

/** What a job that will never run again leaves behind: a verification `error`, with its failed event. */
export function jobGiveUp(deps: AppDeps): (job: JobRecord, error: string) => Promise<void> {
  return async (job, error) => {
    if (job.name === 'verification.process') await failVerification(deps, job.tenantId, job.subjectId, error);
  };
}
