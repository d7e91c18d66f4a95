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

test(
  'duplicate: the same face under another identity is found, a returning customer is not flagged, DELETE forgets the face',
  { skip: NO_SHARED_DATA, timeout: 300_000 },
  async () => {
    const s = await startTestServer();
    try {
      const key = await s.key();
      const other = await s.key(undefined, 'tenant_b');
      const quiet = await s.key(undefined, 'tenant_c');
      const attack = await buildCase('duplicate_identity', 'clean', 'tune', 1_005, s.runtime.deps.now());
      const earlier = attack.earlier!;
      const checks = ['ocr', 'face_match', 'duplicate'];
      const verify = async (k: string, c: typeof attack, withChecks = checks) => {
        const r = await postCase(s, k, c, { checks: withChecks });
        assert.equal(r.statusCode, 200, r.body);
        return r.json() as Json;
      };
      const first = await verify(key, earlier);
      assert.equal(first.checks.duplicate.status, 'passed', JSON.stringify(first.checks.duplicate));
      assert.equal(first.checks.duplicate.assessments.face.assessed, true);
      assert.deepEqual(first.checks.duplicate.face_matches, []);

      // The same person, another name and birth date: found, and a person looks at it.
      const second = await verify(key, attack);
      const dup = second.checks.duplicate;
      assert.equal(dup.status, 'failed', JSON.stringify(dup));
      assert.equal(dup.reason, 'face_seen_with_other_identity');
      assert.deepEqual(
        dup.face_matches.map((m: Json) => [m.verification_id, m.same_identity]),
        [[first.id, false]],
      );
      assert.ok(dup.face_matches[0].similarity >= dup.assessments.face.threshold);
      assert.equal(second.status, 'review', JSON.stringify(second.risk_factors));
      const factor = second.risk_factors.find((f: Json) => f.code === 'duplicate_face_other_identity');
      assert.ok(factor, JSON.stringify(second.risk_factors));
      assert.match(factor.message, /same person as 1 earlier verification/);

      // The first customer again (same card): the face matches their own earlier verification under the
      // same identity, which is not what flags; the attack's verification under another name still is.
      const again = await verify(key, earlier);
      const byId = new Map(
        (again.checks.duplicate.face_matches as Json[]).map((m) => [m.verification_id, m.same_identity]),
      );
      assert.equal(byId.get(first.id), true);
      assert.equal(byId.get(second.id), false);

      // The search endpoint finds the same through the same indexes: by face, and by document number.
      const search = async (k: string, payload: Json) => {
        const r = await s.app.inject({
          method: 'POST',
          url: '/v1/identity/duplicates/search',
          headers: { authorization: `Bearer ${k}` },
          payload,
        });
        assert.equal(r.statusCode, 200, r.body);
        return r.json() as Json;
      };
      const byFace = await search(key, { image: attack.images.selfie!.toString('base64') });
      assert.deepEqual(
        (byFace.face.matches as Json[]).map((m) => m.verification_id).sort(),
        [first.id, second.id, again.id].sort(),
      );
      assert.equal(byFace.document_number, null);
      const number = first.extracted_data.document_number as string;
      const byNumber = await search(key, { document_number: number, country: 'MA' });
      assert.deepEqual(
        (byNumber.document_number.matches as Json[]).map((m) => m.verification_id).sort(),
        [first.id, again.id].sort(),
      );
      assert.deepEqual(
        (await search(other, { document_number: number, country: 'MAR' })).document_number.matches,
        [],
      );
      const none = await s.app.inject({
        method: 'POST',
        url: '/v1/identity/duplicates/search',
        headers: { authorization: `Bearer ${key}` },
        payload: { country: 'MA' },
      });
      assert.equal(none.statusCode, 400, none.body);

      // Another tenant's index is its own; a verification that did not ask for the check is not indexed.
      assert.deepEqual((await verify(other, attack)).checks.duplicate.face_matches, []);
      await verify(quiet, earlier, ['ocr', 'face_match']);
      assert.deepEqual((await verify(quiet, attack)).checks.duplicate.face_matches, []);

      const del = await s.app.inject({
        method: 'DELETE',
        url: `/v1/identity/verifications/${first.id}`,
        headers: { authorization: `Bearer ${key}` },
      });
      assert.equal(del.statusCode, 200, del.body);
      const after = await verify(key, attack);
      const ids = (after.checks.duplicate.face_matches as Json[]).map((m) => m.verification_id);
      assert.ok(!ids.includes(first.id), `deleted ${first.id} still matched: ${ids.join(', ')}`);
      assert.ok(ids.includes(second.id) && ids.includes(again.id), ids.join(', '));
      const afterSearch = await search(key, { image: attack.images.selfie!.toString('base64') });
      assert.ok(!(afterSearch.face.matches as Json[]).some((m) => m.verification_id === first.id));

      // The tenant turns the face index off: every face it indexed is removed, and none is searched.
      const admin = await s.key(['admin']);
      const off = await s.app.inject({
        method: 'PUT',
        url: '/v1/developers/account/settings',
        headers: { authorization: `Bearer ${admin}` },
        payload: { duplicate: { face_index: false } },
      });
      assert.equal(off.statusCode, 200, off.body);
      assert.ok((off.json() as Json).faces_removed >= 3, off.body);
      const unindexed = await verify(key, attack);
      assert.equal(unindexed.checks.duplicate.assessments.face.reason, 'face_index_off');
      assert.equal(unindexed.checks.duplicate.face_matches, undefined);
      const on = await s.app.inject({
        method: 'PUT',
        url: '/v1/developers/account/settings',
        headers: { authorization: `Bearer ${admin}` },
        payload: { duplicate: { face_index: true } },
      });
      assert.equal(on.statusCode, 200, on.body);
      assert.deepEqual((await verify(key, attack)).checks.duplicate.face_matches, []);
    } finally {
      await s.close();
    }
  },
);
