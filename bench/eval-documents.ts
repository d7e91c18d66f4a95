/**
 * Accuracy of the document engine on generated documents (test/synth): Moroccan CNIE-like cards (front
 * and back) and TD3 passports, "photographed" clean or hard, read through POST /v1/identity/extract.
 * Exact match per field against the generator's truth; Arabic names counted apart.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { createRng, randomIdentity } from '../test/synth/identities.ts';
import { photograph, type PhotoLevel } from '../test/synth/photograph.ts';
import { renderDocument } from '../test/synth/render-document.ts';
import { startTestServer } from '../test/helpers.ts';

/** The two difficulties this harness alternates (its figures predate `medium`). */
type Level = Exclude<PhotoLevel, 'medium'>;

export interface DocumentEvalResult {
  documents: number;
  byLevel: Record<
    Level,
    { documents: number; fields: number; exact: number; mrzRead: number; mrzDocs: number }
  >;
  arabic: { fields: number; exact: number };
  /** Fields exact per document kind and level (generic ICAO passports are read from their MRZ only). */
  byKind: Record<string, { documents: number; fields: number; exact: number }>;
  perField: Record<string, { n: number; exact: number }>;
  /** Every field read wrong or not at all, for diagnosis (not printed by `npm run eval`). */
  misses: {
    document: number;
    kind: string;
    level: Level;
    field: string;
    want: string;
    got: unknown;
  }[];
  medianMs: number;
}

const ARABIC = new Set(['last_name_arabic', 'first_name_arabic', 'place_of_birth_arabic', 'address_arabic']);

export async function evaluateGeneratedDocuments(
  count: number,
  seed: number,
  facesDir?: string,
): Promise<DocumentEvalResult> {
  const faces = facesDir
    ? readdirSync(facesDir)
        .filter((f) => f.endsWith('.jpg'))
        .map((f) => path.join(facesDir, f))
    : [];
  const s = await startTestServer();
  const key = await s.key();
  const result: DocumentEvalResult = {
    documents: 0,
    byLevel: {
      clean: { documents: 0, fields: 0, exact: 0, mrzRead: 0, mrzDocs: 0 },
      hard: { documents: 0, fields: 0, exact: 0, mrzRead: 0, mrzDocs: 0 },
    },
    arabic: { fields: 0, exact: 0 },
    byKind: {},
    perField: {},
    misses: [],
    medianMs: 0,
  };
  const ms: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const rng = createRng(seed + i);
      const identity = randomIdentity(rng);
      // Kinds cycle every document, levels every four: each kind is seen clean and hard.
      const level: Level = Math.floor(i / 4) % 2 === 0 ? 'clean' : 'hard';
      const card = i % 4 < 2;
      const portraitPath = faces.length ? faces[i % faces.length] : undefined;
      const truth: Record<string, string> = {};
      const kind = card ? 'mar_cnie_2020' : i % 4 === 2 ? 'mar_passport' : 'icao_td3_passport';
      const images: Record<string, string> = {};
      if (card) {
        const front = await renderDocument('mar_cnie_2020_front', identity, { rng, portraitPath });
        const back = await renderDocument('mar_cnie_2020_back', identity, { rng });
        Object.assign(truth, back.truth, front.truth);
        // The back's MRZ document number is the card's serial; the CIN is the document number.
        truth.card_number = back.truth.document_number!;
        delete truth.personal_number;
        images.document_front = (await photograph(front.image, level, rng)).jpeg.toString('base64');
        images.document_back = (await photograph(back.image, level, rng)).jpeg.toString('base64');
      } else {
        const page = await renderDocument(
          kind === 'mar_passport' ? 'mar_passport' : 'icao_td3_passport',
          identity,
          { rng, portraitPath },
        );
        Object.assign(truth, page.truth);
        delete truth.personal_number;
        images.document_front = (await photograph(page.image, level, rng)).jpeg.toString('base64');
      }
      const t0 = performance.now();
      const r = await s.app.inject({
        method: 'POST',
        url: '/v1/identity/extract',
        headers: { authorization: `Bearer ${key}` },
        payload: { ...images, document_type: card ? 'cin' : 'passport', country: 'MA' },
      });
      ms.push(performance.now() - t0);
      const e = (r.json() as { extracted_data?: Record<string, unknown> }).extracted_data ?? {};
      const lvl = result.byLevel[level];
      lvl.documents++;
      result.documents++;
      if (truth.mrz) {
        lvl.mrzDocs++;
        if (e.mrz === truth.mrz) lvl.mrzRead++;
      }
      const byKind = (result.byKind[`${kind} ${level}`] ??= { documents: 0, fields: 0, exact: 0 });
      byKind.documents++;
      for (const [k, want] of Object.entries(truth)) {
        const ok = e[k] === want;
        byKind.fields++;
        if (ok) byKind.exact++;
        const f = (result.perField[k] ??= { n: 0, exact: 0 });
        f.n++;
        if (ok) f.exact++;
        else result.misses.push({ document: i, kind, level, field: k, want, got: e[k] });
        if (ARABIC.has(k)) {
          result.arabic.fields++;
          if (ok) result.arabic.exact++;
        }
        lvl.fields++;
        if (ok) lvl.exact++;
      }
    }
  } finally {
    await s.close();
  }
  ms.sort((a, b) => a - b);
  result.medianMs = ms[Math.floor(ms.length / 2)] ?? 0;
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // node --import tsx bench/eval-documents.ts [count] [seed]: the result with every miss, as JSON.
  const n = Number(process.argv[2] ?? 20);
  const r = await evaluateGeneratedDocuments(
    n,
    Number(process.argv[3] ?? 1000),
    '/work/shared/data/faces/deepface',
  );
  console.log(JSON.stringify(r, null, 1));
}
