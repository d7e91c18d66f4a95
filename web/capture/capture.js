// Huwiya hosted capture page: camera (or file) → client-side quality hints → upload → complete → redirect.
// No framework and no third-party request; the session's client token comes in the URL fragment.
import { TEXTS, pickLocale } from './i18n.js';

const $ = (id) => document.getElementById(id);
const sessionId = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || '');
const token = new URLSearchParams(location.hash.slice(1)).get('token');
// Keep the token out of the address bar and history once read.
history.replaceState(null, '', location.pathname + location.search);
const query = new URLSearchParams(location.search);

let t = TEXTS.en;
let rules;
let session;
let steps = [];
let index = 0;
let stream;
let captured;

function text(key, vars = {}) {
  return (t[key] || TEXTS.en[key] || key).replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
}

function show(id) {
  for (const s of ['intro', 'capture', 'done', 'error']) $(s).hidden = s !== id;
}

function showError(key) {
  stopCamera();
  $('error-text').textContent = text(key);
  show('error');
}

function applyLocale(locale) {
  t = TEXTS[locale];
  document.documentElement.lang = locale;
  document.documentElement.dir = locale === 'ar' ? 'rtl' : 'ltr';
  document.title = text('title');
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = text(el.dataset.i18n);
}

async function api(method, path, body) {
  const headers = { authorization: `Bearer ${token}` };
  const init = { method, headers };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const json = await res.json().catch(() => ({}));
  if (!res.ok)
    throw Object.assign(new Error(json?.error?.message || `HTTP ${res.status}`), {
      status: res.status,
      body: json,
    });
  return json;
}

function renderProgress() {
  const ol = $('progress');
  ol.replaceChildren(
    ...steps.map((s, i) => {
      const li = document.createElement('li');
      li.className = i < index ? 'done' : i === index ? 'current' : '';
      li.setAttribute('aria-label', text(`step_${s}`));
      return li;
    }),
  );
  ol.setAttribute(
    'aria-label',
    text('step_of', { n: Math.min(index + 1, steps.length), total: steps.length }),
  );
}

function stopCamera() {
  if (stream) for (const track of stream.getTracks()) track.stop();
  stream = undefined;
}

async function openCamera(facingMode) {
  stopCamera();
  $('file-label').hidden = true;
  try {
    if (!navigator.mediaDevices?.getUserMedia) throw new Error('no getUserMedia');
    stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode, width: { ideal: 1920 }, height: { ideal: 1080 } },
      audio: false,
    });
    $('video').srcObject = stream;
    await $('video')
      .play()
      .catch(() => undefined);
    $('shoot').hidden = false;
    $('shoot').disabled = false;
  } catch {
    $('shoot').hidden = true;
    $('file-label').hidden = false;
    setFeedback(text('no_camera'), 'bad');
  }
}

function setFeedback(message, kind = '') {
  $('feedback').textContent = message;
  $('feedback').className = kind;
}

function startStep() {
  const part = steps[index];
  if (part === 'liveness_challenge') return startChallenge();
  renderProgress();
  show('capture');
  $('stage').classList.remove('mirror');
  $('turn').hidden = true;
  $('challenge-go').hidden = true;
  $('step-title').textContent = text(`step_${part}`);
  $('step-hint').textContent = text(`hint_${part}`);
  $('frame').className = part === 'selfie' ? 'face' : 'card';
  $('stage').className = part === 'selfie' ? 'face' : 'card';
  $('preview').hidden = true;
  $('video').hidden = false;
  $('retake').hidden = true;
  $('use').hidden = true;
  captured = undefined;
  setFeedback('');
  void openCamera(part === 'selfie' ? 'user' : 'environment');
}

/** The measures of pipeline/image/quality.ts, computed on the same 640-px working size. */
function measure(canvas) {
  const side = rules.workSide;
  const s = Math.min(1, side / Math.max(canvas.width, canvas.height));
  const w = Math.max(1, Math.round(canvas.width * s));
  const h = Math.max(1, Math.round(canvas.height * s));
  const small = document.createElement('canvas');
  small.width = w;
  small.height = h;
  const ctx = small.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(canvas, 0, 0, w, h);
  const data = ctx.getImageData(0, 0, w, h).data;
  const n = w * h;
  const gray = new Float32Array(n);
  let sum = 0;
  let over = 0;
  let under = 0;
  let glare = 0;
  for (let i = 0; i < n; i++) {
    const r = data[i * 4];
    const g = data[i * 4 + 1];
    const b = data[i * 4 + 2];
    const y = 0.299 * r + 0.587 * g + 0.114 * b;
    gray[i] = y;
    sum += y;
    if (y >= 250) over++;
    if (y <= 8) under++;
    if (y >= 250 && Math.max(r, g, b) - Math.min(r, g, b) < 20) glare++;
  }
  let ls = 0;
  let lq = 0;
  let c = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const lap = gray[i - 1] + gray[i + 1] + gray[i - w] + gray[i + w] - 4 * gray[i];
      ls += lap;
      lq += lap * lap;
      c++;
    }
  }
  const mean = c ? ls / c : 0;
  return {
    width: canvas.width,
    height: canvas.height,
    sharpness: c ? lq / c - mean * mean : 0,
    brightness: sum / n,
    overexposedRatio: over / n,
    underexposedRatio: under / n,
    glareRatio: glare / n,
  };
}

/** The thresholds of domain/image-quality-rules.ts (served as JSON), minus face checks (done on upload). */
function clientIssues(m, kind) {
  const issues = [];
  const long = Math.max(m.width, m.height);
  const short = Math.min(m.width, m.height);
  if (long < rules.minLongSide[kind] || short < rules.minShortSide[kind])
    issues.push(['low_resolution', 'high']);
  if (m.sharpness < rules.blurHigh) issues.push(['blurry', 'high']);
  else if (m.sharpness < rules.blurMedium) issues.push(['slightly_blurry', 'medium']);
  if (m.brightness < rules.darkBrightness || m.underexposedRatio > rules.darkUnderexposedRatio)
    issues.push(['too_dark', 'high']);
  else if (m.brightness > rules.brightBrightness || m.overexposedRatio > rules.brightOverexposedRatio)
    issues.push(['overexposed', 'high']);
  if (kind === 'document' && m.glareRatio > rules.glareMedium)
    issues.push(['glare', m.glareRatio > rules.glareHigh ? 'high' : 'medium']);
  return issues;
}

function review(canvas) {
  const part = steps[index];
  const issues = clientIssues(measure(canvas), part === 'selfie' ? 'selfie' : 'document');
  canvas.toBlob(
    (blob) => {
      captured = blob;
      $('preview').src = URL.createObjectURL(blob);
      $('preview').hidden = false;
      $('video').hidden = true;
      $('shoot').hidden = true;
      $('file-label').hidden = true;
      $('retake').hidden = false;
      $('use').hidden = false;
      const blocking = issues.filter(([, sev]) => sev === 'high');
      $('use').disabled = false;
      if (issues.length)
        setFeedback(issues.map(([code]) => text(`issue_${code}`)).join(' '), blocking.length ? 'bad' : '');
      else setFeedback(text('looks_good'), 'good');
    },
    'image/jpeg',
    0.92,
  );
}

function shoot() {
  const v = $('video');
  if (!v.videoWidth) return;
  const canvas = document.createElement('canvas');
  canvas.width = v.videoWidth;
  canvas.height = v.videoHeight;
  canvas.getContext('2d').drawImage(v, 0, 0);
  stopCamera();
  review(canvas);
}

function fromFile(file) {
  const img = new Image();
  img.onload = () => {
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    canvas.getContext('2d').drawImage(img, 0, 0);
    URL.revokeObjectURL(img.src);
    review(canvas);
  };
  img.src = URL.createObjectURL(file);
}

async function use() {
  const part = steps[index];
  $('use').disabled = true;
  $('retake').disabled = true;
  setFeedback(text('uploading'));
  try {
    const form = new FormData();
    form.append('side', part);
    form.append('image', captured, `${part}.jpg`);
    const res = await api('POST', `/v1/identity/sessions/${encodeURIComponent(sessionId)}/documents`, form);
    const blocking = (res.upload?.issues || []).filter((i) => i.severity === 'high');
    if (blocking.length) {
      setFeedback(blocking.map((i) => text(`issue_${i.code}`)).join(' '), 'bad');
      $('retake').disabled = false;
      return;
    }
    await next();
  } catch (e) {
    setFeedback(e.status === 409 ? text('expired') : text('network'), 'bad');
    $('use').disabled = false;
  } finally {
    $('retake').disabled = false;
  }
}

// --- Head-turn challenge (active liveness): the server draws the turns, the page films them. ---
const LEAD_MS = 1000;
const TURN_MS = 1800;
const CENTRE_MS = 1200;
const FRAME_MS = 250;
const FRAME_SIDE = 640;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function grabFrame() {
  const v = $('video');
  if (!v.videoWidth) return undefined;
  const s = Math.min(1, FRAME_SIDE / Math.max(v.videoWidth, v.videoHeight));
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(v.videoWidth * s);
  canvas.height = Math.round(v.videoHeight * s);
  canvas.getContext('2d').drawImage(v, 0, 0, canvas.width, canvas.height);
  // The data URL is what the API takes (base64 JPEG); about 40-60 kB at 640 px.
  return canvas.toDataURL('image/jpeg', 0.8);
}

function showTurn(direction) {
  const el = $('turn');
  el.hidden = false;
  el.dataset.direction = direction;
  $('step-title').textContent = text(direction === 'centre' ? 'turn_centre' : `turn_${direction}`);
  document.body.dataset.turn = direction;
}

/** Film the turns: a frontal lead, then each turn (TURN_MS) followed by a return to the centre (CENTRE_MS). */
async function film(turns) {
  const frames = [];
  const t0 = performance.now();
  const end = LEAD_MS + turns.length * (TURN_MS + CENTRE_MS);
  let next = t0;
  let shown;
  for (let elapsed = 0; elapsed < end; elapsed = performance.now() - t0) {
    const k = Math.min(
      turns.length - 1,
      Math.max(0, Math.floor((elapsed - LEAD_MS) / (TURN_MS + CENTRE_MS))),
    );
    const within = elapsed - LEAD_MS - k * (TURN_MS + CENTRE_MS);
    const want = elapsed < LEAD_MS || within >= TURN_MS ? 'centre' : turns[k];
    if (want !== shown) {
      shown = want;
      showTurn(want);
    }
    const image = grabFrame();
    if (image) frames.push({ image, step: k, t: Math.round(elapsed) });
    next += FRAME_MS;
    await sleep(Math.max(0, next - performance.now()));
  }
  return frames;
}

async function startChallenge() {
  renderProgress();
  show('capture');
  $('frame').className = 'face';
  $('stage').className = 'face mirror';
  $('preview').hidden = true;
  $('video').hidden = false;
  $('retake').hidden = true;
  $('use').hidden = true;
  $('shoot').hidden = true;
  $('file-label').hidden = true;
  $('turn').hidden = true;
  $('step-title').textContent = text('step_liveness_challenge');
  $('step-hint').textContent = text('hint_liveness_challenge');
  setFeedback('');
  await openCamera('user');
  $('shoot').hidden = true;
  if (!stream) {
    // No camera, no challenge: the session is completed without it (its verification then reviews).
    setFeedback(text('challenge_no_camera'), 'bad');
    $('challenge-go').hidden = true;
    await next(1500).catch(() => showError('network'));
    return;
  }
  $('file-label').hidden = true;
  $('challenge-go').hidden = false;
  $('challenge-go').disabled = false;
  document.body.dataset.state = 'challenge';
}

async function runChallenge() {
  $('challenge-go').disabled = true;
  $('challenge-go').hidden = true;
  setFeedback('');
  const base = `/v1/identity/sessions/${encodeURIComponent(sessionId)}/liveness-challenge`;
  try {
    const challenge = await api('POST', base);
    const frames = await film(challenge.turns);
    $('turn').hidden = true;
    $('step-title').textContent = text('step_liveness_challenge');
    setFeedback(text('checking_challenge'));
    const result = await api('POST', `${base}/${challenge.id}/frames`, { frames });
    document.body.dataset.challenge = result.status;
    if (result.status === 'passed') {
      setFeedback(text('challenge_passed'), 'good');
      stopCamera();
      await next(600);
      return;
    }
    const why = text(`challenge_${result.reason}`);
    if (result.attempts_left > 0) {
      setFeedback(`${why} ${text('challenge_again')}`, 'bad');
      $('challenge-go').hidden = false;
      $('challenge-go').disabled = false;
    } else {
      // Out of attempts: the session goes on; the verification carries the failed challenge.
      setFeedback(why, 'bad');
      stopCamera();
      await next(1500);
    }
  } catch (e) {
    setFeedback(e.status === 409 ? text('expired') : text('network'), 'bad');
    $('challenge-go').hidden = false;
    $('challenge-go').disabled = false;
  }
}

/** On to the next step (after `pauseMs` to read the feedback), or complete after the last one. */
async function next(pauseMs = 0) {
  index++;
  if (pauseMs) await sleep(pauseMs);
  if (index < steps.length) startStep();
  else await complete();
}

async function complete() {
  renderProgress();
  setFeedback(text('completing'));
  const res = await api('POST', `/v1/identity/sessions/${encodeURIComponent(sessionId)}/complete`);
  stopCamera();
  show('done');
  document.body.dataset.state = 'done';
  if (session.redirect_url) {
    const url = new URL(session.redirect_url);
    url.searchParams.set('session_id', sessionId);
    url.searchParams.set('status', res.session?.status || 'completed');
    setTimeout(() => location.assign(url.toString()), 1200);
  }
}

async function init() {
  applyLocale(pickLocale(query.get('lang'), undefined));
  if (!sessionId || !token) return showError('bad_link');
  try {
    rules = await (await fetch('/capture/assets/quality-rules.json')).json();
    session = await api('GET', `/v1/identity/sessions/${encodeURIComponent(sessionId)}`);
  } catch (e) {
    return showError(e.status === 404 || e.status === 401 ? 'bad_link' : 'network');
  }
  applyLocale(pickLocale(query.get('lang'), session.locale));
  if (session.status === 'expired') return showError('expired');
  if (session.status === 'completed') return showError('completed');
  steps = session.required;
  // Resume where the person stopped: uploaded parts are kept by the server.
  index = steps.findIndex((s) => session.missing.includes(s));
  if (index < 0) {
    index = steps.length;
    return complete().catch(() => showError('network'));
  }
  renderProgress();
  show('intro');
  document.body.dataset.state = 'ready';
}

$('start').addEventListener('click', startStep);
$('shoot').addEventListener('click', shoot);
$('retake').addEventListener('click', startStep);
$('use').addEventListener('click', () => void use());
$('challenge-go').addEventListener('click', () => void runChallenge());
$('file').addEventListener('change', (e) => {
  const f = e.target.files?.[0];
  if (f) fromFile(f);
});
void init();
