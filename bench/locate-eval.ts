// Document locator accuracy on the DLC-2021 grey-copy frames (ground_truth.json with doc_quad_xy).
// Frames are scaled to the production working size (long side ≤ 1600 px) before locating.
//   node --import tsx bench/locate-eval.ts [dir]
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { RgbImage } from '../src/pipeline/image/rgb-image.ts';
import { locateDocument, type Point } from '../src/pipeline/document/locate-document.ts';

const WORKING_MAX_SIDE = 1600;

export const DEFAULT_LOCATE_DIR = fileURLToPath(
  new URL('../../shared/data/fraud/dlc2021-gray-copy/', import.meta.url),
);

interface GroundTruth {
  items: { image: string; doc_type: string; doc_quad_xy: [number, number][] }[];
}

export interface LocateEval {
  frames: number;
  found: number;
  medianError: number;
  meanError: number;
  p90Error: number;
  within5pct: number;
  medianMs: number;
  byType: Record<string, { frames: number; medianError: number }>;
}

export interface FrameResult {
  image: string;
  docType: string;
  error: number;
  ms: number;
  found: boolean;
}

/**
 * Mean corner distance over the quad diagonal, with the best cyclic correspondence (either direction)
 * since ground truth follows the document's reading order, not the image's.
 */
export function cornerError(found: readonly Point[], truth: readonly Point[]): number {
  const diag = Math.max(
    Math.hypot(truth[0]!.x - truth[2]!.x, truth[0]!.y - truth[2]!.y),
    Math.hypot(truth[1]!.x - truth[3]!.x, truth[1]!.y - truth[3]!.y),
  );
  let best = Infinity;
  for (const dir of [1, -1]) {
    for (let shift = 0; shift < 4; shift++) {
      let s = 0;
      for (let i = 0; i < 4; i++) {
        const f = found[(((shift + dir * i) % 4) + 4) % 4]!;
        s += Math.hypot(f.x - truth[i]!.x, f.y - truth[i]!.y);
      }
      best = Math.min(best, s / 4);
    }
  }
  return best / diag;
}

export async function loadWorkingImage(file: string | Buffer): Promise<{ img: RgbImage; scale: number }> {
  const meta = await sharp(file).metadata();
  const long = Math.max(meta.width ?? 0, meta.height ?? 0);
  const scale = Math.min(1, WORKING_MAX_SIDE / long);
  const { data, info } = await sharp(file)
    .resize({
      width: Math.round((meta.width ?? 0) * scale),
      height: Math.round((meta.height ?? 0) * scale),
      fit: 'fill',
    })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    img: {
      width: info.width,
      height: info.height,
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    },
    scale: info.width / (meta.width ?? info.width),
  };
}

const quantile = (v: number[], q: number): number => {
  if (!v.length) return NaN;
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

export async function evaluateLocateFrames(dir: string): Promise<FrameResult[]> {
  const gt = JSON.parse(await readFile(path.join(dir, 'ground_truth.json'), 'utf8')) as GroundTruth;
  const out: FrameResult[] = [];
  for (const item of gt.items) {
    const { img, scale } = await loadWorkingImage(path.join(dir, item.image));
    const truth = item.doc_quad_xy.map(([x, y]) => ({ x: x * scale, y: y * scale }));
    const t0 = performance.now();
    const quad = locateDocument(img);
    const ms = performance.now() - t0;
    const whole = [
      { x: 0, y: 0 },
      { x: img.width, y: 0 },
      { x: img.width, y: img.height },
      { x: 0, y: img.height },
    ];
    // A miss counts as "the whole image", which is what callers fall back to.
    const error = cornerError(quad?.corners ?? whole, truth);
    out.push({ image: item.image, docType: item.doc_type, error, ms, found: !!quad });
  }
  return out;
}

export async function evaluateLocate(dir: string = DEFAULT_LOCATE_DIR): Promise<LocateEval> {
  const frames = await evaluateLocateFrames(dir);
  const errors = frames.map((f) => f.error);
  const byType: LocateEval['byType'] = {};
  for (const t of [...new Set(frames.map((f) => f.docType))].sort()) {
    const e = frames.filter((f) => f.docType === t).map((f) => f.error);
    byType[t] = { frames: e.length, medianError: quantile(e, 0.5) };
  }
  return {
    frames: frames.length,
    found: frames.filter((f) => f.found).length,
    medianError: quantile(errors, 0.5),
    meanError: errors.reduce((s, v) => s + v, 0) / Math.max(1, errors.length),
    p90Error: quantile(errors, 0.9),
    within5pct: errors.filter((e) => e <= 0.05).length,
    medianMs: quantile(
      frames.map((f) => f.ms),
      0.5,
    ),
    byType,
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? DEFAULT_LOCATE_DIR;
  const frames = await evaluateLocateFrames(dir);
  if (process.env.LOCATE_VERBOSE) {
    for (const f of frames)
      console.log(`${f.image.padEnd(36)} ${(100 * f.error).toFixed(2)}% ${f.ms.toFixed(0)} ms`);
  }
  const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;
  const rows: string[][] = [['doc_type', 'frames', 'found', 'median', 'mean', 'p90', '≤5%']];
  const groups = [...new Set(frames.map((f) => f.docType))].sort();
  for (const t of [...groups, 'all']) {
    const fs = t === 'all' ? frames : frames.filter((f) => f.docType === t);
    const e = fs.map((f) => f.error);
    rows.push([
      t,
      String(fs.length),
      String(fs.filter((f) => f.found).length),
      pct(quantile(e, 0.5)),
      pct(e.reduce((s, v) => s + v, 0) / e.length),
      pct(quantile(e, 0.9)),
      String(e.filter((v) => v <= 0.05).length),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => c.padStart(widths[i]!)).join('  '));
  console.log(
    `median ${quantile(
      frames.map((f) => f.ms),
      0.5,
    ).toFixed(1)} ms per frame`,
  );
}
