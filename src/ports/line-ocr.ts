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
  readLine(crop: RgbImage, script: OcrScript): Promise<LineReading>;
  close(): Promise<void>;
}
