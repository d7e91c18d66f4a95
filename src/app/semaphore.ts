/**
 * Which waiters a freed slot goes to first: `request`, work a caller is waiting on with a deadline (a sync
 * verification, a face match, an upload's grading); `background`, work nobody waits on (the worker's jobs),
 * which runs when no request waits. Under overload the backlog of jobs grows, and the callers in front of
 * the service are served or refused at once, instead of being refused because jobs hold the queue.
 */
export type SlotLane = 'request' | 'background';

/**
 * Bounds how many pipeline runs (decode + inference) execute at once in this process: more than the
 * cores only adds memory and latency. Waiters are served in arrival order within their lane, requests
 * before background work.
 */
export class Semaphore {
  private active = 0;
  private readonly waiting: Record<SlotLane, (() => void)[]> = { request: [], background: [] };

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error('semaphore capacity must be a positive integer');
  }

  async run<T>(fn: () => Promise<T>, lane: SlotLane = 'request'): Promise<T> {
    if (this.active >= this.capacity) await new Promise<void>((resolve) => this.waiting[lane].push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.request.shift() ?? this.waiting.background.shift();
      if (next) next();
      else this.active--;
    }
  }

  get inUse(): number {
    return this.active;
  }

  /** Requests waiting for a slot (what admission bounds: a request waits behind these only). */
  get queued(): number {
    return this.waiting.request.length;
  }

  /** Background work waiting for a slot. */
  get queuedBackground(): number {
    return this.waiting.background.length;
  }
}
