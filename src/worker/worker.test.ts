import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SqliteStore } from '../adapters/sqlite/sqlite-store.ts';
import { backoffMs, Worker, type JobHandlers } from './worker.ts';

async function store() {
  return SqliteStore.open(':memory:');
}
const iso = (ms: number) => new Date(ms).toISOString();

test('a job is claimed by one worker only, and comes back when its lease runs out', async () => {
  const s = await store();
  await s.enqueueJob({ name: 'verification.process', tenantId: 't', subjectId: 'ver_1' }, iso(1000));
  const a = await s.claimJob(['verification.process'], 'wa', iso(2000), iso(62_000));
  assert.equal(a?.subjectId, 'ver_1');
  assert.equal(a?.attempts, 1);
  assert.equal(await s.claimJob(['verification.process'], 'wb', iso(3000), iso(63_000)), undefined);
  // Worker A died: after its lease, B gets the job (second attempt); A can no longer finish it.
  const b = await s.claimJob(['verification.process'], 'wb', iso(70_000), iso(130_000));
  assert.equal(b?.id, a?.id);
  assert.equal(b?.attempts, 2);
  assert.equal(await s.finishJob(a!.id, 'wa', 'done', iso(71_000)), false);
  assert.equal(await s.finishJob(b!.id, 'wb', 'done', iso(71_000)), true);
  assert.equal(await s.countJobs('done'), 1);
  await s.close();
});

test('jobs not yet due wait; cancelled jobs are never claimed', async () => {
  const s = await store();
  await s.enqueueJob(
    { name: 'verification.process', tenantId: 't', subjectId: 'ver_1', runAt: iso(10_000) },
    iso(0),
  );
  await s.enqueueJob({ name: 'verification.process', tenantId: 't', subjectId: 'ver_2' }, iso(0));
  assert.equal(await s.cancelJobsFor('t', 'ver_2', iso(1)), 1);
  assert.equal(await s.claimJob(['verification.process'], 'w', iso(5000), iso(9000)), undefined);
  assert.equal(
    (await s.claimJob(['verification.process'], 'w', iso(10_000), iso(20_000)))?.subjectId,
    'ver_1',
  );
  await s.close();
});

test('the worker runs handlers, retries with backoff, and gives up after max attempts', async () => {
  const s = await store();
  let clock = 0;
  const seen: string[] = [];
  const handlers: JobHandlers = {
    'verification.process': async (job) => {
      seen.push(`${job.subjectId}#${job.attempts}`);
      if (job.subjectId === 'ok') return { status: 'done' };
      if (job.subjectId === 'flaky' && job.attempts >= 2) return { status: 'done' };
      throw new Error('transient');
    },
    'webhook.deliver': async () => ({ status: 'done' }),
    'session.expire': async () => ({ status: 'done' }),
    'upload.expire': async () => ({ status: 'done' }),
  };
  const w = new Worker(s, handlers, { concurrency: 1, now: () => new Date(clock) });
  for (const subjectId of ['ok', 'flaky', 'broken']) {
    await s.enqueueJob(
      { name: 'verification.process', tenantId: 't', subjectId, maxAttempts: 3 },
      iso(clock),
    );
  }
  for (let round = 0; round < 6; round++) {
    await w.drain();
    clock += backoffMs(4) + 1;
  }
  assert.deepEqual(
    seen.filter((x) => x.startsWith('ok')),
    ['ok#1'],
  );
  assert.deepEqual(
    seen.filter((x) => x.startsWith('flaky')),
    ['flaky#1', 'flaky#2'],
  );
  assert.deepEqual(
    seen.filter((x) => x.startsWith('broken')),
    ['broken#1', 'broken#2', 'broken#3'],
  );
  assert.equal(await s.countJobs('done'), 2);
  assert.equal(await s.countJobs('failed'), 1);
  assert.equal((await s.listJobsFor('t', 'broken'))[0]?.lastError, 'transient');
  await s.close();
});

test('a worker refuses to start without a handler for every job', async () => {
  const s = await store();
  assert.throws(() => new Worker(s, {} as JobHandlers, { concurrency: 1 }), /no handler/);
  await s.close();
});

const idle: JobHandlers = {
  'verification.process': async () => ({ status: 'done' }),
  'webhook.deliver': async () => ({ status: 'done' }),
  'session.expire': async () => ({ status: 'done' }),
  'upload.expire': async () => ({ status: 'done' }),
};

test('a job that keeps killing its worker is given up once its attempts are spent, and its subject told', async () => {
  const s = await store();
  await s.enqueueJob(
    { name: 'verification.process', tenantId: 't', subjectId: 'ver_crash', maxAttempts: 2 },
    iso(0),
  );
  // Two workers claim it in turn and die with it (their leases run out).
  assert.ok(await s.claimJob(['verification.process'], 'wa', iso(1000), iso(2000)));
  assert.ok(await s.claimJob(['verification.process'], 'wb', iso(3000), iso(4000)));
  const gaveUp: string[] = [];
  const ran: string[] = [];
  const w = new Worker(
    s,
    { ...idle, 'verification.process': async (job) => (ran.push(job.subjectId), { status: 'done' }) },
    {
      concurrency: 1,
      now: () => new Date(5000),
      onGiveUp: async (job, error) => void gaveUp.push(`${job.subjectId}: ${error}`),
    },
  );
  assert.equal(await w.drain(), 1);
  assert.deepEqual(ran, [], 'a third run of a job allowed two would be one too many');
  assert.equal(gaveUp.length, 1);
  assert.match(gaveUp[0]!, /^ver_crash: attempts exhausted/);
  assert.equal(await s.countJobs('failed'), 1);
  await s.close();
});

test("a restarted process takes back its dead predecessor's leases at once, never a live process's", async () => {
  const s = await store();
  const host = (await import('node:os')).hostname();
  for (const subjectId of ['ver_dead', 'ver_alive'])
    await s.enqueueJob({ name: 'verification.process', tenantId: 't', subjectId }, iso(0));
  // A process that no longer exists holds one job, this test's parent process (alive) the other, both
  // with leases an hour long.
  const dead = `wrk_${host}_2147483646_abcdef`;
  const alive = `wrk_${host}_${process.ppid}_123456`;
  const now = Date.now();
  assert.ok(await s.claimJob(['verification.process'], dead, iso(now), iso(now + 3_600_000)));
  assert.ok(await s.claimJob(['verification.process'], alive, iso(now), iso(now + 3_600_000)));
  const ran: string[] = [];
  const w = new Worker(
    s,
    { ...idle, 'verification.process': async (job) => (ran.push(job.subjectId), { status: 'done' }) },
    { concurrency: 1 },
  );
  assert.equal(await w.releaseDeadLocalLeases(), 1);
  await w.drain();
  assert.deepEqual(ran, ['ver_dead']);
  await s.close();
});
