import { parentPort, workerData } from 'node:worker_threads';
import { analyseFace, analyseImages } from '../../app/analyse-images.ts';
import type { InferenceRunner, ModelName, Tensor, TopClassReduction } from '../../ports/inference.ts';
import type { LineOcr, LineReading, OcrScript } from '../../ports/line-ocr.ts';
import type { RgbImage } from '../../pipeline/image/rgb-image.ts';
import { owned } from '../onnx/transfer.ts';
import { fromWire, toWire, type FromThread, type ThreadSetup, type ToThread } from './protocol.ts';

const port = parentPort!;
const setup = workerData as ThreadSetup;
let nextId = 1;
const waiting = new Map<number, { resolve: (v: never) => void; reject: (e: Error) => void }>();

function post(m: FromThread, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
}

/** Ask the main thread (which holds the inference threads and the line reader) and wait for its answer. */
function ask<T>(m: (id: number) => FromThread, transfer: ArrayBuffer[] = []): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    waiting.set(id, { resolve: resolve as (v: never) => void, reject });
    post(m(id), transfer);
  });
}

const inference: InferenceRunner = {
  run(model: ModelName, input: Tensor, topClass?: TopClassReduction) {
    const data = owned(input.data);
    return ask<Record<string, Tensor>>(
      (id) => ({
        type: 'infer',
        id,
        model,
        input: { data, dims: [...input.dims] },
        ...(topClass ? { topClass } : {}),
      }),
      [data.buffer as ArrayBuffer],
    );
  },
};

const lineOcr: LineOcr = {
  readLine(crop: RgbImage, script: OcrScript, mode?: 'line' | 'word') {
    return ask<LineReading>((id) => ({ type: 'read', id, crop, script, ...(mode ? { mode } : {}) }));
  },
  async close() {},
};

const deps = { ...setup, inference, lineOcr };

port.on('message', (m: ToThread) => {
  if (m.type === 'analyse' || m.type === 'face') {
    const work =
      m.type === 'analyse' ? analyseImages(deps, m.request, m.images) : analyseFace(deps, m.request, m.image);
    work.then(
      (analysis) => post({ type: 'analysed', id: m.id, analysis }),
      (e: unknown) => post({ type: 'analysed', id: m.id, error: toWire(e) }),
    );
    return;
  }
  const w = waiting.get(m.id);
  if (!w) return;
  waiting.delete(m.id);
  if (m.error) w.reject(fromWire(m.error));
  else w.resolve((m.type === 'inferred' ? m.outputs : m.reading) as never);
});
post({ type: 'ready' });
