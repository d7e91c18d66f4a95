import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import {
  CHROMIUM,
  NO_CHROMIUM,
  SHARED_DATA,
  SHOTS,
  startTestServer,
  type TestServer,
} from '../../../test/helpers.ts';
import { flatPose, turnHead } from '../../../test/synth/head-turn.ts';
import { detectFaces } from '../../pipeline/face/detect.ts';
import { detectLandmarks } from '../../pipeline/face/landmarks.ts';
import { decodeImage } from '../../pipeline/image/decode.ts';
import { encodeJpeg, resizeTo } from '../../pipeline/image/rgb-image.ts';

// Real Chromium (Debian package). The camera is a canvas stream standing in for a person in front of
// the phone: it shows the document for the document steps and, for the selfie and the challenge, a face
// that turns towards the arrow the page shows (`document.body.dataset.turn`), at 60° a second, drawn
// from poses rendered by test/synth/head-turn.ts. The attack shows a flat picture turned the same way.
const missing = NO_CHROMIUM;
const YAWS = [-35, -30, -25, -20, -15, -10, -5, 0, 5, 10, 15, 20, 25, 30, 35];

interface Scene {
  card: string;
  poses: Record<string, string>;
}

/**
 * Installed before the page's own scripts: getUserMedia answers the canvas stream. Plain JavaScript in a
 * string, because the test runner's compiler decorates TypeScript functions with helpers the page lacks.
 */
const FAKE_CAMERA = `(scene) => {
  const canvas = document.createElement('canvas');
  canvas.width = 640;
  canvas.height = 480;
  const ctx = canvas.getContext('2d');
  const images = new Map();
  const load = (src) => {
    let img = images.get(src);
    if (!img) {
      img = new Image();
      img.src = src;
      images.set(src, img);
    }
    return img;
  };
  let yaw = 0;
  let last = performance.now();
  const draw = () => {
    const now = performance.now();
    const dt = (now - last) / 1000;
    last = now;
    const turn = document.body && document.body.dataset.turn;
    const target = turn === 'left' ? 32 : turn === 'right' ? -32 : 0;
    yaw += Math.max(-60 * dt, Math.min(60 * dt, target - yaw));
    const frame = document.getElementById('frame');
    const card = frame && frame.className === 'card';
    const key = String(Math.round(yaw / 5) * 5);
    const img = load(card ? scene.card : scene.poses[key] || scene.poses['0']);
    ctx.fillStyle = '#333';
    ctx.fillRect(0, 0, 640, 480);
    if (img.complete && img.naturalWidth) {
      const k = Math.min(640 / img.naturalWidth, 480 / img.naturalHeight);
      const w = img.naturalWidth * k;
      const h = img.naturalHeight * k;
      ctx.drawImage(img, (640 - w) / 2, (480 - h) / 2, w, h);
    }
  };
  setInterval(draw, 40);
  // A new stream per call: the page stops the tracks of the previous step.
  Object.defineProperty(navigator, 'mediaDevices', {
    value: { getUserMedia: async () => canvas.captureStream(25) },
  });
}`;

async function poses(s: TestServer, file: string, actor: 'head' | 'flat'): Promise<Scene['poses']> {
  const d = await decodeImage(readFileSync(file), 'face', { maxImageBytes: 5e7, maxImagePixels: 1e8 });
  const k = 640 / Math.max(d.image.width, d.image.height);
  const img = await resizeTo(d.image, Math.round(d.image.width * k), Math.round(d.image.height * k));
  const deps = { inference: s.runtime.deps.inference };
  const face = (await detectFaces(img, deps))[0]!;
  const landmarks = await detectLandmarks(img, face, deps);
  const out: Scene['poses'] = {};
  for (const yaw of YAWS) {
    const frame =
      actor === 'head'
        ? turnHead(img, landmarks, { yaw })
        : flatPose(img, landmarks, { yaw: yaw * 1.2, dx: yaw / 150, focal: 1.0 }).image;
    out[String(yaw)] = `data:image/jpeg;base64,${(await encodeJpeg(frame, 85)).toString('base64')}`;
  }
  return out;
}

async function shoot(page: Page): Promise<void> {
  await page.waitForSelector('#shoot:not([hidden])');
  await page.waitForFunction(() => (document.getElementById('video') as HTMLVideoElement).videoWidth > 0);
  await page.click('#shoot');
  await page.waitForSelector('#use:not([hidden])');
  const title = await page.textContent('#step-title');
  await page.click('#use');
  await page.waitForFunction(
    (t) =>
      document.getElementById('step-title')!.textContent !== t ||
      document.getElementById('feedback')!.className === 'bad',
    title,
    { timeout: 30_000 },
  );
  const refused = await page.evaluate(() =>
    document.getElementById('feedback')!.className === 'bad'
      ? document.getElementById('feedback')!.textContent
      : '',
  );
  assert.equal(refused, '', 'the upload was accepted');
}

describe('hosted capture page: head-turn challenge in real Chromium', { skip: missing }, () => {
  let s: TestServer;
  let base: string;
  let key: string;
  let head: Scene;
  let flat: Scene;

  before(async () => {
    s = await startTestServer({ HUWIYA_RATE_LIMIT_PER_MINUTE: '10000' });
    base = await s.app.listen({ port: 0, host: '127.0.0.1' });
    key = await s.key();
    mkdirSync(SHOTS, { recursive: true });
    const face = path.join(SHARED_DATA!, 'faces/deepface/img1.jpg');
    const card = `data:image/jpeg;base64,${readFileSync(face).toString('base64')}`;
    head = { card, poses: await poses(s, face, 'head') };
    flat = { card, poses: await poses(s, face, 'flat') };
  });
  after(async () => s.close());

  async function run(locale: 'en' | 'fr' | 'ar', scene: Scene, shot: string) {
    const created = await s.app.inject({
      method: 'POST',
      url: '/v1/identity/sessions',
      headers: { authorization: `Bearer ${key}` },
      payload: { document_type: 'passport', country: 'MA', locale, checks: ['liveness'] },
    });
    assert.equal(created.statusCode, 201, created.body);
    const session = created.json() as { id: string; url: string; required: string[] };
    assert.deepEqual(session.required, ['front', 'selfie', 'liveness_challenge']);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
      await page.addInitScript({ content: `(${FAKE_CAMERA})(${JSON.stringify(scene)});` });
      page.on('console', (m) => process.env.DEBUG && console.error('page:', m.text()));
      page.on('pageerror', (e) => console.error('page error:', e.message));
      await page.goto(session.url.replace(/^https?:\/\/[^/]+/, base));
      await page.waitForSelector('body[data-state="ready"]');
      await page.click('#start');
      await shoot(page); // front
      await shoot(page); // selfie
      await page.waitForSelector('#challenge-go:not([hidden])');
      await page.screenshot({ path: `${shot}-ready.png` });
      await page.click('#challenge-go');
      await page.waitForFunction(() => ['left', 'right'].includes(document.body.dataset.turn ?? ''));
      await page.waitForTimeout(700);
      await page.screenshot({ path: `${shot}-turn.png` });
      await page.waitForFunction(() => document.body.dataset.challenge !== undefined, undefined, {
        timeout: 60_000,
      });
      await page.screenshot({ path: `${shot}-result.png` });
      const outcome = await page.evaluate(() => ({
        challenge: document.body.dataset.challenge,
        feedback: document.getElementById('feedback')!.textContent,
        dir: document.documentElement.dir,
      }));
      return { page, session, outcome, browser };
    } catch (e) {
      await browser.close();
      throw e;
    }
  }

  for (const locale of ['en', 'fr', 'ar'] as const) {
    test(`a person turning as the arrows ask passes and the session completes (${locale})`, async () => {
      const { page, session, outcome, browser } = await run(
        locale,
        head,
        path.join(SHOTS, `${locale}-challenge`),
      );
      try {
        assert.equal(outcome.challenge, 'passed', outcome.feedback ?? '');
        assert.equal(outcome.dir, locale === 'ar' ? 'rtl' : 'ltr');
        await page.waitForSelector('body[data-state="done"]', { timeout: 30_000 });
      } finally {
        await browser.close();
      }
      const r = await s.app.inject({
        method: 'GET',
        url: `/v1/identity/sessions/${session.id}`,
        headers: { authorization: `Bearer ${key}` },
      });
      const sess = r.json() as { status: string; liveness_challenge: { status: string } };
      assert.equal(sess.status, 'completed');
      assert.equal(sess.liveness_challenge.status, 'passed');
    });
  }

  test('a flat picture turned the way the arrows ask fails and is offered another try', async () => {
    const { page, outcome, browser } = await run('en', flat, path.join(SHOTS, 'en-challenge-flat'));
    try {
      assert.equal(outcome.challenge, 'failed');
      assert.match(outcome.feedback ?? '', /could not see a head turning/);
      assert.equal(await page.isVisible('#challenge-go'), true);
    } finally {
      await browser.close();
    }
  });
});
