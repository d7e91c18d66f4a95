import type { RgbImage } from '../pipeline/image/rgb-image.ts';

export type OcrScript = 'latin' | 'arabic';

export interface LineReading {
  text: string;
  /** 0..1, the engine's mean word confidence. */
  confidence: number;
}

/**
 * Reads one line of printed text in a given script (the visual zone's names, places and addresses).
 * Implemented by adapters/tesseract; the pipeline hands it a crop holding a single line.
 */
export interface LineOcr {
  /** `word`: the crop holds a single word (Tesseract's line finder misses some short Arabic words). */
  readLine(crop: RgbImage, script: OcrScript, mode?: 'line' | 'word'): Promise<LineReading>;
  close(): Promise<void>;
}
