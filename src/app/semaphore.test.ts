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
