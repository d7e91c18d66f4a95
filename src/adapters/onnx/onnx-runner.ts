import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import ort from 'onnxruntime-node';
import type { InferenceRunner, ModelName, Tensor, TopClassReduction } from '../../ports/inference.ts';
import type { ModelManifest } from '../../pipeline/face/model-manifest.ts';
import { reduceTopClass } from './top-class.ts';

const require = createRequire(import.meta.url);

/** Resolve a file inside an installed npm package (models ship in npm packages: MODELS.md). */
export function resolvePackageFile(pkg: string, file: string): string {
  // Not require.resolve(`${pkg}/package.json`): packages with an `exports` map may not export it.
  for (const dir of require.resolve.paths(pkg) ?? []) {
    const candidate = path.join(dir, pkg, 'package.json');
    if (existsSync(candidate)) return path.join(path.dirname(candidate), file);
  }
  throw new Error(`package ${pkg} is not installed (run npm ci)`);
}

/**
 * One onnxruntime session per model per process, created once. Spinning is off: on 2 cores the default
 * spin-wait makes the whole pipeline about twice as slow (MODELS.md). The CPU arena stays on: without it
 * a text detection on a rectified side took four times as long.
 */
export class OnnxRunner implements InferenceRunner {
  private constructor(private readonly sessions: Map<ModelName, ort.InferenceSession>) {}

  static async load(manifest: ModelManifest, options: { threads: number }): Promise<OnnxRunner> {
    const sessions = new Map<ModelName, ort.InferenceSession>();
    for (const [name, spec] of Object.entries(manifest.models) as [
      ModelName,
      ModelManifest['models'][ModelName],
    ][]) {
      const file = resolvePackageFile(spec.package, spec.file);
      const bytes = await readFile(file);
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (sha !== spec.sha256) {
        throw new Error(`model ${name}: ${file} has sha256 ${sha}, manifest expects ${spec.sha256}`);
      }
      const session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: options.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        // The memory pattern plans one block per input shape and keeps it: the text models see a new
        // shape at almost every run (line widths, side sizes), and each thread's resident memory grew by
        // about 100 MB more with it, at the same speed (measured on text detection and recognition).
        enableMemPattern: false,
        logSeverityLevel: 3,
        extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
      });
      sessions.set(name, session);
    }
    return new OnnxRunner(sessions);
  }

  async run(model: ModelName, input: Tensor, topClass?: TopClassReduction): Promise<Record<string, Tensor>> {
    const session = this.sessions.get(model);
    if (!session) throw new Error(`model ${model} is not loaded`);
    const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', input.data, input.dims as number[]) };
    const out = await session.run(feeds);
    const result: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(out)) {
      const t = { data: v.data as Float32Array, dims: v.dims };
      result[k] = topClass ? reduceTopClass(t, topClass) : t;
    }
    return result;
  }

  async close(): Promise<void> {
    for (const s of this.sessions.values()) await s.release();
    this.sessions.clear();
  }
}
