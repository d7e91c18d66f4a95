import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stretchContrast } from './stretch-contrast.ts';

test('a faded image is stretched to full range; a flat one is left alone', () => {
  const w = 100;
  const data = new Uint8Array(w * 3);
  for (let x = 0; x < w; x++) data.fill(140 + Math.round((x / (w - 1)) * 60), x * 3, x * 3 + 3);
  const out = stretchContrast({ width: w, height: 1, data });
  assert.ok(out.data[0]! <= 3 && out.data[(w - 1) * 3]! >= 252, `${out.data[0]} ${out.data[(w - 1) * 3]}`);
  const flat = { width: 4, height: 1, data: new Uint8Array(12).fill(150) };
  assert.equal(stretchContrast(flat), flat);
});
