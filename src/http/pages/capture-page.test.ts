import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import {
  CHROMIUM,
  NO_CHROMIUM,
  SHARED_DATA,
  SHOTS,
  startTestServer,
  type TestServer,
} from '../../../test/helpers.ts';

// Real Chromium (Debian package) with a simulated camera fed from generated images (shared/TESTING.md).
const missing = NO_CHROMIUM;

/** A card-like document with the portrait of `face` on it, and a back side with text-like stripes. */
async function cardImages(dir: string, face: string): Promise<{ front: string; back: string }> {
  const portrait = await sharp(face).resize(260, 330, { fit: 'cover', position: 'top' }).jpeg().toBuffer();
  const base = () =>
    sharp({ create: { width: 1000, height: 630, channels: 3, background: '#e9efe6' } }).composite([
      {
        input: Buffer.from(
          `<svg width="1000" height="630"><rect x="0" y="0" width="1000" height="90" fill="#2f6b4f"/>${[0, 1, 2, 3, 4].map((i) => `<rect x="340" y="${150 + i * 70}" width="${520 - i * 40}" height="26" fill="#44505a"/>`).join('')}</svg>`,
        ),
      },
    ]);
  const front = path.join(dir, 'front.png');
  const frontBuf = await base().png().toBuffer();
  await sharp(frontBuf)
    .composite([{ input: portrait, left: 50, top: 150 }])
    .png()
    .toFile(front);
  const back = path.join(dir, 'back.png');
  await base().png().toFile(back);
  return { front, back };
}

/** A still image on a 1280×720 dark table, as a fake-camera .y4m file. */
async function y4m(dir: string, name: string, image: string): Promise<string> {
  const framed = path.join(dir, `${name}-frame.png`);
  const inner = await sharp(image).resize(1100, 640, { fit: 'inside' }).toBuffer();
  await sharp({ create: { width: 1280, height: 720, channels: 3, background: '#3b3b3b' } })
    .composite([{ input: inner, gravity: 'centre' }])
    .png()
    .toFile(framed);
  const out = path.join(dir, `${name}.y4m`);
  execFileSync('ffmpeg', [
    '-loglevel',
    'error',
    '-y',
    '-loop',
    '1',
    '-i',
    framed,
    '-vf',
    'format=yuv420p',
    '-t',
    '1',
    '-r',
    '5',
    out,
  ]);
  return out;
}

async function captureStep(url: string, camera: string, shot: string): Promise<string> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${camera}`,
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
    const external: string[] = [];
    page.on('request', (r) => {
      if (
        !r.url().startsWith(new URL(url).origin) &&
        !r.url().startsWith('blob:') &&
        !r.url().startsWith('data:')
      )
        external.push(r.url());
    });
    await page.goto(url);
    await page.waitForSelector('body[data-state="ready"]');
    await page.screenshot({ path: `${shot}-intro.png` });
    await page.click('#start');
    const title = await page.textContent('#step-title');
    await page.waitForFunction(() => (document.getElementById('video') as HTMLVideoElement).videoWidth > 0);
    await page.screenshot({ path: `${shot}-camera.png` });
    await page.click('#shoot');
    await page.waitForSelector('#use:not([hidden])');
    await page.screenshot({ path: `${shot}-review.png` });
    await page.click('#use');
    await page.waitForFunction(
      (t) =>
        document.body.dataset.state === 'done' || document.getElementById('step-title')!.textContent !== t,
      title,
      { timeout: 30_000 },
    );
    assert.deepEqual(external, [], 'the page made no third-party request');
    return (await page.evaluate(() => document.documentElement.dir)) ?? '';
  } finally {
    await browser.close();
  }
}

describe('hosted capture page in real Chromium', { skip: missing }, () => {
  let s: TestServer;
  let base: string;
  let key: string;
  let work: string;
  let cams: { front: string; back: string; selfie: string };

  before(async () => {
    s = await startTestServer({ HUWIYA_RATE_LIMIT_PER_MINUTE: '10000' });
    base = await s.app.listen({ port: 0, host: '127.0.0.1' });
    key = await s.key();
    work = mkdtempSync(path.join(os.tmpdir(), 'huwiya-capture-'));
    mkdirSync(SHOTS, { recursive: true });
    const faces = path.join(SHARED_DATA!, 'faces/deepface');
    const card = await cardImages(work, path.join(faces, 'img1.jpg'));
    cams = {
      front: await y4m(work, 'front', card.front),
      back: await y4m(work, 'back', card.back),
      selfie: await y4m(work, 'selfie', path.join(faces, 'img2.jpg')),
    };
  });
  after(async () => {
    await s.close();
    rmSync(work, { recursive: true, force: true });
  });

  for (const locale of ['en', 'ar'] as const) {
    test(`front, back and selfie captured and completed (${locale})`, async () => {
      const created = await s.app.inject({
        method: 'POST',
        url: '/v1/identity/sessions',
        headers: { authorization: `Bearer ${key}` },
        payload: {
          document_type: 'cin',
          country: 'MA',
          locale,
          checks: ['face_match', 'liveness'],
          liveness_challenge: 'off',
        },
      });
      assert.equal(created.statusCode, 201, created.body);
      const session = created.json() as { id: string; url: string; client_token: string };
      const url = session.url.replace(/^https?:\/\/[^/]+/, base);
      for (const part of ['front', 'back', 'selfie'] as const) {
        const dir = await captureStep(url, cams[part], path.join(SHOTS, `${locale}-${part}`));
        assert.equal(dir, locale === 'ar' ? 'rtl' : 'ltr');
      }
      const after = await s.app.inject({
        method: 'GET',
        url: `/v1/identity/sessions/${session.id}`,
        headers: { authorization: `Bearer ${key}` },
      });
      const sess = after.json() as { status: string; verification_id: string };
      assert.equal(sess.status, 'completed');
      let status = 'pending';
      for (let i = 0; i < 100 && status === 'pending'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const v = await s.app.inject({
          method: 'GET',
          url: `/v1/identity/verifications/${sess.verification_id}`,
          headers: { authorization: `Bearer ${key}` },
        });
        status = (v.json() as { status: string }).status;
      }
      assert.notEqual(status, 'pending', 'the verification reached a final status');
      // The client token cannot act on another session or once the session is completed.
      const again = await s.app.inject({
        method: 'POST',
        url: `/v1/identity/sessions/${session.id}/complete`,
        headers: { authorization: `Bearer ${session.client_token}` },
      });
      assert.equal(again.statusCode, 409);
    });
  }
});
