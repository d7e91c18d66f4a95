import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Semaphore } from './semaphore.ts';

test('never runs more than its capacity at once, and runs everything', async () => {
  const s = new Semaphore(2);
  let running = 0;
  let peak = 0;
  const done: number[] = [];
  await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      s.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        done.push(i);
      }),
    ),
  );
  assert.equal(peak, 2);
  assert.equal(done.length, 10);
  assert.equal(s.inUse, 0);
});

test('a failing task releases its slot', async () => {
  const s = new Semaphore(1);
  await assert.rejects(s.run(async () => Promise.reject(new Error('boom'))));
  assert.equal(await s.run(async () => 42), 42);
});

test('a freed slot goes to a waiting request before any waiting background work', async () => {
  const s = new Semaphore(1);
  const order: string[] = [];
  let release!: () => void;
  const first = s.run(() => new Promise<void>((r) => (release = r)));
  const jobs = [1, 2, 3].map((i) => s.run(async () => void order.push(`job ${i}`), 'background'));
  const request = s.run(async () => void order.push('request'));
  assert.equal(s.queued, 1, 'queued counts the requests only');
  assert.equal(s.queuedBackground, 3);
  release();
  await Promise.all([first, request, ...jobs]);
  assert.deepEqual(order, ['request', 'job 1', 'job 2', 'job 3']);
  assert.equal(s.inUse, 0);
});
