import {
  accessSync,
  constants as fsConstants,
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { AesKeyring } from './adapters/crypto/aes-keyring.ts';
import { FsBlobStore } from './adapters/blob-fs/fs-blob-store.ts';
import { loadCharset, loadManifest } from './adapters/onnx/load-manifest.ts';
import { ThreadInferenceRunner } from './adapters/onnx/thread-runner.ts';
import { ThreadAnalyser } from './adapters/analysis-thread/thread-analyser.ts';
import { LocalAnalyser } from './app/local-analyser.ts';
import { TesseractLineOcr } from './adapters/tesseract/tesseract-line-ocr.ts';
import { MemoryRateLimiter } from './adapters/rate-limit/memory-rate-limiter.ts';
import { PinnedHttpSender } from './adapters/webhook-http/pinned-http-sender.ts';
import { SqliteStore } from './adapters/sqlite/sqlite-store.ts';
import type { AppDeps } from './app/deps.ts';
import type { Keyring } from './ports/keyring.ts';
import type { Store } from './ports/stores.ts';
import { Semaphore } from './app/semaphore.ts';
import { jobGiveUp, jobHandlers } from './app/job-handlers.ts';
import { Worker } from './worker/worker.ts';
import { parseMasterKey, StartupError, type Config } from './config.ts';
import { buildApp } from './http/app.ts';

export const VERSION = '0.1.0';

/**
 * The master key from HUWIYA_MASTER_KEY, or (embedded quick start) from `${dataDir}/master.key`, created
 * once with mode 0600. Losing that file makes every stored verification unreadable.
 */
export function resolveMasterKey(
  config: Config,
  options: { sealedDataExists?: boolean } = {},
): { key: Buffer; source: 'env' | 'file' | 'created' } {
  if (config.masterKey) return { key: config.masterKey, source: 'env' };
  const file = path.join(config.dataDir, 'master.key');
  if (!existsSync(file) && options.sealedDataExists)
    throw new StartupError(
      `${config.dataDir} holds sealed data but no master.key: restore the key file (or set HUWIYA_MASTER_KEY); a new key would leave every stored verification unreadable`,
    );
  if (existsSync(file)) {
    const key = parseMasterKey(onStartup(() => readFileSync(file, 'utf8'), `cannot read ${file}`).trim());
    if (!key)
      throw new StartupError(
        `${file} does not hold a master key: expected exactly 32 bytes as 64 hex digits or base64, nothing else`,
      );
    return { key, source: 'file' };
  }
  onStartup(
    () => mkdirSync(config.dataDir, { recursive: true, mode: 0o700 }),
    `cannot create the data directory ${config.dataDir} (HUWIYA_DATA_DIR)`,
  );
  const key = randomBytes(32);
  onStartup(() => {
    try {
      writeFileSync(file, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (e) {
      // A key file cut short (a full volume) must not be read as a key at the next start.
      rmSync(file, { force: true });
      throw e;
    }
  }, `cannot write ${file}: the data directory (HUWIYA_DATA_DIR) must be writable`);
  chmodSync(file, 0o600);
  return { key, source: 'created' };
}

/** Like ssh with its keys: a data directory other local users can enter is named at start (once). */
function warnIfShared(dataDir: string): void {
  const mode = statSync(dataDir).mode & 0o777;
  if (mode & 0o077)
    process.stderr.write(
      `huwiya: warning: ${dataDir} is accessible to other users (mode ${mode.toString(8)}); run chmod 700 on it\n`,
    );
}

/** Run a start-up step; a file-system failure becomes one line saying what to fix, with its cause. */
function onStartup<T>(step: () => T, what: string): T {
  try {
    return step();
  } catch (e) {
    throw new StartupError(`${what}: ${startupCause(e)}`);
  }
}

function startupCause(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const known: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on the device',
    ENOTDIR: 'a path component is not a directory',
    SQLITE_READONLY: 'the database is read-only',
    SQLITE_CANTOPEN: 'the database file cannot be opened',
    SQLITE_FULL: 'no space left on the device',
    SQLITE_NOTADB: 'the file is not a Huwiya database',
    SQLITE_CORRUPT: 'the database file is corrupt',
  };
  return (err?.code && known[err.code]) || (err instanceof Error ? err.message : String(e));
}

export async function openStore(config: Config, options: { migrate?: boolean } = {}): Promise<SqliteStore> {
  const file = path.join(config.dataDir, 'huwiya.sqlite');
  try {
    return await SqliteStore.open(file, options);
  } catch (e) {
    throw new StartupError(`cannot open the database ${file}: ${startupCause(e)}`);
  }
}

const nextKeyFile = (config: Config) => path.join(config.dataDir, 'master.key.next');

/**
 * Finish or undo a master-key rotation a crash interrupted: `master.key.next` is written before the
 * rotation's transaction and renamed over `master.key` after it. If the data already names the next
 * key's id, the rename is finished; otherwise the rotation never committed and the next key is dropped.
 */
async function settleRotation(config: Config, store: Store): Promise<void> {
  const next = nextKeyFile(config);
  if (config.masterKey || !existsSync(next)) return;
  const key = parseMasterKey(readFileSync(next, 'utf8').trim());
  const stored = await store.getMeta('master_key_id');
  if (key && stored === new AesKeyring(key).keyId())
    renameSync(next, path.join(config.dataDir, 'master.key'));
  else rmSync(next, { force: true });
}

/**
 * The keyring for this data: the master key resolved and checked against the data, the schema brought up
 * to date, and the root secret (which system keys and blind indexes derive from) opened, or recorded on
 * first use as the master key's own bytes (what those derived from before it existed).
 */
export async function openKeyring(config: Config, store: Store): Promise<AesKeyring> {
  try {
    await settleRotation(config, store);
    const sealedDataExists =
      (await store.getMeta('master_key_id')) !== undefined || (await store.anyDataKeyOwner()) !== undefined;
    const master = resolveMasterKey(config, { sealedDataExists }).key;
    const probe = new AesKeyring(master);
    await checkMasterKey(store, probe, config.dataDir);
    await store.migrate();
    const sealedRoot = await store.getMeta('root_secret');
    const keyring = sealedRoot
      ? new AesKeyring(master, AesKeyring.openRoot(master, Buffer.from(sealedRoot, 'base64')))
      : probe;
    if (!sealedRoot) await store.setMeta('root_secret', keyring.sealedRoot().toString('base64'));
    if ((await store.getMeta('master_key_id')) === undefined)
      await store.setMeta('master_key_id', keyring.keyId());
    return keyring;
  } catch (e) {
    throw e instanceof StartupError
      ? e
      : new StartupError(`cannot prepare the database in ${config.dataDir}: ${startupCause(e)}`);
  }
}

/**
 * `huwiya keys rotate-master`: a new master key re-wraps every data key and the root secret in one
 * transaction (records, events and indexes are untouched: they hang off the data keys and the root
 * secret). Crash-safe: the new key is on disk (fsynced) before the transaction, and a start finishes or
 * undoes an interrupted rotation (settleRotation), so the data opens with the old key or the new one,
 * never neither. With HUWIYA_MASTER_KEY, the new key goes to `newKeyFile` (which must not exist) and the
 * operator puts it in place of the old one.
 */
export async function rotateMasterKey(
  config: Config,
  options: { newKeyFile?: string } = {},
): Promise<{ from: string; to: string; dataKeys: number; keyFile: string }> {
  if (config.masterKey && !options.newKeyFile)
    throw new StartupError(
      'the master key comes from HUWIYA_MASTER_KEY: name a file for the new key with --new-key-file',
    );
  const store = await openStore(config, { migrate: false });
  try {
    const current = await openKeyring(config, store);
    const nextKey = randomBytes(32);
    const next = current.withMasterKey(nextKey);
    const file = options.newKeyFile ?? nextKeyFile(config);
    const fd = openSync(file, 'wx', 0o600);
    try {
      writeSync(fd, nextKey.toString('hex') + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    let count = 0;
    await store.transaction(async (tx) => {
      for (const k of await tx.listDataKeys()) {
        await tx.replaceDataKey(k.ownerId, current.rewrap(k.ownerId, k.wrapped, next));
        count++;
      }
      await tx.setMeta('root_secret', next.sealedRoot().toString('base64'));
      await tx.setMeta('master_key_id', next.keyId());
    });
    if (!config.masterKey) renameSync(file, path.join(config.dataDir, 'master.key'));
    // The old wrappings leave the database file and its log.
    await store.scrubFreedData();
    return {
      from: current.keyId(),
      to: next.keyId(),
      dataKeys: count,
      keyFile: config.masterKey ? file : path.join(config.dataDir, 'master.key'),
    };
  } finally {
    await store.close();
  }
}

/**
 * The master key must be the one the data was sealed with: its id is stored with the data, and data
 * stored before ids were kept is tested by unwrapping one data key. A wrong key stops the start before
 * anything is written (migrations included), naming the key id the data expects.
 */
async function checkMasterKey(store: Store, keyring: Keyring, where: string): Promise<void> {
  const expected = await store.getMeta('master_key_id');
  const actual = keyring.keyId();
  if (expected !== undefined && expected !== actual)
    throw new StartupError(
      `the master key (id ${actual}) is not the key the data in ${where} was sealed with (id ${expected}): set HUWIYA_MASTER_KEY or restore master.key`,
    );
  if (expected === undefined) {
    const owner = await store.anyDataKeyOwner();
    if (
      owner &&
      !(await keyring.get(store, owner).then(
        () => true,
        () => false,
      ))
    )
      throw new StartupError(
        `the master key (id ${actual}) cannot open the data in ${where}: set HUWIYA_MASTER_KEY or restore master.key`,
      );
  }
}

export interface Runtime {
  deps: AppDeps;
  /** The in-process worker, when this process runs jobs. */
  worker: Worker | undefined;
  close(): Promise<void>;
}

/** Composition root: the one place adapters are chosen and wired. */
export async function createRuntime(
  config: Config,
  overrides: { now?: () => Date; worker?: boolean; analysisThreads?: number } = {},
): Promise<Runtime> {
  onStartup(
    () => mkdirSync(config.dataDir, { recursive: true, mode: 0o700 }),
    `cannot create the data directory ${config.dataDir} (HUWIYA_DATA_DIR)`,
  );
  warnIfShared(config.dataDir);
  onStartup(
    () => accessSync(config.dataDir, fsConstants.W_OK),
    `the data directory ${config.dataDir} (HUWIYA_DATA_DIR) is not writable`,
  );
  // A malformed key file stops the start here, before the database is opened.
  if (!config.masterKey && existsSync(path.join(config.dataDir, 'master.key'))) resolveMasterKey(config);
  const store = await openStore(config, { migrate: false });
  let keyring: AesKeyring;
  try {
    keyring = await openKeyring(config, store);
  } catch (e) {
    await store.close();
    throw e;
  }
  const manifest = await loadManifest();
  const inference = await ThreadInferenceRunner.start(manifest, {
    workers: config.inferenceWorkers,
    threads: config.inferenceThreads,
  });
  const charset = await loadCharset(manifest);
  // Tesseract workers start on first use (a server that never reads a visual zone never loads them).
  const lineOcr = new TesseractLineOcr();
  const limits = {
    maxImageBytes: config.maxImageBytes,
    maxImagePixels: config.maxImagePixels,
    syncTimeoutMs: config.syncTimeoutMs,
    maxQueued: config.maxQueued,
  };
  const analysisDeps = { inference, lineOcr, manifest, charset, limits, policy: config.policy };
  const analysisThreads = overrides.analysisThreads ?? config.analysisThreads;
  const analyser =
    analysisThreads > 0
      ? await ThreadAnalyser.start({ threads: analysisThreads, ...analysisDeps })
      : new LocalAnalyser(analysisDeps);
  const deps: AppDeps = {
    store,
    blobs: new FsBlobStore(path.join(config.dataDir, 'blobs')),
    keyring,
    inference,
    manifest,
    charset,
    lineOcr,
    analyser,
    now: overrides.now ?? (() => new Date()),
    policy: config.policy,
    limits,
    pipelineSlots: new Semaphore(config.pipelineConcurrency),
    decodeSlots: new Semaphore(config.pipelineConcurrency),
    webhooks: {
      scheduleMs: config.webhookScheduleMs,
      timeoutMs: config.webhookTimeoutMs,
      allowedTargets: config.webhookAllowedTargets,
    },
    webhookSender: new PinnedHttpSender(config.webhookAllowedTargets),
    notifyJobs: () => worker?.notify(),
  };
  let worker: Worker | undefined;
  if (overrides.worker ?? config.worker === 'in-process') {
    worker = new Worker(store, jobHandlers(deps), {
      concurrency: config.pipelineConcurrency,
      // Inference jobs: as many as pipeline slots; webhooks and expiries: their own loops (I/O-bound).
      lanes: [
        { names: ['verification.process'], concurrency: config.pipelineConcurrency },
        { names: ['webhook.deliver', 'session.expire', 'upload.expire'], concurrency: 4 },
      ],
      leaseMs: config.jobLeaseMs,
      onGiveUp: jobGiveUp(deps),
      log: (level, msg, fields) => {
        if (config.logLevel !== 'silent')
          process.stderr.write(JSON.stringify({ level, msg, ...fields }) + '\n');
      },
    });
    worker.start();
  }
  return {
    deps,
    worker,
    async close() {
      await worker?.stop();
      // Analyses in flight finish before the models and the line reader they call back to are closed.
      await analyser.close();
      await inference.close();
      await lineOcr.close();
      await store.close();
    },
  };
}

export async function createHttpServer(
  config: Config,
  runtime: Runtime,
  logger: boolean | { level: string; stream?: NodeJS.WritableStream } = { level: config.logLevel },
): Promise<FastifyInstance> {
  return buildApp(runtime.deps, {
    rateLimiter: new MemoryRateLimiter(),
    rateLimitPerMinute: config.rateLimitPerMinute,
    logger,
    version: VERSION,
    publicUrl: config.publicUrl,
    requestTimeoutMs: config.requestTimeoutMs,
    dataDir: config.dataDir,
  });
}

/** `huwiya serve`: the only listen() (STYLE.md §3). */
export async function serve(config: Config): Promise<void> {
  const runtime = await createRuntime(config);
  const app = await createHttpServer(config, runtime);
  const shutdown = async (signal: string) => {
    app.log.info({ signal }, 'shutting down');
    await app.close();
    await runtime.close();
    process.exit(0);
  };
  // A bug in one request must not take the service down: log it (no request data) and keep serving.
  process.on('unhandledRejection', (reason) => {
    app.log.error({ err: reason instanceof Error ? reason.message : String(reason) }, 'unhandled rejection');
  });
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (e) {
    await runtime.close();
    const code = (e as NodeJS.ErrnoException).code;
    throw new StartupError(
      code === 'EADDRINUSE'
        ? `port ${config.port} on ${config.host} is already in use (HUWIYA_PORT, HUWIYA_HOST)`
        : `cannot listen on ${config.host}:${config.port}: ${startupCause(e)}`,
    );
  }
}
