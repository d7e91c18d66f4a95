import { parentPort, workerData } from 'node:worker_threads';
import type { ModelName, Tensor, TopClassReduction } from '../../ports/inference.ts';
import type { ModelManifest } from '../../pipeline/face/model-manifest.ts';
import { OnnxRunner } from './onnx-runner.ts';
import { tensorBuffers } from './transfer.ts';

/** A run request from the main thread, and the answer it gets. */
export interface RunRequest {
  id: number;
  model: ModelName;
  input: Tensor;
  topClass?: TopClassReduction;
}
export type RunAnswer =
  | { id: number; outputs: Record<string, Tensor> }
  | { id: number; error: string }
  | { ready: true }
  | { failed: string };

const port = parentPort!;
const { manifest, threads } = workerData as { manifest: ModelManifest; threads: number };
try {
  const runner = await OnnxRunner.load(manifest, { threads });
  port.on('message', (req: RunRequest) => {
    runner.run(req.model, req.input, req.topClass).then(
      (outputs) => {
        const answer: RunAnswer = { id: req.id, outputs };
        port.postMessage(answer, tensorBuffers(outputs));
      },
      (e: unknown) => port.postMessage({ id: req.id, error: String(e) } satisfies RunAnswer),
    );
  });
  port.postMessage({ ready: true } satisfies RunAnswer);
} catch (e) {
  port.postMessage({ failed: String(e) } satisfies RunAnswer);
}
