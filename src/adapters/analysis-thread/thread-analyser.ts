import { Worker } from 'node:worker_threads';
import type {
  Analyser,
  Analysis,
  AnalysedImages,
  AnalysisRequest,
  FaceReport,
  FaceRequest,
} from '../../ports/analyser.ts';
import type { InferenceRunner } from '../../ports/inference.ts';
import type { LineOcr } from '../../ports/line-ocr.ts';
import type { DecodedImage } from '../../pipeline/image/decode.ts';
import { owned, tensorBuffers } from '../onnx/transfer.ts';
import { fromWire, toWire, type FromThread, type ThreadSetup, type ToThread } from './protocol.ts';

const ENTRY = new URL('./analysis-thread.mjs', import.meta.url);
/** How long closing waits for the analyses a thread is busy with before stopping it anyway. */
const CLOSE_GRACE_MS = 10_000;

/**
 * A verification's image checks on threads of their own. The main thread answers HTTP; run there, the
 * checks' pixel loops (locating and rectifying a card, cropping text lines, the display-grid FFT) held it
 * for up to a second at a time under load, and every other request waited behind them (ADR 0015). Each
 * thread runs whole analyses, many at once; its model runs and line readings come back here, to the one
 * set of inference threads and Tesseract workers, so no model is loaded twice. An analysis goes to the
 * thread with the fewest in flight; a thread that dies fails its analyses (a job is retried) and is
 * started again on the next one.
 */
export class ThreadAnalyser implements Analyser {
  private constructor(private readonly threads: AnalysisThread[]) {}

  static async start(
    options: { threads: number } & ThreadSetup & { inference: InferenceRunner; lineOcr: LineOcr },
  ): Promise<ThreadAnalyser> {
    const { threads, inference, lineOcr, ...setup } = options;
    const pool = Array.from(
      { length: Math.max(1, threads) },
      () => new AnalysisThread(setup, inference, lineOcr),
    );
    await Promise.all(pool.map((t) => t.worker()));
    return new ThreadAnalyser(pool);
  }

  analyse(request: AnalysisRequest, images: AnalysedImages): Promise<Analysis> {
    return this.idlest().analyse(request, images);
  }

  face(request: FaceRequest, image: DecodedImage): Promise<FaceReport> {
    return this.idlest().face(request, image);
  }

  private idlest(): AnalysisThread {
    return this.threads.reduce((a, t) => (t.inFlight < a.inFlight ? t : a));
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.close()));
  }
}

/** A decoded image as sent to a thread: copied (the caller keeps its own), its bytes in a buffer of their own. */
function sendable(d: DecodedImage): DecodedImage {
  return { ...d, bytes: owned(d.bytes), image: { ...d.image, data: owned(d.image.data) } };
}

class AnalysisThread {
  private thread: Promise<Worker> | undefined;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (a: Analysis | FaceReport) => void; reject: (e: Error) => void }
  >();
  private closed = false;
  /** Analyses asked of this thread and not answered yet. */
  inFlight = 0;

  constructor(
    private readonly setup: ThreadSetup,
    private readonly inference: InferenceRunner,
    private readonly lineOcr: LineOcr,
  ) {}

  worker(): Promise<Worker> {
    this.thread ??= new Promise<Worker>((resolve, reject) => {
      const w = new Worker(ENTRY, { workerData: this.setup });
      let ready = false;
      w.on('message', (m: FromThread) => {
        if (m.type === 'ready') {
          ready = true;
          // Idle, the thread does not keep the process alive; an analysis in flight does.
          w.unref();
          resolve(w);
        } else if (m.type === 'failed') reject(new Error(`analysis thread: ${m.error}`));
        else this.serve(w, m);
      });
      const fail = (e: Error) => {
        this.thread = undefined;
        if (!ready) reject(e);
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      };
      w.on('error', fail);
      w.on('exit', (code) => {
        if (!this.closed) fail(new Error(`analysis thread exited with code ${code}`));
      });
    });
    return this.thread;
  }

  /** A thread's answer, or its request for a model run or a line reading (answered when done). */
  private serve(w: Worker, m: Exclude<FromThread, { type: 'ready' | 'failed' }>): void {
    const answer = (reply: ToThread, transfer: ArrayBuffer[] = []) => {
      // A thread stopped meanwhile (closed, or died): nobody waits for the answer.
      try {
        w.postMessage(reply, transfer);
      } catch {
        /* the thread is gone */
      }
    };
    if (m.type === 'infer') {
      this.inference.run(m.model, m.input, m.topClass).then(
        (outputs) => answer({ type: 'inferred', id: m.id, outputs }, tensorBuffers(outputs)),
        (e: unknown) => answer({ type: 'inferred', id: m.id, error: toWire(e) }),
      );
    } else if (m.type === 'read') {
      this.lineOcr.readLine(m.crop, m.script, m.mode).then(
        (reading) => answer({ type: 'read', id: m.id, reading }),
        (e: unknown) => answer({ type: 'read', id: m.id, error: toWire(e) }),
      );
    } else {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) w.unref();
      if (m.error) p.reject(fromWire(m.error));
      else p.resolve(m.analysis!);
    }
  }

  analyse(request: AnalysisRequest, images: AnalysedImages): Promise<Analysis> {
    const sent: AnalysedImages = {};
    for (const [field, d] of Object.entries(images) as [keyof AnalysedImages, DecodedImage][])
      sent[field] = sendable(d);
    return this.ask((id) => ({ type: 'analyse', id, request, images: sent })) as Promise<Analysis>;
  }

  face(request: FaceRequest, image: DecodedImage): Promise<FaceReport> {
    return this.ask((id) => ({ type: 'face', id, request, image: sendable(image) })) as Promise<FaceReport>;
  }

  /** Post one piece of work to the thread and wait for its answer. */
  private async ask(message: (id: number) => ToThread): Promise<Analysis | FaceReport> {
    this.inFlight++;
    try {
      if (this.closed) throw new Error('analyser is closed');
      const w = await this.worker();
      if (this.closed) throw new Error('analyser is closed');
      const id = this.nextId++;
      return await new Promise<Analysis | FaceReport>((resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        w.ref();
        try {
          w.postMessage(message(id));
        } catch (e) {
          this.pending.delete(id);
          if (this.pending.size === 0) w.unref();
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
    } finally {
      this.inFlight--;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const t = this.thread;
    this.thread = undefined;
    if (!t) return;
    const w = await t.catch(() => undefined);
    if (!w) return;
    // Analyses in flight finish first (a thread stopped inside a libvips call can take the process down).
    const deadline = Date.now() + CLOSE_GRACE_MS;
    while (this.pending.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const p of this.pending.values()) p.reject(new Error('analyser is closed'));
    this.pending.clear();
    await w.terminate();
  }
}
