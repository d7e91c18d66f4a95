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
  await runner.close();
  await assert.rejects(inFlight, /closed|exited/);
  await assert.rejects(runner.run('text_recognize', lineInput(32, 10)), /closed/);
});
