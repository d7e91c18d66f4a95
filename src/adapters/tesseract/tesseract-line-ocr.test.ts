import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TesseractLineOcr } from './tesseract-line-ocr.ts';

test('a reading asked after close fails and starts no worker (it would keep the process alive)', async () => {
  const ocr = new TesseractLineOcr();
  await ocr.close();
  const white = { width: 64, height: 32, data: new Uint8Array(64 * 32 * 3).fill(255) };
  await assert.rejects(ocr.readLine(white, 'arabic'), /closed/);
});

test('closing with readings in flight settles every one of them and leaves no stray rejection', async () => {
  const stray: unknown[] = [];
  const onStray = (e: unknown) => stray.push(e);
  process.on('unhandledRejection', onStray);
  try {
    const ocr = new TesseractLineOcr();
    const crop = { width: 240, height: 48, data: new Uint8Array(240 * 48 * 3).fill(255) };
    // The first waits for its worker to start, the second is recognising when close is called.
    const warm = new TesseractLineOcr();
    await warm.readLine(crop, 'latin');
    const duringStart = ocr.readLine(crop, 'latin').then(
      () => 'read',
      (e: unknown) => String(e),
    );
    const duringRecognition = warm.readLine(crop, 'latin').then(
      () => 'read',
      (e: unknown) => String(e),
    );
    await new Promise((r) => setTimeout(r, 20));
    await Promise.all([ocr.close(), warm.close()]);
    const hung = new Promise((r) => setTimeout(() => r('never settled'), 15_000).unref());
    const outcomes = await Promise.all([
      Promise.race([duringStart, hung]),
      Promise.race([duringRecognition, hung]),
    ]);
    assert.match(String(outcomes[0]), /read|closed/);
    assert.match(String(outcomes[1]), /read|closed/);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(stray, []);
  } finally {
    process.off('unhandledRejection', onStray);
  }
});
