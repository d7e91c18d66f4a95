import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import { createWorker, OEM, PSM, type Worker } from 'tesseract.js';
import type { RgbImage } from '../../pipeline/image/rgb-image.ts';
import type { LineOcr, LineReading, OcrScript } from '../../ports/line-ocr.ts';

const require = createRequire(import.meta.url);

/**
 * The traineddata of each script, from its npm package (`@tesseract.js-data/<lang>`). `4.0.0` holds the
 * float "best" LSTM models: on the Moroccan specimen's Arabic names they read what the `best_int` ones
 * split (e.g. "العلمي" vs "ا لعلمي"), at the same speed.
 */
const LANGS: Record<OcrScript, { lang: string; dir: string }> = {
  // English only: tesseract.js reads every language of a worker from one folder, and the packages keep
  // one language each; accents on upper-case names are folded by the normaliser anyway.
  latin: { lang: 'eng', dir: '4.0.0_best_int' },
  arabic: { lang: 'ara', dir: '4.0.0' },
};

/** How long closing waits for the readings in flight before stopping the workers anyway. */
const CLOSE_GRACE_MS = 5000;

function langPath(lang: string, dir: string): string {
  return path.join(path.dirname(require.resolve(`@tesseract.js-data/${lang}/package.json`)), dir);
}

/**
 * Tesseract (LSTM) through tesseract.js, one worker per script, created on first use. Offline by
 * construction: `langPath` points into node_modules, `cacheMethod: 'none'` keeps it from writing
 * traineddata into the working directory (MODELS.md, pitfalls). Calls on one worker are serialised by
 * tesseract.js itself.
 */
export class TesseractLineOcr implements LineOcr {
  private readonly workers = new Map<string, Promise<Worker>>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;

  /** One worker per script and page-segmentation mode (a worker's mode is global to it). */
  private worker(script: OcrScript, mode: 'line' | 'block' | 'word'): Promise<Worker> {
    // A reading still running when the service shuts down (one dropped as not needed) must not start a
    // worker after close: that thread would keep the process alive.
    if (this.closed) return Promise.reject(new Error('line OCR is closed'));
    const key = `${script}:${mode}`;
    let w = this.workers.get(key);
    if (!w) {
      const { lang, dir } = LANGS[script];
      w = (async () => {
        const worker = await createWorker(lang, OEM.LSTM_ONLY, {
          langPath: langPath(lang, dir),
          gzip: true,
          cacheMethod: 'none',
          errorHandler: () => undefined,
        });
        await worker.setParameters({
          tessedit_pageseg_mode:
            mode === 'line' ? PSM.SINGLE_LINE : mode === 'word' ? PSM.SINGLE_WORD : PSM.SINGLE_BLOCK,
          // Crops are made at a known scale; tesseract's own guess from the PNG header is meaningless.
          user_defined_dpi: '300',
        });
        return worker;
      })();
      this.workers.set(key, w);
    }
    return w;
  }

  async readLine(crop: RgbImage, script: OcrScript, mode: 'line' | 'word' = 'line'): Promise<LineReading> {
    const png = await sharp(Buffer.from(crop.data.buffer, crop.data.byteOffset, crop.data.length), {
      raw: { width: crop.width, height: crop.height, channels: 3 },
    })
      .png({ compressionLevel: 1 })
      .toBuffer();
    const read = async (m: 'line' | 'block' | 'word') => {
      const worker = await this.worker(script, m);
      // Closed while the worker was awaited: recognising on a terminated tesseract.js worker never
      // settles, and its failed send surfaces as an unhandled rejection.
      if (this.closed) throw new Error('line OCR is closed');
      const job = worker.recognize(png);
      this.inFlight.add(job);
      try {
        const r = await job;
        return {
          text: r.data.text.replace(/\s+/g, ' ').trim(),
          confidence: Math.max(0, r.data.confidence) / 100,
        };
      } finally {
        this.inFlight.delete(job);
      }
    };
    if (mode === 'word') return read('word');
    const line = await read('line');
    // In single-line mode Tesseract sometimes finds no line at all in a clean crop (a generated
    // "آيت سعيد" came back empty, and read right as a block): the block mode is the fallback.
    return line.text ? line : read('block');
  }

  async close(): Promise<void> {
    this.closed = true;
    // A reading in flight (one dropped as not needed) finishes first: tesseract.js terminated under a
    // job it is starting throws from a promise nobody holds (seen in a test as "Cannot read properties
    // of null (reading 'postMessage')" after the test ended).
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise((r) => setTimeout(r, CLOSE_GRACE_MS).unref()),
    ]);
    const all = [...this.workers.values()];
    this.workers.clear();
    await Promise.all(all.map(async (w) => (await w).terminate()));
  }
}
