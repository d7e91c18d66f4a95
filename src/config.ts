import { parseAllowedTargets, type AllowedTarget } from './domain/network-targets.ts';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HuwiyaError } from './domain/errors.ts';
import {
  DEFAULT_POLICY_SETTINGS,
  parsePolicyOverrides,
  withOverrides,
  type PolicySettings,
} from './domain/risk-policy.ts';

/**
 * Typed configuration, parsed once at boot from the environment. Every bad key is reported at
 * once (STYLE.md habit 9); nothing here runs at import time.
 */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** 32-byte key encryption key; when absent the CLI creates one in `${dataDir}/master.key`. */
  masterKey: Buffer | undefined;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  rateLimitPerMinute: number;
  maxImageBytes: number;
  maxImagePixels: number;
  syncTimeoutMs: number;
  /** How long a client may take to send a whole request, headers and body (slow or stalled bodies). */
  requestTimeoutMs: number;
  /** Threads running onnxruntime sessions; default: the number of cores. */
  inferenceWorkers: number;
  /** onnxruntime intra-op threads per inference worker. */
  inferenceThreads: number;
  /** Threads running verifications' image checks; 0 runs them on the main thread. Default: the number of cores. */
  analysisThreads: number;
  /** Pipeline runs (decode + inference) at once in this process; default: the number of cores. */
  pipelineConcurrency: number;
  /** Request-path pipeline runs that may wait for a slot; beyond, 503 server_busy with Retry-After. */
  maxQueued: number;
  /** `in-process`: `serve` also runs the job worker; `off`: run `huwiya worker` separately. */
  worker: 'in-process' | 'off';
  /** How long a claimed job stays a worker's without a heartbeat (crash recovery time). */
  jobLeaseMs: number;
  /** Delay before each webhook attempt (API.md schedule by default). */
  webhookScheduleMs: number[];
  webhookTimeoutMs: number;
  /** The origin of every URL handed out (HUWIYA_PUBLIC_URL; default: the listen address). */
  publicUrl: string;
  /** Internal webhook receivers allowed despite a private address (HUWIYA_WEBHOOK_ALLOWED_TARGETS). */
  webhookAllowedTargets: AllowedTarget[];
  /** The deployment's risk policy: the catalogue's, with HUWIYA_MIN_AGE and HUWIYA_POLICY_FILE applied. */
  policy: PolicySettings;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/**
 * A master key written as exactly 32 bytes: 64 hex digits, or base64 (44 characters with its padding,
 * or 43 without). Anything before or after, or one digit more or less, is refused rather than truncated.
 */
export function parseMasterKey(text: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/]{43}=?$/.test(text) || /^[A-Za-z0-9_-]{43}=?$/.test(text)) {
    const buf = Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
    return buf.length === 32 ? buf : undefined;
  }
  return undefined;
}

/** A start-up failure the operator fixes: one line naming it, no stack trace. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

function intKey(env: Env, key: string, def: number, min: number, max: number, problems: string[]): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${key}: expected an integer in [${min}, ${max}], got "${raw}"`);
    return def;
  }
  return n;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function parseConfig(env: Env, cwd: string = process.cwd()): Config {
  const problems: string[] = [];
  const port = intKey(env, 'HUWIYA_PORT', 8080, 0, 65535, problems);
  const host = env.HUWIYA_HOST?.trim() || '127.0.0.1';
  const dataDir = path.resolve(cwd, env.HUWIYA_DATA_DIR?.trim() || './data');

  let masterKey: Buffer | undefined;
  const rawKey = env.HUWIYA_MASTER_KEY?.trim();
  if (rawKey) {
    masterKey = parseMasterKey(rawKey);
    if (!masterKey) problems.push('HUWIYA_MASTER_KEY: expected 32 bytes as 64 hex characters or base64');
  }

  const rawLevel = env.HUWIYA_LOG_LEVEL?.trim() || 'info';
  let logLevel: Config['logLevel'] = 'info';
  if ((LOG_LEVELS as readonly string[]).includes(rawLevel)) logLevel = rawLevel as Config['logLevel'];
  else problems.push(`HUWIYA_LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')}, got "${rawLevel}"`);

  const rateLimitPerMinute = intKey(env, 'HUWIYA_RATE_LIMIT_PER_MINUTE', 300, 1, 1_000_000, problems);
  // API.md "Inputs": at most 15 MB per image.
  const maxImageBytes = intKey(
    env,
    'HUWIYA_MAX_IMAGE_BYTES',
    15 * 1024 * 1024,
    1024,
    100 * 1024 * 1024,
    problems,
  );
  // 50 MP covers every phone camera in use; larger images are decompression bombs or scans we downscale anyway.
  const maxImagePixels = intKey(env, 'HUWIYA_MAX_IMAGE_PIXELS', 50_000_000, 10_000, 400_000_000, problems);
  const syncTimeoutMs = intKey(env, 'HUWIYA_SYNC_TIMEOUT_MS', 30_000, 1000, 600_000, problems);
  const requestTimeoutMs = intKey(env, 'HUWIYA_REQUEST_TIMEOUT_MS', 60_000, 1000, 600_000, problems);
  const minAgeYears = intKey(env, 'HUWIYA_MIN_AGE', 18, 0, 99, problems);
  let policy: PolicySettings = { ...DEFAULT_POLICY_SETTINGS, minAgeYears };
  const policyFile = env.HUWIYA_POLICY_FILE;
  if (policyFile) {
    try {
      const text = readFileSync(path.resolve(cwd, policyFile), 'utf8');
      const overrides = parsePolicyOverrides(JSON.parse(text) as unknown, 'HUWIYA_POLICY_FILE');
      // Named in every decision's policy_version by the file's hash: a stored score names the rules it met.
      const tag = `d${createHash('sha256').update(text).digest('hex').slice(0, 8)}`;
      policy = withOverrides(policy, overrides, tag);
    } catch (e) {
      const why = e instanceof HuwiyaError ? `${e.message}` : e instanceof Error ? e.message : String(e);
      problems.push(`HUWIYA_POLICY_FILE: ${why}`);
    }
  }
  // Threads running onnxruntime sessions, each with its intra-op threads (see adapters/onnx/thread-runner).
  const inferenceWorkers = intKey(
    env,
    'HUWIYA_INFERENCE_WORKERS',
    Math.max(1, os.availableParallelism()),
    1,
    64,
    problems,
  );
  const inferenceThreads = intKey(env, 'HUWIYA_INFERENCE_THREADS', 1, 1, 64, problems);
  // Threads running the image checks, so the main thread only answers HTTP (adapters/analysis-thread).
  const analysisThreads = intKey(
    env,
    'HUWIYA_ANALYSIS_THREADS',
    Math.max(1, os.availableParallelism()),
    0,
    64,
    problems,
  );
  const pipelineConcurrency = intKey(
    env,
    'HUWIYA_PIPELINE_CONCURRENCY',
    Math.max(1, os.availableParallelism()),
    1,
    256,
    problems,
  );
  const maxQueued = intKey(env, 'HUWIYA_MAX_QUEUED', 4 * pipelineConcurrency, 0, 100_000, problems);

  const webhookTimeoutMs = intKey(env, 'HUWIYA_WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000, problems);
  // API.md: immediately, +1 min, +5 min, +30 min, +2 h, +12 h, +24 h.
  let webhookScheduleMs = [0, 60_000, 300_000, 1_800_000, 7_200_000, 43_200_000, 86_400_000];
  const rawSchedule = env.HUWIYA_WEBHOOK_RETRY_SCHEDULE_MS?.trim();
  if (rawSchedule) {
    const parts = rawSchedule.split(',').map((x) => Number(x.trim()));
    if (parts.length === 0 || parts.some((x) => !Number.isInteger(x) || x < 0)) {
      problems.push(
        `HUWIYA_WEBHOOK_RETRY_SCHEDULE_MS: expected comma-separated non-negative integers, got "${rawSchedule}"`,
      );
    } else webhookScheduleMs = parts;
  }
  let webhookAllowedTargets: AllowedTarget[] = [];
  try {
    webhookAllowedTargets = parseAllowedTargets(env.HUWIYA_WEBHOOK_ALLOWED_TARGETS ?? '');
  } catch (e) {
    problems.push(`HUWIYA_WEBHOOK_ALLOWED_TARGETS: ${(e as Error).message}`);
  }
  const jobLeaseMs = intKey(env, 'HUWIYA_JOB_LEASE_MS', 30_000, 1000, 3_600_000, problems);
  const rawWorker = env.HUWIYA_WORKER?.trim() || 'in-process';
  let worker: Config['worker'] = 'in-process';
  if (rawWorker === 'in-process' || rawWorker === 'off') worker = rawWorker;
  else problems.push(`HUWIYA_WORKER: expected in-process or off, got "${rawWorker}"`);

  // Every URL the service hands out (session links, upload and file URLs) starts here, never with the
  // request's Host header. Unset: the address the server listens on, right for a quick start on one machine.
  const listenHost =
    host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  let publicUrl = `http://${listenHost}:${port}`;
  if (env.HUWIYA_PUBLIC_URL) {
    try {
      const u = new URL(env.HUWIYA_PUBLIC_URL);
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('scheme');
      publicUrl = u.toString().replace(/\/$/, '');
    } catch {
      problems.push(`HUWIYA_PUBLIC_URL: not an http(s) URL: "${env.HUWIYA_PUBLIC_URL}"`);
    }
  }

  const known = new Set([
    'HUWIYA_PORT',
    'HUWIYA_HOST',
    'HUWIYA_DATA_DIR',
    'HUWIYA_MASTER_KEY',
    'HUWIYA_LOG_LEVEL',
    'HUWIYA_RATE_LIMIT_PER_MINUTE',
    'HUWIYA_MAX_IMAGE_BYTES',
    'HUWIYA_MAX_IMAGE_PIXELS',
    'HUWIYA_SYNC_TIMEOUT_MS',
    'HUWIYA_REQUEST_TIMEOUT_MS',
    'HUWIYA_INFERENCE_THREADS',
    'HUWIYA_INFERENCE_WORKERS',
    'HUWIYA_ANALYSIS_THREADS',
    'HUWIYA_PIPELINE_CONCURRENCY',
    'HUWIYA_MAX_QUEUED',
    'HUWIYA_WORKER',
    'HUWIYA_JOB_LEASE_MS',
    'HUWIYA_WEBHOOK_TIMEOUT_MS',
    'HUWIYA_WEBHOOK_RETRY_SCHEDULE_MS',
    'HUWIYA_PUBLIC_URL',
    'HUWIYA_WEBHOOK_ALLOWED_TARGETS',
    'HUWIYA_MIN_AGE',
    'HUWIYA_POLICY_FILE',
  ]);
  for (const key of Object.keys(env)) {
    if (key.startsWith('HUWIYA_') && !known.has(key)) problems.push(`${key}: unknown setting (typo?)`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port,
    host,
    dataDir,
    masterKey,
    logLevel,
    rateLimitPerMinute,
    maxImageBytes,
    maxImagePixels,
    syncTimeoutMs,
    requestTimeoutMs,
    policy,
    inferenceThreads,
    inferenceWorkers,
    analysisThreads,
    pipelineConcurrency,
    maxQueued,
    worker,
    jobLeaseMs,
    webhookScheduleMs,
    webhookTimeoutMs,
    publicUrl,
    webhookAllowedTargets,
  };
}
