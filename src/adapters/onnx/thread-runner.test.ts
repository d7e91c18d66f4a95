import assert from 'node:assert/strict';
import type { Worker } from 'node:worker_threads';
import { after, before, describe, test } from 'node:test';
import type { Tensor } from '../../ports/inference.ts';
import { loadManifest } from './load-manifest.ts';
import { OnnxRunner } from './onnx-runner.ts';
import { ThreadInferenceRunner } from './thread-runner.ts';

/** A text line's worth of input for the PP-OCR recogniser, deterministic. */
function lineInput(width: number, seed: number): Tensor {
  const data = new Float32Array(3 * 48 * width);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    data[i] = (s / 2 ** 31) * 2 - 1;
  }
  return { data, dims: [1, 3, 48, width] };
}

describe('ThreadInferenceRunner (onnxruntime on a worker thread)', () => {
  let inProcess: OnnxRunner;
  let threaded: ThreadInferenceRunner;
  before(async () => {
    const manifest = await loadManifest();
    inProcess = await OnnxRunner.load(manifest, { threads: 1 });
    threaded = await ThreadInferenceRunner.start(manifest, { workers: 2, threads: 1 });
  });
  after(async () => {
    await inProcess.close();
    await threaded.close();
  });

  test('gives the same outputs as the in-process runner, runs in flight answered each to its caller', async () => {
    const inputs = [lineInput(160, 1), lineInput(320, 2), lineInput(96, 3)];
    const want = await Promise.all(
      inputs.map((t) => inProcess.run('text_recognize', { data: t.data.slice(), dims: t.dims })),
    );
    const got = await Promise.all(inputs.map((t) => threaded.run('text_recognize', t)));
    for (const [i, w] of want.entries()) {
      const [name, tensor] = Object.entries(w)[0]!;
      assert.deepEqual(got[i]![name]!.dims, tensor.dims);
      assert.deepEqual(got[i]![name]!.data, tensor.data);
    }
  });

  test('a top-class reduction gives each step the best allowed class, its score and the asked scores', async () => {
    const input = lineInput(320, 11);
    const full = Object.values(
      await inProcess.run('text_recognize', { data: input.data.slice(), dims: input.dims }),
    )[0]!;
    const classes = full.dims[2]!;
    const steps = full.dims[1]!;
    // Every third class allowed, and the blank; the last class's score kept.
    const allowed = Uint8Array.from({ length: classes }, (_, k) => (k === 0 || k % 3 === 0 ? 1 : 0));
    const reduced = Object.values(
      await threaded.run('text_recognize', input, { allowed, also: [classes - 1] }),
    )[0]!;
    assert.deepEqual(reduced.dims, [1, steps, 3]);
    for (let t = 0; t < steps; t++) {
      const row = full.data.subarray(t * classes, (t + 1) * classes);
      let best = 0;
      for (let k = 1; k < classes; k++) if (allowed[k] && row[k]! > row[best]!) best = k;
      assert.equal(reduced.data[t * 3], best, `step ${t}`);
      assert.equal(reduced.data[t * 3 + 1], row[best]);
      assert.equal(reduced.data[t * 3 + 2], row[classes - 1]);
    }
    // Without a mask, the overall best (the first of equal scores).
    const any = Object.values(await threaded.run('text_recognize', lineInput(320, 11), {}))[0]!;
    for (let t = 0; t < steps; t++) {
      const row = full.data.subarray(t * classes, (t + 1) * classes);
      const best = row.indexOf(Math.max(...row));
      assert.equal(any.data[t * 2], best, `step ${t}`);
    }
    await assert.rejects(
      threaded.run('text_recognize', lineInput(32, 12), { allowed: new Uint8Array(5) }),
      /mask has 5 classes/,
    );
  });

  test('a thread that dies fails the runs in flight, and the next run starts a new one', async () => {
    const first = (threaded as unknown as { threads: { thread: Promise<Worker> }[] }).threads[0]!;
    const thread = await first.thread;
    // Both threads busy: the runs in flight are on each.
    const inFlight = threaded.run('text_recognize', lineInput(640, 4));
    const onOther = threaded.run('text_recognize', lineInput(640, 8));
    await thread.terminate();
    await assert.rejects(inFlight, /inference thread exited/);
    assert.ok(Object.values(await onOther)[0]!.data.length > 0);
    const again = await threaded.run('text_recognize', lineInput(64, 5));
    assert.ok(Object.values(again)[0]!.data.length > 0);
  });

  test('an unknown model is an error for its caller only', async () => {
    await assert.rejects(threaded.run('no_such_model' as never, lineInput(32, 6)), /not loaded/);
    const ok = await threaded.run('text_recognize', lineInput(32, 7));
    assert.ok(Object.values(ok)[0]!.data.length > 0);
  });

  test('a tensor sent twice (its buffer handed over) or shaped wrong is refused at once', async () => {
    const input = lineInput(32, 8);
    await threaded.run('text_recognize', input);
    await assert.rejects(threaded.run('text_recognize', input), /already handed over/);
    await assert.rejects(
      threaded.run('text_recognize', { data: new Float32Array(10), dims: [1, 3, 48, 32] }),
      /10 values for dims \[1, 3, 48, 32\]/,
    );
    const ok = await threaded.run('text_recognize', lineInput(32, 9));
    assert.ok(Object.values(ok)[0]!.data.length > 0);
  });
});

test('closing fails the runs still in flight instead of leaving them waiting', async () => {
  const runner = await ThreadInferenceRunner.start(await loadManifest(), { workers: 1, threads: 1 });
  const inFlight = runner.run('text_recognize', lineInput(640, 9));
  // Watched from the start: it may fail while close is still under way.
  const failed = assert.rejects(inFlight, /closed|exited/);
  await runner.close();
  await failed;
  await assert.rejects(runner.run('text_recognize', lineInput(32, 10)), /closed/);
});
