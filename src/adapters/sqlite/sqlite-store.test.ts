import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { VerificationRow } from '../../ports/stores.ts';
import { SqliteStore } from './sqlite-store.ts';

let lastNumber = 0;

function row(
  id: string,
  tenantId: string,
  createdAt: string,
  status: VerificationRow['status'] = 'verified',
): VerificationRow {
  return {
    id,
    tenantId,
    status,
    documentType: 'cin',
    country: 'MA',
    mode: 'sync',
    riskScore: 0,
    riskLevel: 'low',
    createdAt,
    updatedAt: createdAt,
    sealed: Buffer.from('x'),
    number: ++lastNumber,
  };
}

test('migrations apply once to a file database and survive reopening', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'huwiya-store-'));
  const file = path.join(dir, 'db.sqlite');
  const s1 = await SqliteStore.open(file);
  assert.deepEqual(await s1.migrate(), []);
  await s1.createTenant({ id: 't', name: 't', createdAt: '2026-01-01T00:00:00.000Z' });
  await s1.close();
  const s2 = await SqliteStore.open(file);
  assert.equal((await s2.listTenants()).length, 1);
  await s2.close();
  rmSync(dir, { recursive: true, force: true });
});

test('every read is scoped by tenant; cursors page without gaps or repeats', async () => {
  const s = await SqliteStore.open(':memory:');
  for (const t of ['a', 'b']) await s.createTenant({ id: t, name: t, createdAt: '2026-01-01T00:00:00.000Z' });
  // Same timestamp for several rows: the id breaks ties.
  for (let i = 0; i < 7; i++)
    await s.insertVerification(
      row(
        `ver_${i}`,
        'a',
        `2026-01-0${1 + Math.floor(i / 3)}T00:00:00.000Z`,
        i % 2 ? 'rejected' : 'verified',
      ),
    );
  await s.insertVerification(row('ver_b', 'b', '2026-01-05T00:00:00.000Z'));
  assert.equal(await s.getVerification('b', 'ver_1'), undefined);
  assert.equal(await s.deleteVerification('b', 'ver_1'), false);
  const seen: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await s.listVerifications('a', { limit: 2, startingAfter: cursor });
    seen.push(...page.rows.map((r) => r.id));
    assert.equal(page.total, 7);
    if (!page.hasMore) break;
    cursor = page.rows.at(-1)!.id;
  }
  assert.equal(seen.length, 7);
  assert.equal(new Set(seen).size, 7);
  const back = await s.listVerifications('a', { limit: 2, endingBefore: seen[4] });
  assert.deepEqual(
    back.rows.map((r) => r.id),
    seen.slice(2, 4),
  );
  const rejected = await s.listVerifications('a', { limit: 100, status: 'rejected' });
  assert.equal(rejected.rows.length, 3);
  await s.close();
});

test('numbers are allocated in order and unique; tags filter by blind index; offset pages in any order', async () => {
  const s = await SqliteStore.open(':memory:');
  for (const t of ['a', 'b']) await s.createTenant({ id: t, name: t, createdAt: '2026-01-01T00:00:00.000Z' });
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const id = `ver_n${i}`;
    await s.transaction(async (tx) => {
      const n = await tx.allocateVerificationNumber();
      await tx.insertVerification({
        ...row(id, i === 4 ? 'b' : 'a', `2026-02-0${5 - i}T00:00:00.000Z`),
        number: n,
      });
      await tx.insertTags(i === 4 ? 'b' : 'a', id, i % 2 ? ['h-odd', 'h-all'] : ['h-all']);
    });
    ids.push(id);
  }
  const numbers = await Promise.all(
    ids.slice(0, 4).map(async (id) => (await s.getVerification('a', id))!.number),
  );
  assert.deepEqual(numbers, [numbers[0], numbers[0]! + 1, numbers[0]! + 2, numbers[0]! + 3]);
  assert.equal((await s.getVerificationByNumber('a', numbers[2]!))?.id, 'ver_n2');
  // Another tenant's number is not found.
  const other = (await s.getVerification('b', 'ver_n4'))!.number;
  assert.equal(await s.getVerificationByNumber('a', other), undefined);
  // A second row with a number already taken is refused.
  await assert.rejects(
    s.insertVerification({ ...row('ver_dup', 'a', '2026-03-01T00:00:00.000Z'), number: numbers[0]! }),
  );
  const odd = await s.listVerifications('a', { limit: 10, tagHashes: ['h-odd'] });
  assert.deepEqual(odd.rows.map((r) => r.id).sort(), ['ver_n1', 'ver_n3']);
  assert.equal(odd.total, 2);
  assert.equal((await s.listVerifications('a', { limit: 10, tagHashes: ['h-odd', 'h-none'] })).total, 0);
  assert.equal((await s.listVerifications('b', { limit: 10, tagHashes: ['h-all'] })).total, 1);
  const page = await s.listVerifications('a', {
    limit: 2,
    offset: 1,
    tagHashes: ['h-all'],
    order: { by: 'number', direction: 'asc' },
  });
  assert.deepEqual(
    page.rows.map((r) => r.id),
    ['ver_n1', 'ver_n2'],
  );
  assert.equal(page.hasMore, true);
  // Deleting a verification drops its tags.
  await s.deleteVerification('a', 'ver_n1');
  assert.equal((await s.listVerifications('a', { limit: 10, tagHashes: ['h-odd'] })).total, 1);
  await s.close();
});

test('idempotency keys: one claim wins until it expires', async () => {
  const s = await SqliteStore.open(':memory:');
  const base = {
    tenantId: 't',
    apiKeyId: 'key_1',
    endpoint: 'POST /v1/identity/verify',
    key: 'abcdefghij',
    requestHash: 'h',
    state: 'in_progress' as const,
    statusCode: null,
    sealedResponse: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    expiresAt: '2026-01-02T00:00:00.000Z',
  };
  assert.equal(await s.claimIdempotency(base), true);
  assert.equal(await s.claimIdempotency(base), false);
  assert.equal(
    await s.claimIdempotency({
      ...base,
      createdAt: '2026-01-03T00:00:00.000Z',
      expiresAt: '2026-01-04T00:00:00.000Z',
    }),
    true,
  );
  await s.close();
});
