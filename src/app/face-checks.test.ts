import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { NO_SHARED_DATA, SHARED_DATA } from '../../test/helpers.ts';
import { createRng, randomIdentity } from '../../test/synth/identities.ts';
import { photograph } from '../../test/synth/photograph.ts';
import { screenReplay } from '../../test/synth/recapture.ts';
import { renderDocument } from '../../test/synth/render-document.ts';
import { loadManifest } from '../adapters/onnx/load-manifest.ts';
import { OnnxRunner } from '../adapters/onnx/onnx-runner.ts';
import { templateById } from '../domain/documents/templates.ts';
import { decideFaceMatch, DOCUMENT_MISMATCH_MARGIN } from '../domain/face-match-policy.ts';
import { portraitCrop } from '../pipeline/document/portrait-crop.ts';
import { analyzeFace, type FaceAnalysis } from '../pipeline/face/analyze-face.ts';
import { decodeImage } from '../pipeline/image/decode.ts';
import {
  analyzeDocumentPortrait,
  faceMatchCheck,
  livenessCheck,
  SELFIE_SCREEN_GRID_SCORE,
  selfieScreenGrid,
} from './face-checks.ts';

const LIMITS = { maxImageBytes: 50e6, maxImagePixels: 100e6 };

test(
  'a portrait cut tight around the face, missed by the detector, is found inside a border',
  { skip: NO_SHARED_DATA, timeout: 120_000 },
  async () => {
    const manifest = await loadManifest();
    const inference = await OnnxRunner.load(manifest, { threads: 2 });
    try {
      // A NUAA webcam crop (forehead to chin) printed as a CNIE portrait fills the portrait box.
      const rng = createRng(1);
      const front = await renderDocument('mar_cnie_2020_front', randomIdentity(rng), {
        rng,
        portraitPath: path.join(SHARED_DATA!, 'liveness/nuaa/real/0001_00_00_01_242.jpg'),
      });
      const card = await decodeImage(front.image, 'card', LIMITS);
      const crop = portraitCrop(card.image, templateById('mar_cnie_2020')!.portrait!.box);
      assert.equal(await analyzeFace(crop, { inference }, { tryRotations: true }), undefined);
      const found = await analyzeDocumentPortrait({ inference }, crop);
      assert.ok(found, 'found inside the border');
      assert.ok(found.box.score >= 0.9, `score ${found.box.score}`);
      assert.ok(found.greyEmbedding, 'embedded in grey too');
      // Reported in the crop's own coordinates: the face covers most of it.
      const { x, y, width, height } = found.box;
      assert.ok(x > -0.1 * crop.width && y > -0.1 * crop.height, `box at ${x},${y}`);
      assert.ok(x + width < 1.1 * crop.width && y + height < 1.1 * crop.height, `box ${width}×${height}`);
      assert.ok(
        width * height > 0.3 * crop.width * crop.height,
        `box ${width}×${height} in ${crop.width}×${crop.height}`,
      );
      for (const p of found.landmarks5)
        assert.ok(p.x > 0 && p.x < crop.width && p.y > 0 && p.y < crop.height);
    } finally {
      await inference.close();
    }
  },
);

/** A face whose colour and grey embeddings point at given directions of a 4-d space. */
function face(colour: number[], grey: number[]): FaceAnalysis {
  return {
    box: { x: 0, y: 0, width: 10, height: 10, score: 1 },
    rotation: 0,
    facesFound: 1,
    landmarks5: [],
    embedding: Float32Array.from(colour),
    greyEmbedding: Float32Array.from(grey),
  };
}

test('against a document the faces are compared in grey at the document threshold; two photos in colour', async () => {
  const manifest = await loadManifest();
  const deps = {
    manifest: {
      ...manifest,
      thresholds: { ...manifest.thresholds, face_match_cosine: 0.4, document_portrait_cosine: 0.3 },
    },
  };
  // Colour embeddings orthogonal, grey ones identical.
  const selfie = face([1, 0, 0, 0], [0, 0, 1, 0]);
  const portrait = face([0, 1, 0, 0], [0, 0, 1, 0]);
  const doc = faceMatchCheck(deps, selfie, portrait, 'document');
  assert.equal(doc.match, true);
  assert.equal((doc.evidence as Record<string, unknown>).compared_in, 'grey');
  assert.equal((doc.evidence as Record<string, unknown>).cosine_threshold, 0.3);
  const photos = faceMatchCheck(deps, selfie, portrait, 'photos');
  assert.equal(photos.match, false);
  assert.equal((photos.evidence as Record<string, unknown>).compared_in, 'colour');
  assert.equal((photos.evidence as Record<string, unknown>).cosine_threshold, 0.4);
  // An older manifest without a document threshold falls back to the face match one.
  const { document_portrait_cosine: _, ...older } = deps.manifest.thresholds;
  const fallback = faceMatchCheck({ manifest: { ...manifest, thresholds: older } }, selfie, portrait);
  assert.equal((fallback.evidence as Record<string, unknown>).cosine_threshold, 0.4);
});

test('a mismatch against a printed portrait is certain only further below the threshold', () => {
  // 0.1 under the threshold: certain between two photos, weak (review) against a document.
  assert.ok(decideFaceMatch(0.3, 0.4).confidence >= 0.8);
  assert.ok(decideFaceMatch(0.3, 0.4, DOCUMENT_MISMATCH_MARGIN).confidence < 0.7);
  // Far below it, certain either way; above it, the margin is the same.
  assert.ok(decideFaceMatch(0.0, 0.4, DOCUMENT_MISMATCH_MARGIN).confidence >= 0.99);
  assert.equal(
    decideFaceMatch(0.5, 0.4, DOCUMENT_MISMATCH_MARGIN).confidence,
    decideFaceMatch(0.5, 0.4).confidence,
  );
});

test(
  'a selfie shown on a display is not live, whatever the model says, and says screen',
  { skip: NO_SHARED_DATA, timeout: 120_000 },
  async () => {
    const manifest = await loadManifest();
    const inference = await OnnxRunner.load(manifest, { threads: 2 });
    try {
      // Seed 3 puts the face on a monitor that the liveness model takes for a live face (0.80).
      const rng = createRng(3);
      const shown = await screenReplay(
        readFileSync(path.join(SHARED_DATA ?? '', 'faces/deepface/img1.jpg')),
        rng,
        'tune',
      );
      const photo = await photograph(shown.image, 'clean', rng);
      const d = await decodeImage(photo.jpeg, 'selfie', LIMITS);
      const face = await analyzeFace(d.image, { inference }, { liveness: true });
      assert.ok(face);
      const model = livenessCheck({ manifest }, face);
      assert.equal(model.is_live, true, 'the model alone is fooled');
      const grid = await selfieScreenGrid(d, face);
      assert.ok(grid !== undefined && grid >= 2 * SELFIE_SCREEN_GRID_SCORE, `grid ${grid}`);
      const c = livenessCheck({ manifest }, face, grid);
      assert.equal(c.is_live, false);
      assert.equal(c.spoof_type, 'screen');
      assert.equal(c.confidence, 1);
      assert.ok((c.spoof_probability as number) >= 0.5);
      // The same face photographed directly has no grid.
      const live = await decodeImage(
        readFileSync(path.join(SHARED_DATA ?? '', 'faces/deepface/img1.jpg')),
        'selfie',
        LIMITS,
      );
      const liveFace = await analyzeFace(live.image, { inference }, { liveness: true });
      assert.ok(liveFace);
      const liveGrid = await selfieScreenGrid(live, liveFace);
      assert.ok(liveGrid === undefined || liveGrid < SELFIE_SCREEN_GRID_SCORE, `grid ${liveGrid}`);
      assert.equal(livenessCheck({ manifest }, liveFace, liveGrid).spoof_type === 'screen', false);
    } finally {
      await inference.close();
    }
  },
);
