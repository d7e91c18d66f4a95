/**
 * How far a document's side ratio, read off its outline in a photo, is from its true one: as the sides
 * show it in the image, and with a phone camera's perspective undone at several assumed focal lengths
 * (src/pipeline/document/rectangle-aspect.ts, TYPICAL_FOCAL). On DLC-2021's hand-held frames at their
 * ground-truth outlines (ID-1 cards 85.60 / 53.98, passport data pages 125 / 88).
 *
 *   node --import tsx bench/eval-aspect.ts
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { imageAspect, rectangleAspect } from '../src/pipeline/document/rectangle-aspect.ts';
import { SHARED_DATA } from '../test/helpers.ts';
import { table } from './metrics.ts';

const FOCALS = [0.6, 0.85, 1.1, 1.5];
const landscape = (r: number) => Math.max(r, 1 / r);

export async function evaluateAspect(): Promise<string> {
  if (!SHARED_DATA) return 'skipped: ../shared/data is absent';
  const dir = path.join(SHARED_DATA, 'fraud/dlc2021-gray-copy');
  const gt = JSON.parse(readFileSync(path.join(dir, 'ground_truth.json'), 'utf8')) as {
    items: { image: string; doc_type: string; doc_quad_xy: [number, number][] }[];
  };
  const errors = new Map<string, number[][]>();
  for (const it of gt.items) {
    const meta = await sharp(path.join(dir, it.image)).metadata();
    const frame = { width: meta.width ?? 0, height: meta.height ?? 0 };
    const corners = it.doc_quad_xy.map(([x, y]) => ({ x, y }));
    const truth = it.doc_type.includes('passport') ? 125 / 88 : 85.6 / 53.98;
    const row = [
      landscape(imageAspect(corners)),
      ...FOCALS.map((f) => landscape(rectangleAspect(corners, frame, f))),
    ].map((r) => Math.abs(r - truth));
    const rows = errors.get(it.doc_type) ?? [];
    rows.push(row);
    errors.set(it.doc_type, rows);
  }
  const all = [...errors.values()].flat();
  const stat = (rows: number[][], j: number) => {
    const v = rows.map((r) => r[j]!);
    const rms = Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
    return `${rms.toFixed(3)} / ${Math.max(...v).toFixed(3)}`;
  };
  const head = ['document', 'frames', 'image sides', ...FOCALS.map((f) => `undone, focal ${f}`)];
  // One column per way of reading the ratio: the image's sides, then each focal length.
  const columns = [-1, ...FOCALS].map((_, j) => j);
  return (
    'Side ratio error, rms / max (focal: share of the frame long side)\n\n' +
    table([
      head,
      ...[...errors.entries()].map(([t, rows]) => [t, rows.length, ...columns.map((j) => stat(rows, j))]),
      ['all', all.length, ...columns.map((j) => stat(all, j))],
    ])
  );
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await evaluateAspect());
