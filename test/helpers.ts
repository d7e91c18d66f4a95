import { mkdtempSync, rmSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createApiKey } from '../src/app/api-keys.ts';
import { parseConfig, type Config } from '../src/config.ts';
import { createHttpServer, createRuntime, type Runtime } from '../src/main.ts';
import type { Scope } from '../src/ports/stores.ts';
import { verifyBody, type LabelledCase } from './synth/cases.ts';

/** ../shared/data beside the repository, or undefined (tests that need it skip with a message). */
export const SHARED_DATA = (() => {
  const p = path.resolve(fileURLToPath(new URL('../../shared/data', import.meta.url)));
  return existsSync(p) ? p : undefined;
})();

export const NO_SHARED_DATA = SHARED_DATA ? false : 'skipped: ../shared/data is absent';

/** Debian's Chromium for the browser tests (shared/TESTING.md), and why a browser test skips without it. */
export const CHROMIUM = '/usr/bin/chromium';
export const NO_CHROMIUM = !existsSync(CHROMIUM)
  ? 'skipped: /usr/bin/chromium is absent (apt-get install chromium; .ci/run installs it)'
  : NO_SHARED_DATA;
/** Where the browser tests save their phone-size screenshots. */
export const SHOTS = fileURLToPath(new URL('../test-results/capture/', import.meta.url));

export interface TestServer {
  app: FastifyInstance;
  runtime: Runtime;
  config: Config;
  dataDir: string;
  key(scopes?: Scope[], tenant?: string, mode?: 'live' | 'test'): Promise<string>;
  close(): Promise<void>;
}

/** A real app on a fresh temporary data dir (SQLite file, encrypted blobs, real models). */
export async function startTestServer(
  env: Record<string, string> = {},
  logger: boolean | { level: string; stream?: NodeJS.WritableStream } = false,
): Promise<TestServer> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'huwiya-test-'));
  // The tests' webhook receivers listen on this machine: allowed here, refused by default in the product.
  const config = parseConfig({
    HUWIYA_DATA_DIR: dataDir,
    HUWIYA_INFERENCE_THREADS: '1',
    HUWIYA_WEBHOOK_ALLOWED_TARGETS: '127.0.0.1',
    ...env,
  });
  const runtime = await createRuntime(config);
  const app = await createHttpServer(config, runtime, logger);
  await app.ready();
  return {
    app,
    runtime,
    config,
    dataDir,
    async key(
      scopes: Scope[] = ['identity:read', 'identity:write'],
      tenant = 'tenant_a',
      mode: 'live' | 'test' = 'live',
    ) {
      const { secret } = await createApiKey(runtime.deps.store, {
        tenantId: tenant,
        name: 'test',
        scopes,
        mode,
      });
      return secret;
    },
    async close() {
      await app.close();
      await runtime.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A labelled case posted to `POST /v1/identity/verify` as a client sends it (with `extra` body fields). */
export async function postCase(
  s: Pick<TestServer, 'app'>,
  key: string,
  c: LabelledCase,
  extra: Record<string, unknown> = {},
): Promise<LightMyRequestResponse> {
  return await s.app.inject({
    method: 'POST',
    url: '/v1/identity/verify',
    headers: { authorization: `Bearer ${key}` },
    payload: { ...verifyBody(c), ...extra },
  });
}

/**
 * Send a request's head only (its body announced, never sent) and read the status line the server
 * answers before the body: a request refused on its headers is answered at once; otherwise this times out.
 */
export function statusBeforeBody(port: number | string, head: string, timeoutMs = 10_000): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer before the body: ${got}`));
    }, timeoutMs);
    socket.on('data', (d) => {
      got += d.toString('latin1');
      if (!got.includes('\r\n\r\n')) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(got.split('\r\n')[0]!);
    });
    socket.on('error', reject);
    socket.write(head);
  });
}
