/**
 * Accuracy harness: `npm run eval [-- --write]`. Measures face verification on ../shared/data/faces/deepface
 * and passive liveness on ../shared/data/liveness, chooses the thresholds, and with --write stores them in
 * models/manifest.json with the figures that produced them (models/calibration-report.md).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCharset, loadManifest, MANIFEST_PATH } from '../src/adapters/onnx/load-manifest.ts';
import { readMrzFromImage } from '../src/pipeline/mrz/read-mrz-image.ts';
import { OnnxRunner } from '../src/adapters/onnx/onnx-runner.ts';
import { analyzeFace } from '../src/pipeline/face/analyze-face.ts';
import { cosine } from '../src/pipeline/face/embed.ts';
import { decodeImage } from '../src/pipeline/image/decode.ts';
import { auc, pct, rateAtLeast, table, thresholdAtFar } from './metrics.ts';
import { evaluateGeneratedDocuments } from './eval-documents.ts';
import { decisionTables, evaluateDecisions } from './eval-decisions.ts';
import { evaluateCorners } from './eval-corners.ts';
import { evaluatePrintedCopy } from './eval-printed-copy.ts';
import { evaluateScreenReplay } from './eval-screen-replay.ts';
import { CASE_KINDS } from '../test/synth/cases.ts';
import { evaluateLocate } from './locate-eval.ts';
import { evaluateAspect } from './eval-aspect.ts';
import { evaluateFaceSets, faceTable, tunedThreshold, wilson } from './eval-faces.ts';
import { evaluateLiveness, livenessTable } from './eval-liveness.ts';
import { activeLivenessTable, evaluateActiveLiveness } from './eval-active-liveness.ts';
import { startTestServer } from '../test/helpers.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const DATA = path.resolve(here, '../../shared/data');
const WRITE = process.argv.includes('--write');
const LIMITS = { maxImageBytes: 50e6, maxImagePixels: 100e6 };

if (!existsSync(DATA)) {
  console.log(`skipped: ${DATA} is absent; the accuracy harness needs ../shared/data`);
  process.exit(0);
}

const manifest = await loadManifest();
const inference = await OnnxRunner.load(manifest, { threads: 2 });

// ---------- Face verification ----------
function identityClusters(dir: string): Map<string, string> {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    if (!parent.has(x)) parent.set(x, x);
    const p = parent.get(x)!;
    if (p === x) return x;
    const r = find(p);
    parent.set(x, r);
    return r;
  };
  for (const csv of ['master.csv', 'face-recognition-pivot.csv']) {
    const file = path.join(dir, csv);
    if (!existsSync(file)) continue;
    const lines = readFileSync(file, 'utf8').trim().split('\n').slice(1);
    for (const line of lines) {
      const [a, b, decision] = line.split(',');
      if (!a || !b || decision?.trim().toLowerCase() !== 'yes') continue;
      const ra = find(path.basename(a));
      const rb = find(path.basename(b));
      if (ra !== rb) parent.set(ra, rb);
    }
  }
  const out = new Map<string, string>();
  for (const x of parent.keys()) out.set(x, find(x));
  return out;
}

const faceDir = path.join(DATA, 'faces/deepface');
const clusters = identityClusters(faceDir);
const files = [...clusters.keys()].filter((f) => existsSync(path.join(faceDir, f))).sort();
const embeddings = new Map<string, Float32Array>();
const noFace: string[] = [];
for (const f of files) {
  const d = await decodeImage(readFileSync(path.join(faceDir, f)), f, LIMITS);
  const a = await analyzeFace(d.image, { inference }, { tryRotations: true });
  if (a) embeddings.set(f, a.embedding);
  else noFace.push(f);
}
const genuine: number[] = [];
const impostor: number[] = [];
const names = [...embeddings.keys()];
for (let i = 0; i < names.length; i++) {
  for (let j = i + 1; j < names.length; j++) {
    const s = cosine(embeddings.get(names[i]!)!, embeddings.get(names[j]!)!);
    (clusters.get(names[i]!) === clusters.get(names[j]!) ? genuine : impostor).push(s);
  }
}
const faceAuc = auc(genuine, impostor);
const t1 = thresholdAtFar(impostor, 0.01);
const t01 = thresholdAtFar(impostor, 0.001);
// Operating threshold: the FAR-0.1 % point of this set rounded up to 0.01 (KYC operates at FAR ≤ 0.1 %).
const maxImpostor = Math.max(...impostor);
const faceThreshold = Math.ceil(t01 * 100) / 100;
const faceRows = [
  [
    'set',
    'images',
    'identities',
    'genuine',
    'impostor',
    'AUC',
    'TAR@FAR1%',
    'TAR@FAR0.1%',
    'threshold',
    'TAR@thr',
    'FAR@thr',
  ],
  [
    'deepface',
    `${embeddings.size}/${files.length}`,
    new Set(clusters.values()).size,
    genuine.length,
    impostor.length,
    faceAuc.toFixed(5),
    pct(rateAtLeast(genuine, t1)),
    pct(rateAtLeast(genuine, t01)),
    faceThreshold.toFixed(2),
    pct(rateAtLeast(genuine, faceThreshold)),
    pct(rateAtLeast(impostor, faceThreshold), 2),
  ],
];
console.log('\nFace verification (cosine of 5-point-aligned MobileFaceNet embeddings)');
console.log(table(faceRows));
console.log(
  `cosine at FAR 1 %: ${t1.toFixed(3)}, at FAR 0.1 %: ${t01.toFixed(3)}, max impostor ${maxImpostor.toFixed(3)}, min genuine ${Math.min(...genuine).toFixed(3)}${noFace.length ? `; no face in ${noFace.join(', ')}` : ''}`,
);

// ---------- Every face set, split by person (bench/eval-faces.ts) ----------
// Selfie vs selfie, live vs printed photo, and selfie vs the portrait of a generated CNIE read through the
// production path; thresholds from the tune people, figures on the held-out people.
const faceSets = await evaluateFaceSets(DATA, { inference, charset: await loadCharset(manifest) });
const cardScores = faceSets.scores.selfie_vs_card.grey;
const documentThreshold = tunedThreshold(cardScores);
console.log('\n## Face sets by person: thresholds from the tune people, figures on the held-out people\n');
console.log(faceTable(faceSets));

// ---------- Liveness ----------
async function liveScores(dir: string, list: string[]): Promise<{ scores: number[]; missed: string[] }> {
  const scores: number[] = [];
  const missed: string[] = [];
  for (const f of list) {
    const d = await decodeImage(readFileSync(path.join(dir, f)), f, LIMITS);
    const a = await analyzeFace(d.image, { inference }, { liveness: true, tryRotations: true });
    if (a?.liveProbability === undefined) missed.push(f);
    else scores.push(a.liveProbability);
  }
  return { scores, missed };
}
const nuaa = path.join(DATA, 'liveness/nuaa');
const jpgs = (d: string) =>
  readdirSync(d)
    .filter((f) => /\.(jpe?g|png)$/i.test(f))
    .sort();
const real = await liveScores(path.join(nuaa, 'real'), jpgs(path.join(nuaa, 'real')));
const fake = await liveScores(path.join(nuaa, 'fake'), jpgs(path.join(nuaa, 'fake')));
const sf = path.join(DATA, 'liveness/silent-face');
const sfReal = await liveScores(sf, ['image_T1.jpg']);
const sfFake = await liveScores(sf, ['image_F1.jpg', 'image_F2.jpg']);
// A face that is not found counts against the system: an attack not found is not accepted (score 0),
// a bona fide selfie not found is rejected (score 0).
const bona = [...real.scores, ...real.missed.map(() => 0), ...sfReal.scores, ...sfReal.missed.map(() => 0)];
const attack = [...fake.scores, ...fake.missed.map(() => 0), ...sfFake.scores, ...sfFake.missed.map(() => 0)];
const liveAuc = auc(bona, attack);
// Threshold: minimise the larger of APCER and BPCER over candidate thresholds (equal-error operating point).
let best = { t: 0.5, worst: Infinity };
for (let t = 0.05; t <= 0.95; t += 0.01) {
  const apcer = rateAtLeast(attack, t);
  const bpcer = 1 - rateAtLeast(bona, t);
  if (Math.max(apcer, bpcer) < best.worst - 1e-9)
    best = { t: Math.round(t * 100) / 100, worst: Math.max(apcer, bpcer) };
}
const liveThreshold = best.t;
const liveRows = [
  ['set', 'bona fide', 'attacks', 'AUC', 'threshold', 'APCER', 'BPCER', 'APCER@0.5', 'BPCER@0.5'],
  [
    'nuaa + silent-face',
    bona.length,
    attack.length,
    liveAuc.toFixed(4),
    liveThreshold.toFixed(2),
    pct(rateAtLeast(attack, liveThreshold)),
    pct(1 - rateAtLeast(bona, liveThreshold)),
    pct(rateAtLeast(attack, 0.5)),
    pct(1 - rateAtLeast(bona, 0.5)),
  ],
];
console.log('\nPassive liveness (MiniFASNet, BGR, 2.7x context)');
console.log(table(liveRows));
const missedAll = [...real.missed, ...fake.missed, ...sfReal.missed, ...sfFake.missed];
if (missedAll.length) console.log(`no face found in ${missedAll.join(', ')}`);

// ---------- MRZ on PassportEye specimens ----------
const peDir = path.join(DATA, 'documents/passporteye/testdata');
if (existsSync(peDir)) {
  const charset = await loadCharset(manifest);
  const today = new Date();
  let fullyRead = 0;
  let fullyReadOk = 0;
  let ok = 0;
  let both = 0;
  // Each image is read twice: by the MRZ reader alone on the photo as given, and by the document engine
  // as a client gets it (POST /v1/identity/extract: the page located and rectified first, the photo as
  // given when that fails).
  const server = await startTestServer();
  const key = await server.key();
  let engineOk = 0;
  let engineFullyReadOk = 0;
  const rows: (string | number)[][] = [
    ['image', 'older reader score', 'MRZ reader: check digits', 'format', 'ms', 'engine (extract)', 'ms'],
  ];
  const files = readdirSync(peDir)
    .filter((f) => /\.(jpe?g|png)$/i.test(f))
    .sort();
  for (const f of files) {
    const score = Number(f.split('_')[0]);
    const bytes = readFileSync(path.join(peDir, f));
    const d = await decodeImage(bytes, f, { ...LIMITS, maxSide: 2000 });
    const t0 = performance.now();
    const r = await readMrzFromImage(d.image, { inference, charset }, today);
    const ms = performance.now() - t0;
    const valid = !!r?.reading.checkDigitsValid;
    if (score === 100) {
      fullyRead++;
      if (valid) fullyReadOk++;
    }
    if (valid) ok++;
    if (valid && score === 100) both++;
    const t1 = performance.now();
    const res = await server.app.inject({
      method: 'POST',
      url: '/v1/identity/extract',
      headers: { authorization: `Bearer ${key}` },
      // The country only matters to a document without an MRZ (its templates); none of these is one.
      payload: {
        document_front: bytes.toString('base64'),
        document_type: /_(id|card)-/.test(f) ? 'national_id' : 'passport',
        country: 'MA',
      },
    });
    const engineMs = performance.now() - t1;
    const mrz = (
      res.json() as { checks?: { ocr?: { evidence?: { mrz?: { check_digits_valid: boolean } } } } }
    ).checks?.ocr?.evidence?.mrz;
    if (mrz?.check_digits_valid) {
      engineOk++;
      if (score === 100) engineFullyReadOk++;
    }
    rows.push([
      f,
      score,
      valid ? 'all valid' : r ? 'invalid' : 'not found',
      r?.reading.format ?? '-',
      Math.round(ms),
      res.statusCode !== 200
        ? `HTTP ${res.statusCode}`
        : mrz?.check_digits_valid
          ? 'all valid'
          : mrz
            ? 'invalid'
            : 'not found',
      Math.round(engineMs),
    ]);
  }
  await server.close();
  console.log(
    '\nMRZ read rate on shared/data/documents/passporteye/testdata (PP-OCRv4 det+rec, check-digit correction)',
  );
  console.log(table(rows));
  console.log(
    table([
      ['measure', 'value'],
      ['images', files.length],
      ['all check digits valid (Huwiya)', `${ok}/${files.length}`],
      ['older reader fully read (score 100)', fullyRead],
      [
        '… of which Huwiya reads with all check digits valid',
        `${fullyReadOk}/${fullyRead} (${pct(fullyReadOk / Math.max(1, fullyRead))}); target ≥ 90 %`,
      ],
      ['read by Huwiya but not fully by the older reader', ok - both],
      ['document engine (extract): all check digits valid', `${engineOk}/${files.length}`],
      [
        '… of the images the older reader fully read',
        `${engineFullyReadOk}/${fullyRead} (${pct(engineFullyReadOk / Math.max(1, fullyRead))})`,
      ],
    ]),
  );
}

// ---------- Document location on DLC-2021 frames ----------
const dlcDir = path.join(DATA, 'fraud/dlc2021-gray-copy');
if (existsSync(dlcDir)) {
  const l = await evaluateLocate(dlcDir);
  const p = (v: number) => `${(100 * v).toFixed(2)} %`;
  console.log('\n## Document location (DLC-2021 grey copies; corner error / quad diagonal)\n');
  console.log(
    table([
      ['frames', 'found', 'median', 'mean', 'p90', '≤ 5 %', 'ms (median)'],
      [
        l.frames,
        l.found,
        p(l.medianError),
        p(l.meanError),
        p(l.p90Error),
        l.within5pct,
        Math.round(l.medianMs),
      ],
    ]),
  );
  console.log('\n## Document side ratio read off its outline (DLC-2021 true outlines)\n');
  console.log(await evaluateAspect());
}

// ---------- Generated documents (test/synth) ----------
const evalDocuments = Number(process.env.EVAL_DOCUMENTS ?? 200);
if (evalDocuments > 0) {
  const n = evalDocuments;
  const r = await evaluateGeneratedDocuments(n, 1000, path.join(DATA, 'faces/deepface'));
  const p = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)} %` : '-');
  console.log(
    `\n## Generated documents (${r.documents}: CNIE front+back and TD3 passports, half clean, half hard)\n`,
  );
  console.log(
    table([
      ['level', 'documents', 'fields exact', 'MRZ exact'],
      ...(['clean', 'hard'] as const).map((k) => {
        const v = r.byLevel[k];
        return [k, v.documents, p(v.exact, v.fields), p(v.mrzRead, v.mrzDocs)];
      }),
      ['Arabic fields', '', p(r.arabic.exact, r.arabic.fields), ''],
    ]),
  );
  console.log(
    '\n' +
      table([
        ['kind and level', 'documents', 'fields exact'],
        ...Object.entries(r.byKind)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => [k, v.documents, p(v.exact, v.fields)]),
      ]),
  );
  console.log(
    '\n' +
      table([
        ['field', 'n', 'exact'],
        ...Object.entries(r.perField).map(([k, v]) => [k, v.n, p(v.exact, v.n)]),
      ]),
  );
  console.log(`\nextract latency per document, median: ${Math.round(r.medianMs)} ms`);
}

// ---------- Decisions on generated labelled cases (bench/eval-decisions.ts) ----------
const evalDecisions = Number(process.env.EVAL_DECISIONS ?? 7);
if (evalDecisions > 0) {
  const rows = await evaluateDecisions({
    perCell: evalDecisions,
    splits: ['tune', 'heldout'],
    kinds: CASE_KINDS,
    levels: ['clean', 'medium', 'hard'],
  });
  for (const split of ['tune', 'heldout'] as const) {
    console.log(
      `\n## Decisions on generated CNIE cases, ${split} split (${rows.filter((r) => r.split === split).length} cases, EVAL_DECISIONS=${evalDecisions} per kind, difficulty and split)\n`,
    );
    console.log(decisionTables(rows, split));
  }
}

// ---------- Printed copy (bench/eval-printed-copy.ts) ----------
const evalPrintedCopy = Number(process.env.EVAL_PRINTED_COPY ?? 8);
if (evalPrintedCopy > 0) {
  console.log(
    `\n## Printed copy: colour spread of the front (EVAL_PRINTED_COPY=${evalPrintedCopy} seeds per difficulty)\n`,
  );
  console.log(await evaluatePrintedCopy(evalPrintedCopy));
}
const evalScreenReplay = Number(process.env.EVAL_SCREEN_REPLAY ?? 5);
if (evalScreenReplay > 0) {
  console.log(
    `\n## Screen replay: display pixel grid on the located sides (EVAL_SCREEN_REPLAY=${evalScreenReplay} seeds per difficulty)\n`,
  );
  console.log(await evaluateScreenReplay(evalScreenReplay));
}
const evalLiveness = Number(process.env.EVAL_LIVENESS ?? 1);
if (evalLiveness > 0) {
  console.log(
    `\n## Passive liveness per attack type: prints, real spoofs, generated screen replays (EVAL_LIVENESS=${evalLiveness} replays per photo)\n`,
  );
  console.log(livenessTable(await evaluateLiveness(DATA, inference, evalLiveness), manifest));
}
const evalActive = Number(process.env.EVAL_ACTIVE_LIVENESS ?? 6);
if (evalActive > 0) {
  console.log(
    `\n## Active liveness: the capture page's head-turn challenge, bona fide and attacks (EVAL_ACTIVE_LIVENESS=${evalActive} photos per split)\n`,
  );
  console.log(activeLivenessTable(await evaluateActiveLiveness(DATA, inference, evalActive)));
}
const evalCorners = Number(process.env.EVAL_CORNERS ?? 3);
if (evalCorners > 0) {
  console.log(
    `\n## Square corners: ID-1 corners on the located sides (EVAL_CORNERS=${evalCorners} seeds per difficulty)\n`,
  );
  console.log(await evaluateCorners(evalCorners));
}

if (WRITE) {
  const m = JSON.parse(readFileSync(MANIFEST_PATH, 'utf8'));
  m.thresholds.face_match_cosine = faceThreshold;
  m.thresholds.document_portrait_cosine = documentThreshold;
  m.thresholds.liveness_live_probability = liveThreshold;
  m.calibration = {
    // Calibrations made by other harnesses (the ghost portrait's) are kept.
    ...m.calibration,
    status: 'calibrated',
    date: new Date().toISOString().slice(0, 10),
    command: 'npm run eval -- --write',
    face_match: {
      set: 'shared/data/faces/deepface (identity clusters from master.csv + face-recognition-pivot.csv)',
      genuine_pairs: genuine.length,
      impostor_pairs: impostor.length,
      auc: Number(faceAuc.toFixed(5)),
      tar_at_far_1: Number(rateAtLeast(genuine, t1).toFixed(4)),
      tar_at_far_0_1: Number(rateAtLeast(genuine, t01).toFixed(4)),
      cosine_at_far_0_1: Number(t01.toFixed(4)),
      max_impostor_cosine: Number(maxImpostor.toFixed(4)),
      rule: 'cosine at FAR 0.1 % rounded up to 0.01',
      note: 'selfie vs selfie; document portraits need their own threshold (issue 3)',
    },
    document_portrait: documentPortraitCalibration(),
    liveness: {
      set: 'shared/data/liveness/nuaa (40 live, 40 print attacks) + silent-face (1 live, 2 attacks)',
      auc: Number(liveAuc.toFixed(4)),
      apcer: Number(rateAtLeast(attack, liveThreshold).toFixed(4)),
      bpcer: Number((1 - rateAtLeast(bona, liveThreshold)).toFixed(4)),
      rule: 'threshold minimising max(APCER, BPCER) on a 0.01 grid',
    },
  };
  writeFileSync(MANIFEST_PATH, JSON.stringify(m, null, 2) + '\n');
  const report = `# Calibration report\n\nProduced by \`npm run eval -- --write\` on ${m.calibration.date}; the thresholds in \`manifest.json\` come from these figures.\n\n## Face verification\n\n${table(faceRows)}\n\n## Face sets by person (tune thresholds, held-out figures)\n\n${faceTable(faceSets)}\n\n## Passive liveness\n\n${table(liveRows)}\n`;
  writeFileSync(path.join(path.dirname(MANIFEST_PATH), 'calibration-report.md'), report);
  console.log(
    `\nwrote thresholds face_match_cosine=${faceThreshold} document_portrait_cosine=${documentThreshold} liveness_live_probability=${liveThreshold} to ${MANIFEST_PATH}`,
  );
}
await inference.close();

function documentPortraitCalibration() {
  const held = cardScores.heldout;
  const accepted = held.genuine.filter((x) => x >= documentThreshold).length;
  const [lo, hi] = wilson(accepted, held.genuine.length);
  return {
    set: 'selfie (deepface photos, NUAA live crops) vs the same people printed as the portrait of generated CNIE fronts photographed clean/medium/hard, read through the production path; faces compared in grey',
    command: 'npm run eval (bench/eval-faces.ts)',
    split: 'people as in bench/eval-decisions.ts: every third deepface cluster and NUAA subject held out',
    tune_pairs: { genuine: cardScores.tune.genuine.length, impostor: cardScores.tune.impostor.length },
    heldout_pairs: { genuine: held.genuine.length, impostor: held.impostor.length },
    heldout_tar: Number((accepted / held.genuine.length).toFixed(4)),
    heldout_tar_ci95: [Number(lo.toFixed(4)), Number(hi.toFixed(4))],
    heldout_far: Number(rateAtLeast(held.impostor, documentThreshold).toFixed(5)),
    rule: 'cosine at FAR 0.1 % on the tune impostor pairs, rounded up to 0.01',
    date: new Date().toISOString().slice(0, 10),
  };
}
