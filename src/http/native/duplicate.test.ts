import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { NO_SHARED_DATA, postCase, startTestServer } from '../../../test/helpers.ts';
import { buildCase } from '../../../test/synth/cases.ts';

type Json = Record<string, any>;

test(
  'duplicate: the same document verified again lists the earlier verification; DELETE takes it out of the index',
  { skip: NO_SHARED_DATA, timeout: 300_000 },
  async () => {
    const s = await startTestServer();
    try {
      const key = await s.key();
      const other = await s.key(undefined, 'tenant_b');
      const c = await buildCase('genuine', 'clean', 'tune', 1_004, s.runtime.deps.now());
      const verify = async (k: string, mode: 'sync' | 'async' = 'sync') => {
        const r = await postCase(s, k, c, { checks: ['ocr', 'duplicate'], mode });
        assert.ok(r.statusCode === 200 || r.statusCode === 201, r.body);
        return r.json() as Json;
      };
      const first = await verify(key);
      assert.equal(first.checks.duplicate.status, 'passed', JSON.stringify(first.checks.duplicate));
      assert.equal(first.status, 'verified', JSON.stringify(first.risk_factors));
      const second = await verify(key);
      assert.equal(second.checks.duplicate.status, 'failed');
      assert.deepEqual(
        second.checks.duplicate.matches.map((m: Json) => m.verification_id),
        [first.id],
      );
      assert.equal(second.status, 'review');
      assert.ok(second.risk_factors.some((f: Json) => f.code === 'duplicate_document_number'));
      // Another tenant's index is its own.
      assert.equal((await verify(other)).checks.duplicate.status, 'passed');
      // The number is stored only as a keyed hash: not in the database file in clear.
      const number = first.extracted_data.document_number as string;
      const db = readFileSync(`${s.dataDir}/huwiya.sqlite`);
      assert.equal(db.includes(Buffer.from(number)), false);
      const del = await s.app.inject({
        method: 'DELETE',
        url: `/v1/identity/verifications/${first.id}`,
        headers: { authorization: `Bearer ${key}` },
      });
      assert.equal(del.statusCode, 200, del.body);
      // Async (the worker's path): only the verification still stored is listed.
      const pending = await verify(key, 'async');
      let third: Json = pending;
      for (let i = 0; i < 300 && third.status === 'pending'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        third = (
          await s.app.inject({
            method: 'GET',
            url: `/v1/identity/verifications/${pending.id}`,
            headers: { authorization: `Bearer ${key}` },
          })
        ).json() as Json;
      }
      assert.deepEqual(
        third.checks.duplicate.matches.map((m: Json) => m.verification_id),
        [second.id],
      );
    } finally {
      await s.close();
    }
  },
);
