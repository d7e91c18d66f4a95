import type { RateDecision, RateLimiter } from '../../ports/rate-limiter.ts';

const WINDOW_MS = 60_000;

/** Fixed one-minute windows per key, in this process's memory. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  async hit(key: string, limit: number, nowMs: number): Promise<RateDecision> {
    const start = Math.floor(nowMs / WINDOW_MS) * WINDOW_MS;
    let w = this.windows.get(key);
    if (!w || w.start !== start) {
      w = { start, count: 0 };
      this.windows.set(key, w);
      if (this.windows.size > 100_000) this.prune(start);
    }
    const allowed = w.count < limit;
    if (allowed) w.count++;
    const resetMs = start + WINDOW_MS;
    return {
      allowed,
      limit,
      remaining: Math.max(0, limit - w.count),
      resetAt: Math.ceil(resetMs / 1000),
      retryAfterSeconds: Math.max(1, Math.ceil((resetMs - nowMs) / 1000)),
    };
  }

  private prune(currentStart: number): void {
    for (const [k, v] of this.windows) if (v.start !== currentStart) this.windows.delete(k);
  }
}
