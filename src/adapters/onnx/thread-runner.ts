import { Worker } from 'node:worker_threads';
import type { InferenceRunner, ModelName, Tensor, TopClassReduction } from '../../ports/inference.ts';
import type { ModelManifest } from '../../pipeline/face/model-manifest.ts';
import type { RunAnswer, RunRequest } from './inference-thread.ts';
import { owned } from './transfer.ts';

const ENTRY = new URL('./inference-thread.mjs', import.meta.url);

/**
 * Models run on the first thread only. onnxruntime keeps, per session, an arena as large as the largest
 * run's activations: text detection on a rectified side holds about 180 MB of it, which every thread
 * running the model would keep. Its runs are few (one per side) and queue behind each other on one
 * thread; the other models go to the idlest thread, so they move to the second while detections run.
 */
const ONE_THREAD_MODELS: ReadonlySet<ModelName> = new Set(['text_detect']);
/** How long closing waits for the runs a thread is busy with before stopping it anyway. */
const CLOSE_GRACE_MS = 5000;

/**
 * onnxruntime on threads of their own. onnxruntime-node runs a session synchronously on the calling
 * thread; on the main thread every inference stalls the JavaScript around it (locating the document,
 * rectifying, cropping lines), which on a CNIE front and back was a third of the main thread's time.
 * Here every model is loaded on each of `workers` threads, a run goes to the thread with the fewest runs
 * in flight, and the main thread goes on meanwhile. On two cores, two threads of one intra-op thread each
 * read a CNIE front and back in about 0.92 s where one thread of two took 1.03 s, with a tenth less CPU:
 * a document's many small text-line runs parallelise better across runs than within one.
 * Tensors are transferred, not copied: `run` takes ownership of `input.data`.
 */
export class ThreadInferenceRunner implements InferenceRunner {
  private constructor(private readonly threads: InferenceThread[]) {}

  /** Start the threads and load every model on each (a bad model file fails here, at boot). */
  static async start(
    manifest: ModelManifest,
    options: { workers: number; threads: number },
  ): Promise<ThreadInferenceRunner> {
    const threads = Array.from(
      { length: Math.max(1, options.workers) },
      () => new InferenceThread(manifest, options.threads),
    );
    await Promise.all(threads.map((t) => t.start()));
    return new ThreadInferenceRunner(threads);
  }

  run(model: ModelName, input: Tensor, topClass?: TopClassReduction): Promise<Record<string, Tensor>> {
    const thread = ONE_THREAD_MODELS.has(model)
      ? this.threads[0]!
      : this.threads.reduce((a, t) => (t.inFlight < a.inFlight ? t : a));
    return thread.run(model, input, topClass);
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.close()));
  }
}

/**
 * One worker thread holding a session per model; its runs are serialised. A thread that dies fails the
 * runs in flight and is started again on the next run.
 */
class InferenceThread {
  private thread: Promise<Worker> | undefined;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (o: Record<string, Tensor>) => void; reject: (e: Error) => void }
  >();
  private closed = false;

  constructor(
    private readonly manifest: ModelManifest,
    private readonly threads: number,
  ) {}

  /** Runs asked of this thread and not answered yet (counted from the call, before the thread is up). */
  inFlight = 0;

  async start(): Promise<void> {
    await this.worker();
  }

  private worker(): Promise<Worker> {
    this.thread ??= new Promise<Worker>((resolve, reject) => {
      const w = new Worker(ENTRY, { workerData: { manifest: this.manifest, threads: this.threads } });
      let ready = false;
      w.on('message', (m: RunAnswer) => {
        if ('ready' in m) {
          ready = true;
          // Idle, the thread does not keep the process alive; a run in flight does (see run).
          w.unref();
          resolve(w);
        } else if ('failed' in m) reject(new Error(`inference thread: ${m.failed}`));
        else this.settle(m);
      });
      const fail = (e: Error) => {
        this.thread = undefined;
        if (!ready) reject(e);
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      };
      w.on('error', fail);
      w.on('exit', (code) => {
        if (!this.closed) fail(new Error(`inference thread exited with code ${code}`));
      });
    });
    return this.thread;
  }

  private settle(m: Extract<RunAnswer, { id: number }>): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) void this.thread?.then((w) => w.unref());
    if ('error' in m) p.reject(new Error(m.error));
    else p.resolve(m.outputs);
  }

  async run(model: ModelName, input: Tensor, topClass?: TopClassReduction): Promise<Record<string, Tensor>> {
    this.inFlight++;
    try {
      return await this.post(model, input, topClass);
    } finally {
      this.inFlight--;
    }
  }

  private async post(
    model: ModelName,
    input: Tensor,
    topClass?: TopClassReduction,
  ): Promise<Record<string, Tensor>> {
    if (this.closed) throw new Error('inference runner is closed');
    const data = input.data;
    // A tensor already handed over (its buffer detached) or shaped wrong is the caller's error, here
    // and now; sent on, it would fail on the thread or never be answered.
    const size = input.dims.reduce((a, b) => a * b, 1);
    if (data.length !== size)
      throw new Error(
        `${model}: the input holds ${data.length} values for dims [${input.dims.join(', ')}]${data.buffer.byteLength === 0 ? ' (its buffer was already handed over to an earlier run)' : ''}`,
      );
    const w = await this.worker();
    // Closed while the thread was awaited: posted now, the run would start inside onnxruntime on a thread
    // about to be terminated (close counted no run to wait for), and abort the process.
    if (this.closed) throw new Error('inference runner is closed');
    const id = this.nextId++;
    // The whole buffer is handed over; a view into a larger buffer is copied first.
    const own = owned(data);
    const req: RunRequest = { id, model, input: { data: own, dims: [...input.dims] }, topClass };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.ref();
      try {
        w.postMessage(req, [own.buffer as ArrayBuffer]);
      } catch (e) {
        this.pending.delete(id);
        if (this.pending.size === 0) w.unref();
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const t = this.thread;
    this.thread = undefined;
    // Runs still in flight (a reading dropped as not needed) fail rather than wait forever.
    const unanswered = this.pending.size;
    for (const p of this.pending.values()) p.reject(new Error('inference runner is closed'));
    this.pending.clear();
    if (!t) return;
    const w = await t;
    // The thread is stopped between runs: stopped inside onnxruntime's native run, its answer meets a
    // dying environment and aborts the whole process ("terminate called after throwing Napi::Error").
    if (unanswered > 0)
      await new Promise<void>((resolve) => {
        let answered = 0;
        const timer = setTimeout(resolve, CLOSE_GRACE_MS);
        w.on('message', () => {
          if (++answered < unanswered) return;
          clearTimeout(timer);
          resolve();
        });
      });
    await w.terminate();
    // A run posted while closing (its thread was being awaited) fails too.
    for (const p of this.pending.values()) p.reject(new Error('inference runner is closed'));
    this.pending.clear();
  }
}
