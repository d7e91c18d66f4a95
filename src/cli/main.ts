import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createApiKey } from '../app/api-keys.ts';
import { faceModelVersions } from '../app/face-checks.ts';
import { decideOutcome, decodeAll, runChecks } from '../app/verify.ts';
import { ConfigError, parseConfig, StartupError, type Config } from '../config.ts';
import { HuwiyaError } from '../domain/errors.ts';
import { CHECK_NAMES, DEFAULT_CHECKS, type CheckName } from '../domain/verification.ts';
import { createRuntime, openStore, rotateMasterKey, serve } from '../main.ts';
import { SCOPES, type Scope } from '../ports/stores.ts';

const USAGE = `huwiya <command>

  serve                       start the HTTP server (HUWIYA_PORT, HUWIYA_HOST, HUWIYA_DATA_DIR, ...);
                              it also runs the job worker unless HUWIYA_WORKER=off
  worker                      run only the job worker (async verifications) against the same data dir
  migrate                     create or upgrade the database schema
  keys create [--tenant T] [--name N] [--scopes s1,s2] [--test]
                              create an API key; the secret is printed once
  keys list [--tenant T]      list keys (never their secrets)
  keys revoke <key_id>        revoke a key
  keys rotate-master [--new-key-file F]
                              a new master key re-wraps every data key (crash-safe; docs/operations.md);
                              with HUWIYA_MASTER_KEY the new key is written to F
  verify --document-front F [--document-back F] [--selfie F] [--document-type cin] [--country MA] [--checks a,b]
                              run the pipeline locally, print the verification JSON (stores nothing)
`;

function fail(message: string): never {
  process.stderr.write(`huwiya: ${message}\n`);
  process.exit(2);
}

async function keys(config: Config, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      tenant: { type: 'string', default: 'default' },
      name: { type: 'string', default: 'default' },
      scopes: { type: 'string', default: 'identity:read,identity:write' },
      test: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'new-key-file': { type: 'string' },
    },
  });
  if (sub === 'rotate-master') {
    const r = await rotateMasterKey(config, { newKeyFile: values['new-key-file'] });
    process.stderr.write(
      `master key rotated: id ${r.from} -> ${r.to}; ${r.dataKeys} data keys re-wrapped; the new key is in ${r.keyFile}` +
        (config.masterKey ? ' (set HUWIYA_MASTER_KEY to it before the next start)' : '') +
        '; back it up now\n',
    );
    return;
  }
  const store = await openStore(config);
  try {
    if (sub === 'create') {
      const scopes = values.scopes!.split(',').map((s) => s.trim()) as Scope[];
      for (const s of scopes)
        if (!(SCOPES as readonly string[]).includes(s))
          fail(`unknown scope ${s} (known: ${SCOPES.join(', ')})`);
      const { record, secret } = await createApiKey(store, {
        tenantId: values.tenant!,
        name: values.name!,
        scopes,
        mode: values.test ? 'test' : 'live',
      });
      if (values.json) process.stdout.write(JSON.stringify({ ...record, secret }) + '\n');
      else {
        process.stdout.write(`${secret}\n`);
        process.stderr.write(
          `created ${record.id} for tenant ${record.tenantId} with scopes ${record.scopes.join(',')}; the secret above is shown only once\n`,
        );
      }
    } else if (sub === 'list') {
      const list = await store.listApiKeys(
        values.tenant === 'default' && !rest.includes('--tenant') ? undefined : values.tenant,
      );
      process.stdout.write(JSON.stringify(list, null, 2) + '\n');
    } else if (sub === 'revoke') {
      const id = positionals[0] ?? fail('keys revoke needs a key id');
      if (!(await store.revokeApiKey(id, new Date().toISOString()))) fail(`no active key ${id}`);
      process.stderr.write(`revoked ${id}\n`);
    } else fail(`unknown keys subcommand ${sub ?? ''}\n${USAGE}`);
  } finally {
    await store.close();
  }
}

async function verify(config: Config, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      'document-front': { type: 'string' },
      'document-back': { type: 'string' },
      selfie: { type: 'string' },
      'document-type': { type: 'string', default: 'national_id' },
      country: { type: 'string', default: 'MA' },
      checks: { type: 'string' },
    },
  });
  if (!values['document-front']) fail('verify needs --document-front');
  const checks = (
    values.checks ? values.checks.split(',').map((c) => c.trim()) : DEFAULT_CHECKS
  ) as CheckName[];
  for (const c of checks) if (!(CHECK_NAMES as readonly string[]).includes(c)) fail(`unknown check ${c}`);
  const read = async (f: string | undefined) => (f ? new Uint8Array(await readFile(f)) : undefined);
  const t0 = performance.now();
  process.stderr.write('loading models…\n');
  // One verification: its checks run on this thread, which has nothing else to do.
  const runtime = await createRuntime(config, { worker: false, analysisThreads: 0 });
  try {
    const images = {
      document_front: await read(values['document-front']),
      document_back: await read(values['document-back']),
      selfie: await read(values.selfie),
    };
    process.stderr.write('decoding images…\n');
    const decoded = await decodeAll(runtime.deps, images);
    process.stderr.write(`running checks ${checks.join(', ')}…\n`);
    const times = {};
    const { checks: results, extracted } = await runChecks(
      runtime.deps,
      { checks, documentType: values['document-type']!, country: values.country! },
      decoded,
      times,
    );
    const risk = decideOutcome(runtime.deps, checks, { checks: results, extracted });
    const now = new Date().toISOString();
    const out = {
      id: null,
      object: 'identity.verification',
      created_at: now,
      updated_at: now,
      status: risk.decision,
      document_type: values['document-type'],
      country: values.country!.toUpperCase(),
      ...(extracted ? { extracted_data: extracted } : {}),
      checks: results,
      risk_score: risk.risk_score,
      risk_level: risk.risk_level,
      fraud_signals: risk.fraud_signals,
      risk_factors: risk.risk_factors,
      metadata: { source: 'cli' },
      model_versions: faceModelVersions(runtime.deps),
      policy_version: risk.policy_version,
    };
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    process.stderr.write(
      `done in ${Math.round(performance.now() - t0)} ms (stages: ${JSON.stringify(Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Math.round(v as number)])))})\n`,
    );
  } finally {
    await runtime.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  let config: Config;
  try {
    config = parseConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message);
    throw e;
  }
  switch (command) {
    case 'serve':
      await serve(config);
      return;
    case 'worker': {
      const runtime = await createRuntime(config, { worker: true });
      process.stderr.write(`worker ${runtime.worker!.id} running; Ctrl-C to stop\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await runtime.close();
      return;
    }
    case 'migrate': {
      const store = await openStore(config);
      const applied = await store.migrate();
      process.stderr.write(applied.length ? `applied ${applied.join(', ')}\n` : 'schema is up to date\n');
      await store.close();
      return;
    }
    case 'keys':
      await keys(config, rest);
      return;
    case 'verify':
      await verify(config, rest);
      return;
    default:
      fail(`unknown command ${command}\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof HuwiyaError) fail(`${e.code}: ${e.message}`);
  if (e instanceof StartupError) fail(e.message);
  process.stderr.write(`huwiya: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
