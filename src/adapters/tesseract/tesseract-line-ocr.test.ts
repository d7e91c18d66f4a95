import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TesseractLineOcr } from './tesseract-line-ocr.ts';

test('a reading asked after close fails and starts no worker (it would keep the process alive)', async () => {
  const ocr = new TesseractLineOcr();
  await ocr.close();
  const white = { width: 64, height: 32, data: new Uint8Array(64 * 32 * 3).fill(255) };
  await assert.rejects(ocr.readLine(white, 'arabic'), /closed/);
});
