import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NO_SHARED_DATA, SHARED_DATA } from '../../test/helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/huwiya.js', import.meta.url));
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'huwiya-cli-'));
const env = { ...process.env, HUWIYA_DATA_DIR: dataDir, HUWIYA_INFERENCE_THREADS: '1' };
after(() => rmSync(dataDir, { recursive: true, force: true }));

function huwiya(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 60_000 });
}

test('migrate, then keys create prints a secret once and list never shows it', () => {
  assert.equal(huwiya('migrate').status, 0);
  const created = huwiya('keys', 'create', '--tenant', 'acme', '--scopes', 'identity:read');
  assert.equal(created.status, 0, created.stderr);
  const secret = created.stdout.trim();
  assert.match(secret, /^hw_live_[A-Za-z0-9]{32}$/);
  const list = huwiya('keys', 'list');
  assert.equal(list.status, 0);
  assert.ok(!list.stdout.includes(secret), 'the secret must never be listed');
  const keys = JSON.parse(list.stdout) as { id: string; tenantId: string; scopes: string[] }[];
  const key = keys.find((k) => k.tenantId === 'acme')!;
  assert.deepEqual(key.scopes, ['identity:read']);
  assert.equal(huwiya('keys', 'revoke', key.id).status, 0);
  assert.notEqual(huwiya('keys', 'revoke', key.id).status, 0, 'a revoked key cannot be revoked again');
});

test('bad configuration stops with every bad key listed', () => {
  const r = spawnSync(process.execPath, [BIN, 'migrate'], {
    env: { ...env, HUWIYA_PORT: 'x', HUWIYA_LOG_LEVEL: 'loud' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /HUWIYA_PORT/);
  assert.match(r.stderr, /HUWIYA_LOG_LEVEL/);
});

test('verify runs the pipeline locally and prints the verification', { skip: NO_SHARED_DATA }, () => {
  const faces = path.join(SHARED_DATA!, 'faces/deepface');
  const r = huwiya(
    'verify',
    '--document-front',
    path.join(faces, 'img1.jpg'),
    '--selfie',
    path.join(faces, 'img2.jpg'),
  );
  assert.equal(r.status, 0, r.stderr);
  const v = JSON.parse(r.stdout) as { checks: Record<string, { status: string }>; status: string };
  assert.equal(v.checks.face_match!.status, 'passed');
  assert.match(r.stderr, /running checks/);
});

test('serve listens and answers /readyz', async () => {
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: { ...env, HUWIYA_PORT: '0', HUWIYA_LOG_LEVEL: 'info' },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) {
          clearTimeout(t);
          resolve(m[1]!);
        }
      });
      child.on('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
    });
    const res = await fetch(`${url}/readyz`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { status: string }).status, 'ready');
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
  }
});

test('start-up failures are one line naming what to fix, never a stack trace, and change nothing', async () => {
  const { writeFileSync, readdirSync, readFileSync } = await import('node:fs');
  const serve = (extra: Record<string, string>) =>
    spawnSync(process.execPath, [BIN, 'serve'], {
      env: { ...env, HUWIYA_PORT: '0', ...extra },
      encoding: 'utf8',
      timeout: 60_000,
    });
  // A master.key with something after its 64 hex digits (once silently truncated).
  const badKeyDir = mkdtempSync(path.join(os.tmpdir(), 'huwiya-badkey-'));
  const keyText = `${'ab'.repeat(32)}zz\n`;
  writeFileSync(path.join(badKeyDir, 'master.key'), keyText);
  // A data directory below a file.
  const file = path.join(badKeyDir, 'master.key');
  const cases: [Record<string, string>, RegExp][] = [
    [{ HUWIYA_DATA_DIR: badKeyDir }, /master\.key does not hold a master key/],
    [{ HUWIYA_DATA_DIR: path.join(file, 'data') }, /cannot create the data directory .* not a directory/],
  ];
  try {
    for (const [extra, message] of cases) {
      const r = serve(extra);
      assert.equal(r.status, 2, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
    assert.deepEqual(readdirSync(badKeyDir), ['master.key'], 'nothing created beside the bad key');
    assert.equal(readFileSync(file, 'utf8'), keyText, 'the key file is untouched');
  } finally {
    rmSync(badKeyDir, { recursive: true, force: true });
  }
});

test('a wrong or missing master key stops the start with one line naming the key the data expects', async () => {
  const { createHash } = await import('node:crypto');
  const { readdirSync, readFileSync, writeFileSync } = await import('node:fs');
  const { SqliteStore } = await import('../adapters/sqlite/sqlite-store.ts');
  const { AesKeyring } = await import('../adapters/crypto/aes-keyring.ts');
  const k1 = 'a1'.repeat(32);
  const k2 = 'b2'.repeat(32);
  /** A data directory as a run under `k1` leaves it: sealed data, with or without the key id stored. */
  async function previousRun(withId: boolean): Promise<string> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'huwiya-keycheck-'));
    writeFileSync(path.join(dir, 'master.key'), `${k1}\n`, { mode: 0o600 });
    const store = await SqliteStore.open(path.join(dir, 'huwiya.sqlite'));
    const keyring = new AesKeyring(Buffer.from(k1, 'hex'));
    await keyring.create(store, 'ver_before', 'tenant');
    if (withId) await store.setMeta('master_key_id', keyring.keyId());
    await store.close();
    return dir;
  }
  const snapshot = (dir: string) =>
    readdirSync(dir)
      .sort()
      .map(
        (f) =>
          `${f}:${createHash('sha256')
            .update(readFileSync(path.join(dir, f)))
            .digest('hex')}`,
      );
  const serve = (dir: string, extra: Record<string, string> = {}) =>
    spawnSync(process.execPath, [BIN, 'serve'], {
      env: { ...env, HUWIYA_DATA_DIR: dir, HUWIYA_PORT: '0', ...extra },
      encoding: 'utf8',
      timeout: 60_000,
    });
  const id1 = new AesKeyring(Buffer.from(k1, 'hex')).keyId();
  const dirs: string[] = [];
  try {
    const cases: [string, Record<string, string>, RegExp, (dir: string) => void][] = [
      [
        'wrong key in the environment',
        { HUWIYA_MASTER_KEY: k2 },
        new RegExp(`sealed with \\(id ${id1}\\)`),
        () => {},
      ],
      [
        'wrong key file',
        {},
        new RegExp(`sealed with \\(id ${id1}\\)`),
        (dir) => writeFileSync(path.join(dir, 'master.key'), `${k2}\n`),
      ],
      [
        'key file missing',
        {},
        /holds sealed data but no master\.key/,
        (dir) => rmSync(path.join(dir, 'master.key')),
      ],
    ];
    for (const [name, extra, message, prepare] of cases) {
      const dir = await previousRun(true);
      dirs.push(dir);
      prepare(dir);
      const before = snapshot(dir);
      const r = serve(dir, extra);
      assert.equal(r.status, 2, `${name}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `${name}: ${r.stderr}`);
      assert.match(r.stderr, message, name);
      assert.deepEqual(snapshot(dir), before, `${name}: nothing created or changed on disk`);
    }
    // Data sealed before key ids were stored: the key is tried on a stored data key.
    const legacy = await previousRun(false);
    dirs.push(legacy);
    const r = serve(legacy, { HUWIYA_MASTER_KEY: k2 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /cannot open the data/);
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
});

test('a full data volume at start-up is one line, and nothing is left half-written', async (t) => {
  const { appendFileSync, readdirSync } = await import('node:fs');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'huwiya-fullvol-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', dir], {
    encoding: 'utf8',
  });
  if (mounted.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    t.skip(`cannot mount a tmpfs here (${mounted.stderr.trim()}); the full-volume start needs one`);
    return;
  }
  try {
    try {
      for (;;) appendFileSync(path.join(dir, 'filler'), Buffer.alloc(64 * 1024, 1));
    } catch {
      // full
    }
    for (let i = 0; i < 128; i++) {
      try {
        appendFileSync(path.join(dir, 'filler'), Buffer.alloc(256));
      } catch {
        break;
      }
    }
    const r = spawnSync(process.execPath, [BIN, 'serve'], {
      env: { ...env, HUWIYA_DATA_DIR: path.join(dir, 'data'), HUWIYA_PORT: '0' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /no space left/);
    const left = readdirSync(path.join(dir, 'data')).filter((f) => f !== 'huwiya.sqlite');
    assert.ok(!left.includes('master.key'), `a half-written key was left: ${left}`);
  } finally {
    spawnSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('keys rotate-master re-wraps the data under a new key; a rotation cut by a crash is finished or undone at start', async () => {
  const { existsSync, readFileSync, writeFileSync } = await import('node:fs');
  const { parseConfig } = await import('../config.ts');
  const { openKeyring, openStore } = await import('../main.ts');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'huwiya-rotate-'));
  const config = parseConfig({ HUWIYA_DATA_DIR: dir });
  const keyFile = path.join(dir, 'master.key');
  /** Open the data as a start does, and read back what was sealed before. */
  const readBack = async () => {
    const store = await openStore(config, { migrate: false });
    try {
      const keyring = await openKeyring(config, store);
      const dataKey = await keyring.get(store, 'ver_a');
      return {
        record: dataKey!.open(sealedRecord, 'rec').toString(),
        event: keyring.systemKey('webhook-events').open(sealedEvent, 'evt').toString(),
        index: keyring.blindIndex('document-number', 'AB123456'),
        id: keyring.keyId(),
      };
    } finally {
      await store.close();
    }
  };
  let sealedRecord: Buffer;
  let sealedEvent: Buffer;
  let index: string;
  try {
    {
      const store = await openStore(config, { migrate: false });
      const keyring = await openKeyring(config, store);
      const dataKey = await store.transaction((tx) => keyring.create(tx, 'ver_a', 'tenant'));
      sealedRecord = dataKey.seal(Buffer.from('Amina Benali'), 'rec');
      sealedEvent = keyring.systemKey('webhook-events').seal(Buffer.from('event body'), 'evt');
      index = keyring.blindIndex('document-number', 'AB123456');
      await store.close();
    }
    const oldKey = readFileSync(keyFile, 'utf8');
    // A crash before the rotation's transaction: the next key was written, the data never moved.
    writeFileSync(path.join(dir, 'master.key.next'), `${'cd'.repeat(32)}\n`);
    const before = await readBack();
    assert.equal(existsSync(path.join(dir, 'master.key.next')), false);
    assert.equal(readFileSync(keyFile, 'utf8'), oldKey);
    assert.deepEqual([before.record, before.event, before.index], ['Amina Benali', 'event body', index]);

    const r = spawnSync(process.execPath, [BIN, 'keys', 'rotate-master'], {
      env: { ...env, HUWIYA_DATA_DIR: dir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /1 data keys re-wrapped/);
    const newKey = readFileSync(keyFile, 'utf8');
    assert.notEqual(newKey, oldKey);
    const after = await readBack();
    assert.notEqual(after.id, before.id);
    assert.deepEqual([after.record, after.event, after.index], ['Amina Benali', 'event body', index]);

    // The old key no longer opens the data: one line naming the key the data expects.
    writeFileSync(keyFile, oldKey);
    await assert.rejects(readBack(), new RegExp(`sealed with \\(id ${after.id}\\)`));
    // A crash after the transaction, before the rename: the start finishes the rotation.
    writeFileSync(path.join(dir, 'master.key.next'), newKey);
    const resumed = await readBack();
    assert.equal(readFileSync(keyFile, 'utf8'), newKey);
    assert.equal(resumed.record, 'Amina Benali');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a read-only data directory at start-up is one line, and nothing changes on it', async (t) => {
  const { readdirSync, writeFileSync } = await import('node:fs');
  const { SqliteStore } = await import('../adapters/sqlite/sqlite-store.ts');
  const empty = mkdtempSync(path.join(os.tmpdir(), 'huwiya-ro-empty-'));
  const full = mkdtempSync(path.join(os.tmpdir(), 'huwiya-ro-data-'));
  writeFileSync(path.join(full, 'master.key'), `${'e5'.repeat(32)}\n`, { mode: 0o600 });
  const store = await SqliteStore.open(path.join(full, 'huwiya.sqlite'));
  await store.close();
  const mounted: string[] = [];
  try {
    for (const dir of [empty, full]) {
      const bind = spawnSync('mount', ['--bind', dir, dir], { encoding: 'utf8' });
      const ro =
        bind.status === 0 ? spawnSync('mount', ['-o', 'remount,ro,bind', dir], { encoding: 'utf8' }) : bind;
      if (bind.status === 0) mounted.push(dir);
      if (ro.status !== 0) {
        t.skip(`cannot make a read-only bind mount here (${(ro.stderr || '').trim()})`);
        return;
      }
    }
    for (const [dir, message] of [
      [empty, /is not writable: read-only file system/],
      [full, /is not writable: read-only file system/],
    ] as const) {
      const before = readdirSync(dir).sort();
      const r = spawnSync(process.execPath, [BIN, 'serve'], {
        env: { ...env, HUWIYA_DATA_DIR: dir, HUWIYA_PORT: '0' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, message);
      assert.deepEqual(readdirSync(dir).sort(), before);
    }
  } finally {
    for (const dir of mounted) spawnSync('umount', [dir]);
    rmSync(empty, { recursive: true, force: true });
    rmSync(full, { recursive: true, force: true });
  }
});
