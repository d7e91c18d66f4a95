import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { NO_SHARED_DATA, SHARED_DATA } from '../../../test/helpers.ts';
import { createRng, randomIdentity } from '../../../test/synth/identities.ts';
import { photograph } from '../../../test/synth/photograph.ts';
import { renderDocument } from '../../../test/synth/render-document.ts';
import { LocalAnalyser } from '../../app/local-analyser.ts';
import { DEFAULT_POLICY_SETTINGS } from '../../domain/risk-policy.ts';
import { decodeImage } from '../../pipeline/image/decode.ts';
import type { AnalysedImages, AnalysisRequest } from '../../ports/analyser.ts';
import { loadCharset, loadManifest } from '../onnx/load-manifest.ts';
import { ThreadInferenceRunner } from '../onnx/thread-runner.ts';
import { TesseractLineOcr } from '../tesseract/tesseract-line-ocr.ts';
import { ThreadAnalyser } from './thread-analyser.ts';

const LIMITS = { maxImageBytes: 50e6, maxImagePixels: 100e6, syncTimeoutMs: 30_000, maxQueued: 8 };
let deps: Omit<ConstructorParameters<typeof LocalAnalyser>[0], never>;
let inference: ThreadInferenceRunner;
let lineOcr: TesseractLineOcr;

before(async () => {
  const manifest = await loadManifest();
  inference = await ThreadInferenceRunner.start(manifest, { workers: 2, threads: 1 });
  lineOcr = new TesseractLineOcr();
  deps = {
    inference,
    lineOcr,
    manifest,
    charset: await loadCharset(manifest),
    limits: LIMITS,
    policy: DEFAULT_POLICY_SETTINGS,
  };
});
after(async () => {
  await inference.close();
  await lineOcr.close();
});

const REQUEST: AnalysisRequest = {
  checks: ['ocr', 'face_match', 'liveness', 'fraud'],
  documentType: 'cin',
  country: 'MA',
  nowIso: '2026-12-07T12:00:00.000Z',
  wantEmbedding: true,
};

/** A result without its stage timings (they differ from run to run). */
function withoutTimings(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (k, x: unknown) => (k === 'timings_ms' ? undefined : x)));
}

/** A generated CNIE front whose portrait is deepface's img1, photographed, and img2 as the selfie. */
async function verification(seed: number): Promise<AnalysedImages> {
  const faces = path.join(SHARED_DATA!, 'faces/deepface');
  const rng = createRng(seed);
  const front = await renderDocument('mar_cnie_2020_front', randomIdentity(rng), {
    rng,
    portraitPath: path.join(faces, 'img1.jpg'),
  });
  const card = (await photograph(front.image, 'clean', rng)).jpeg;
  return {
    document_front: await decodeImage(card, 'document_front', LIMITS),
    selfie: await decodeImage(readFileSync(path.join(faces, 'img2.jpg')), 'selfie', LIMITS),
  };
}

test(
  'checks run on an analysis thread answer what they answer on the calling thread, and the caller keeps its images',
  { skip: NO_SHARED_DATA, timeout: 180_000 },
  async () => {
    const images = await verification(7);
    const here = await new LocalAnalyser(deps).analyse(REQUEST, images);
    const threads = await ThreadAnalyser.start({ threads: 2, ...deps });
    try {
      // Two at once, on two threads.
      const [a, b] = await Promise.all([threads.analyse(REQUEST, images), threads.analyse(REQUEST, images)]);
      for (const there of [a, b]) {
        assert.deepEqual(withoutTimings(there.checks), withoutTimings(here.checks));
        assert.deepEqual(there.extracted, here.extracted);
        assert.ok(there.selfieEmbedding instanceof Float32Array);
        assert.deepEqual([...there.selfieEmbedding], [...here.selfieEmbedding!]);
        assert.ok((there.times.embed ?? 0) > 0, 'stage times come back');
      }
      assert.equal(
        here.checks.ocr?.status,
        'passed',
        'the case is read (a comparison of two failures proves little)',
      );
      // The images were copied to the threads, not handed over.
      assert.equal(
        images.document_front!.image.data.length,
        images.document_front!.image.width * images.document_front!.image.height * 3,
      );
      assert.ok(images.selfie!.bytes.length > 0);
    } finally {
      await threads.close();
    }
  },
);

test(
  'an analysis that fails on the thread rejects with its message; the thread goes on serving',
  { timeout: 120_000 },
  async () => {
    const threads = await ThreadAnalyser.start({ threads: 1, ...deps });
    try {
      const broken: AnalysedImages = {
        selfie: {
          format: 'jpeg',
          originalWidth: 64,
          originalHeight: 64,
          // Fewer pixels than its size says.
          image: { width: 64, height: 64, data: new Uint8Array(10) },
          scale: 1,
          byteLength: 10,
          bytes: new Uint8Array(10),
          metadata: { present: false, software: [] },
        },
      };
      await assert.rejects(
        threads.analyse({ ...REQUEST, checks: ['liveness'] }, broken),
        (e: Error) => e.message.length > 0,
      );
      const blank: AnalysedImages = {
        selfie: {
          ...broken.selfie!,
          image: { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3).fill(128) },
        },
      };
      const ok = await threads.analyse({ ...REQUEST, checks: ['liveness'] }, blank);
      assert.equal(ok.checks.liveness?.status !== undefined, true);
    } finally {
      await threads.close();
    }
  },
);

test(
  'closing waits for the analyses in flight, then refuses new ones',
  { skip: NO_SHARED_DATA, timeout: 120_000 },
  async () => {
    const images = await verification(8);
    const threads = await ThreadAnalyser.start({ threads: 1, ...deps });
    const inFlight = threads.analyse(REQUEST, images);
    await new Promise((r) => setTimeout(r, 50));
    await threads.close();
    const answered = await inFlight;
    assert.ok(answered.checks.face_match, 'the analysis in flight was answered');
    await assert.rejects(threads.analyse(REQUEST, images), /closed/);
  },
);

test(
  'a face found and scored on an analysis thread is the one found in place (face endpoints)',
  { skip: NO_SHARED_DATA, timeout: 120_000 },
  async () => {
    const selfie = (await verification(9)).selfie!;
    const request = { liveness: true, screenGrid: true, tryRotations: true };
    const here = await new LocalAnalyser(deps).face(request, selfie);
    const threads = await ThreadAnalyser.start({ threads: 1, ...deps });
    try {
      const there = await threads.face(request, selfie);
      assert.ok(here.face, 'the selfie has a face');
      assert.deepEqual(there, here);
      assert.ok(typeof there.face?.liveProbability === 'number');
    } finally {
      await threads.close();
    }
  },
);
