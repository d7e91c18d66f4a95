import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { JOB_NAMES, type JobName, type JobRecord, type Store } from '../ports/stores.ts';

/** What a handler decided; the worker never infers it from an exception alone (STYLE.md §6). */
export type JobOutcome =
  { status: 'done' } | { status: 'retry'; error: string } | { status: 'failed'; error: string };
export type JobHandler = (job: JobRecord) => Promise<JobOutcome>;
/** One handler per job name: a missing one is a compile error. */
export type JobHandlers = Record<JobName, JobHandler>;

/** A set of job names served by its own loops, so cheap I/O jobs never wait behind inference. */
export interface WorkerLane {
  names: readonly JobName[];
  concurrency: number;
}

export interface WorkerOptions {
  /** Loops for all job names, unless `lanes` splits them. */
  concurrency: number;
  lanes?: WorkerLane[];
  /**
   * A claimed job is someone else's again after this long without a heartbeat, so a crashed worker's jobs
   * come back within one lease; a live worker extends it every third of a lease while the handler runs.
   */
  leaseMs?: number;
  pollMs?: number;
  workerId?: string;
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  now?: () => Date;
  /**
   * Called once when a job ends failed (its handler gave up, or it crashed its worker more often than
   * it may be attempted), so its subject does not wait for ever: a verification becomes `error`.
   */
  onGiveUp?: (job: JobRecord, error: string) => Promise<void>;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, owned by someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Exponential backoff: 1 s, 2 s, 4 s … capped at 5 min. */
export function backoffMs(attempts: number): number {
  return Math.min(300_000, 1000 * 2 ** Math.max(0, attempts - 1));
}

/**
 * Runs durable jobs from the store: `concurrency` loops claim due jobs with a lease, run their handler
 * and record the outcome. Jobs survive a crash: a lease that runs out makes the job claimable again, and
 * handlers are idempotent (a verification already decided is not decided twice).
 */
export class Worker {
  readonly id: string;
  private running = false;
  private loops: Promise<void>[] = [];
  private wake: (() => void)[] = [];
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly store: Store,
    private readonly handlers: JobHandlers,
    private readonly options: WorkerOptions,
  ) {
    for (const name of JOB_NAMES) {
      if (typeof handlers[name] !== 'function') throw new Error(`no handler for job ${name}`);
      if (options.lanes && !options.lanes.some((l) => l.names.includes(name)))
        throw new Error(`no lane runs job ${name}`);
    }
    this.id = options.workerId ?? `wrk_${os.hostname()}_${process.pid}_${randomBytes(3).toString('hex')}`;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.pollMs = options.pollMs ?? 500;
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Leases held by this machine's dead worker processes (a `kill -9`, a crash, a container restart) are
   * released at once: a worker id names its host and process, and a process that is gone, or that is this
   * process under another id (a restart that got the same pid), holds nothing any more. Other machines'
   * leases run out as usual.
   */
  async releaseDeadLocalLeases(): Promise<number> {
    const prefix = `wrk_${os.hostname()}_`;
    let released = 0;
    for (const holder of await this.store.listJobLeaseHolders()) {
      if (holder === this.id || !holder.startsWith(prefix)) continue;
      const pid = Number(/^(\d+)_[0-9a-f]+$/.exec(holder.slice(prefix.length))?.[1]);
      if (!Number.isInteger(pid) || pid <= 0) continue;
      if (pid !== process.pid && processAlive(pid)) continue;
      released += await this.store.releaseJobLeases(holder, this.now().toISOString());
    }
    if (released > 0)
      this.options.log?.('warn', 'released the leases of a dead worker process', { jobs: released });
    return released;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.releaseDeadLocalLeases().catch((e: unknown) =>
      this.options.log?.('error', 'could not release dead leases', {
        err: e instanceof Error ? e.message : String(e),
      }),
    );
    const lanes = this.options.lanes ?? [{ names: JOB_NAMES, concurrency: this.options.concurrency }];
    for (const lane of lanes)
      for (let i = 0; i < lane.concurrency; i++) this.loops.push(this.loop(lane.names));
  }

  /** Wake idle loops (a job was just enqueued in this process). */
  notify(): void {
    for (const w of this.wake.splice(0)) w();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.notify();
    await Promise.all(this.loops);
    this.loops = [];
  }

  /** Claim and run jobs until none is due; for tests and the CLI's one-shot drain. */
  async drain(): Promise<number> {
    let n = 0;
    while (await this.runOne(JOB_NAMES)) n++;
    return n;
  }

  private async loop(names: readonly JobName[]): Promise<void> {
    while (this.running) {
      let worked = false;
      try {
        worked = await this.runOne(names);
      } catch (e) {
        this.options.log?.('error', 'worker loop error', { err: e instanceof Error ? e.message : String(e) });
      }
      if (!worked && this.running) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.pollMs);
          this.wake.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    }
  }

  private async runOne(names: readonly JobName[]): Promise<boolean> {
    const now = this.now();
    const job = await this.store.claimJob(
      names,
      this.id,
      now.toISOString(),
      new Date(now.getTime() + this.leaseMs).toISOString(),
    );
    if (!job) return false;
    const stamp = () => this.now().toISOString();
    if (job.attempts > job.maxAttempts) {
      // Claimed more often than allowed without an outcome: each earlier run died with its worker.
      const error = `attempts exhausted: ${job.maxAttempts} runs ended without an outcome (the worker stopped or crashed)`;
      await this.giveUp(job, error);
      await this.store.finishJob(job.id, this.id, 'failed', stamp(), error);
      this.options.log?.('error', 'job failed', { job: job.id, name: job.name, attempts: job.attempts });
      return true;
    }
    let outcome: JobOutcome;
    const heartbeat = setInterval(
      () => {
        const until = new Date(this.now().getTime() + this.leaseMs).toISOString();
        this.store.extendJobLease(job.id, this.id, until).catch(() => undefined);
      },
      Math.max(50, Math.floor(this.leaseMs / 3)),
    );
    try {
      outcome = await this.handlers[job.name](job);
    } catch (e) {
      outcome = { status: 'retry', error: e instanceof Error ? e.message : String(e) };
    } finally {
      clearInterval(heartbeat);
    }
    if (outcome.status === 'done') await this.store.finishJob(job.id, this.id, 'done', stamp());
    else if (outcome.status === 'retry' && job.attempts < job.maxAttempts) {
      const runAt = new Date(this.now().getTime() + backoffMs(job.attempts)).toISOString();
      await this.store.retryJobLater(job.id, this.id, runAt, stamp(), outcome.error);
      this.options.log?.('warn', 'job will be retried', {
        job: job.id,
        name: job.name,
        attempts: job.attempts,
        runAt,
      });
    } else {
      await this.giveUp(job, outcome.error);
      await this.store.finishJob(job.id, this.id, 'failed', stamp(), outcome.error);
      this.options.log?.('error', 'job failed', { job: job.id, name: job.name, attempts: job.attempts });
    }
    return true;
  }

  /** The give-up hook; its own failure leaves the job to be claimed (and given up) again. */
  private async giveUp(job: JobRecord, error: string): Promise<void> {
    await this.options.onGiveUp?.(job, error);
  }
}
