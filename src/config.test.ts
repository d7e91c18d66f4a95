import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, parseConfig } from './config.ts';

test('defaults: 127.0.0.1:8080 and ./data', () => {
  const c = parseConfig({}, '/srv/huwiya');
  assert.equal(c.port, 8080);
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.dataDir, path.resolve('/srv/huwiya/data'));
  assert.equal(c.maxImageBytes, 15 * 1024 * 1024);
  assert.equal(c.masterKey, undefined);
});

test('every bad key is reported at once', () => {
  try {
    parseConfig({
      HUWIYA_PORT: 'eighty',
      HUWIYA_MASTER_KEY: 'short',
      HUWIYA_LOG_LEVEL: 'loud',
      HUWIYA_PROT: '1',
    });
    assert.fail('expected a ConfigError');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.problems.length, 4);
    for (const key of ['HUWIYA_PORT', 'HUWIYA_MASTER_KEY', 'HUWIYA_LOG_LEVEL', 'HUWIYA_PROT']) {
      assert.ok(
        e.problems.some((p) => p.startsWith(key)),
        key,
      );
    }
  }
});

test('master key as hex or base64', () => {
  const hex = 'ab'.repeat(32);
  assert.equal(parseConfig({ HUWIYA_MASTER_KEY: hex }).masterKey?.toString('hex'), hex);
  const b64 = Buffer.alloc(32, 7).toString('base64');
  assert.equal(parseConfig({ HUWIYA_MASTER_KEY: b64 }).masterKey?.length, 32);
});

test('HUWIYA_POLICY_FILE replaces the policy, named by its hash in policy_version; a bad one stops the start', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'huwiya-policy-'));
  try {
    const good = path.join(dir, 'policy.json');
    writeFileSync(good, JSON.stringify({ min_age_years: 21, factors: { mrz_not_read: { effect: 'adds' } } }));
    const c = parseConfig({ HUWIYA_POLICY_FILE: good, HUWIYA_MIN_AGE: '19' });
    assert.equal(c.policy.minAgeYears, 21);
    assert.deepEqual(c.policy.factors.mrz_not_read, { effect: 'adds' });
    assert.match(c.policy.version, /^risk-.*\+d[0-9a-f]{8}$/);
    assert.equal(parseConfig({ HUWIYA_MIN_AGE: '19' }).policy.minAgeYears, 19);
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ factors: { not_a_factor: { weight: 1 } } }));
    for (const file of [bad, path.join(dir, 'missing.json')])
      assert.throws(
        () => parseConfig({ HUWIYA_POLICY_FILE: file }),
        (e: unknown) =>
          e instanceof ConfigError && e.problems.some((p) => p.startsWith('HUWIYA_POLICY_FILE')),
      );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a master key is exactly 32 bytes: nothing truncated, nothing after it', async () => {
  const { parseMasterKey } = await import('./config.ts');
  const hex = 'ab'.repeat(32);
  assert.equal(parseMasterKey(hex)?.length, 32);
  assert.equal(parseMasterKey(Buffer.alloc(32, 7).toString('base64'))?.length, 32);
  for (const bad of [
    hex + 'zz',
    hex + '0',
    hex.slice(1),
    `${hex} extra`,
    Buffer.alloc(33).toString('base64'),
    '',
  ])
    assert.equal(parseMasterKey(bad), undefined, bad);
  assert.throws(
    () => parseConfig({ HUWIYA_WEBHOOK_ALLOWED_TARGETS: '10.0.0.0/99' }),
    /HUWIYA_WEBHOOK_ALLOWED_TARGETS/,
  );
  assert.equal(parseConfig({ HUWIYA_PORT: '9000' }).publicUrl, 'http://127.0.0.1:9000');
  assert.throws(() => parseConfig({ HUWIYA_PUBLIC_URL: 'javascript:alert(1)' }), /HUWIYA_PUBLIC_URL/);
});
