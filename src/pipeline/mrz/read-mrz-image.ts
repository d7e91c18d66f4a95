import { readMrz, type MrzReading } from '../../domain/mrz/read-mrz.ts';
import type { InferenceRunner } from '../../ports/inference.ts';
import { rotateRight, type Rect, type RgbImage } from '../image/rgb-image.ts';
import { detectText } from '../ocr/detect-text.ts';
import { recognizeText } from '../ocr/recognize-text.ts';
import { groupRows } from '../ocr/text-rows.ts';

const MRZ_ALPHABET: ReadonlySet<string> = new Set('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<'.split(''));

export interface MrzImageReading {
  reading: MrzReading;
  /** Rows of the MRZ band in the (rotated) image. */
  rows: Rect[];
  rotation: 0 | 90 | 180 | 270;
  /** Mean recogniser confidence over the MRZ lines. */
  ocrConfidence: number;
  times: { detect: number; recognize: number };
}

export interface MrzDeps {
  inference: InferenceRunner;
  charset: readonly string[];
}

/**
 * A row that reads like an MRZ line: long, made of the MRZ alphabet, and either with fillers or with the
 * length of a TD1/TD2/TD3 line and enough digits (a full second line may have no filler at all).
 */
function mrzLike(text: string): boolean {
  if (text.length < 20) return false;
  if ((text.match(/</g)?.length ?? 0) >= 1) return true;
  const digits = text.match(/[0-9]/g)?.length ?? 0;
  return [30, 36, 44].some((n) => Math.abs(text.length - n) <= 3) && digits >= 8;
}

async function readUpright(img: RgbImage, deps: MrzDeps, today: Date, times: MrzImageReading['times']) {
  let t0 = performance.now();
  const rows = groupRows(await detectText(img, deps)).filter((r) => r.width / Math.max(1, r.height) > 6);
  times.detect += performance.now() - t0;
  t0 = performance.now();
  // Read from the bottom up: the MRZ is the lowest band of the page or card.
  const lines: { rect: Rect; text: string; confidence: number }[] = [];
  for (const rect of [...rows].reverse()) {
    const padY = rect.height * 0.15;
    const r = await recognizeText(
      img,
      { x: rect.x, y: rect.y - padY, width: rect.width, height: rect.height + 2 * padY },
      deps,
      MRZ_ALPHABET,
    );
    if (mrzLike(r.text)) lines.unshift({ rect, text: r.text, confidence: r.confidence });
    else if (lines.length >= 2) break;
    if (lines.length === 3) break;
  }
  times.recognize += performance.now() - t0;
  if (lines.length < 2) return undefined;
  const reading = readMrz(
    lines.map((l) => l.text),
    { today },
  );
  return { reading, lines };
}

/**
 * Find and read the MRZ of a document image (upright, then upside down, then on its sides). The lines go
 * to the domain reader, which sizes them and corrects OCR confusions against the check digits.
 */
export async function readMrzFromImage(
  img: RgbImage,
  deps: MrzDeps,
  today: Date,
): Promise<MrzImageReading | undefined> {
  const times = { detect: 0, recognize: 0 };
  let best: MrzImageReading | undefined;
  for (const rotation of [0, 180, 90, 270] as const) {
    const view = rotation === 0 ? img : await rotateRight(img, rotation);
    const r = await readUpright(view, deps, today, times);
    if (!r || r.reading.format === undefined) continue;
    const candidate: MrzImageReading = {
      reading: r.reading,
      rows: r.lines.map((l) => l.rect),
      rotation,
      ocrConfidence: r.lines.reduce((s, l) => s + l.confidence, 0) / r.lines.length,
      times,
    };
    if (!best || (candidate.reading.checkDigitsValid && !best.reading.checkDigitsValid)) best = candidate;
    if (candidate.reading.checkDigitsValid) break;
  }
  return best;
}
