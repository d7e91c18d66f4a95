export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Unix seconds when the window resets. */
  resetAt: number;
  retryAfterSeconds: number;
}

/** Per-key request budget (in-process for the embedded mode; Redis when scaled out). */
export interface RateLimiter {
  hit(key: string, limitPerMinute: number, nowMs: number): Promise<RateDecision>;
}
