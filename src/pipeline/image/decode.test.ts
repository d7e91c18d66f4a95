import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { HuwiyaError } from '../../domain/errors.ts';
import { decodeImage, sniffImageFormat } from './decode.ts';

const LIMITS = { maxImageBytes: 15 * 1024 * 1024, maxImagePixels: 50_000_000 };

async function coded(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof HuwiyaError && e.code === code);
}

test('formats are sniffed from the bytes', async () => {
  const img = sharp({ create: { width: 64, height: 48, channels: 3, background: '#808080' } });
  assert.equal(sniffImageFormat(await img.clone().jpeg().toBuffer()), 'jpeg');
  assert.equal(sniffImageFormat(await img.clone().png().toBuffer()), 'png');
  assert.equal(sniffImageFormat(await img.clone().webp().toBuffer()), 'webp');
  assert.equal(sniffImageFormat(await img.clone().gif().toBuffer()), undefined);
  assert.equal(sniffImageFormat(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')), undefined);
});

test('EXIF orientation is applied', async () => {
  // 200×100 stored, orientation 6 (rotate 90° clockwise to view) → upright 100×200.
  const bytes = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#808080' } })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .toBuffer();
  const d = await decodeImage(bytes, 'selfie', LIMITS);
  assert.equal(d.originalWidth, 100);
  assert.equal(d.originalHeight, 200);
  assert.equal(d.image.width, 100);
  assert.equal(d.image.data.length, 100 * 200 * 3);
});

test('large images get a working copy of at most 1600 px, grey images become RGB', async () => {
  const bytes = await sharp({ create: { width: 4000, height: 3000, channels: 3, background: '#808080' } })
    .toColourspace('b-w')
    .jpeg()
    .toBuffer();
  const d = await decodeImage(bytes, 'document_front', LIMITS);
  assert.equal(Math.max(d.image.width, d.image.height), 1600);
  assert.equal(d.image.data.length, d.image.width * d.image.height * 3);
});

test('bad inputs are coded errors naming the field', async () => {
  await coded(decodeImage(Buffer.from('hello, not an image'), 'selfie', LIMITS), 'unsupported_media_type');
  const jpeg = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#336699' } })
    .jpeg()
    .toBuffer();
  await coded(
    decodeImage(jpeg.subarray(0, Math.floor(jpeg.length * 0.5)), 'selfie', LIMITS),
    'image_corrupt',
  );
  await coded(decodeImage(jpeg, 'selfie', { ...LIMITS, maxImageBytes: 100 }), 'image_too_large');
  const bomb = await sharp({
    create: { width: 20000, height: 20000, channels: 3, background: '#000' },
    limitInputPixels: false,
  })
    .toColourspace('b-w')
    .png({ compressionLevel: 9 })
    .toBuffer();
  await coded(decodeImage(bomb, 'document_front', LIMITS), 'image_dimensions_exceeded');
  const tiny = await sharp({ create: { width: 10, height: 10, channels: 3, background: '#000' } })
    .png()
    .toBuffer();
  await coded(decodeImage(tiny, 'selfie', LIMITS), 'image_too_small');
  try {
    await decodeImage(Buffer.from('nope'), 'document_back', LIMITS);
  } catch (e) {
    assert.equal((e as HuwiyaError).param, 'document_back');
  }
});
