import countries from 'i18n-iso-countries';
import {
  ASPECT_BY_SIZE,
  RECTIFIED_PX_PER_MM,
  SIZE_MM,
  type DocumentTemplate,
} from '../domain/documents/document-template.ts';
import { restoreDots, restoreDotsByWords, spellsSameName } from '../domain/documents/arabic-dots.ts';
import { mergeFields, type SourcedValue } from '../domain/documents/merge-fields.ts';
import { issueDateByElimination } from '../domain/documents/issue-date.ts';
import { DOCUMENT_TEMPLATES } from '../domain/documents/templates.ts';
import { round4 } from '../domain/face-match-policy.ts';
import { repairNamesLine, splitLostSeparator } from '../domain/mrz/names-line.ts';
import type { MrzExtracted } from '../domain/mrz/read-mrz.ts';
import type { CheckResult } from '../domain/verification.ts';
import { prepareSide, turnSide, type PreparedSide } from '../pipeline/document/prepare-side.ts';
import {
  readCaptionedFields,
  readVisualZone,
  type VisualZoneReading,
} from '../pipeline/document/read-visual-zone.ts';
import type { DecodedImage } from '../pipeline/image/decode.ts';
import { resizeTo, type RgbImage } from '../pipeline/image/rgb-image.ts';
import { readMrzFromImage, type MrzImageReading } from '../pipeline/mrz/read-mrz-image.ts';
import { detectText } from '../pipeline/ocr/detect-text.ts';
import type { AppDeps } from './deps.ts';

/** What reading a document needs: the models, the line reader and the clock. */
export type OcrDeps = Pick<AppDeps, 'inference' | 'manifest' | 'charset' | 'lineOcr' | 'now'>;

/** `document_type` values a client may send, by the family an MRZ reports (API.md aliases). */
const FAMILY: Record<string, string> = {
  passport: 'passport',
  cin: 'national_id',
  cni: 'national_id',
  national_id: 'national_id',
  residence_card: 'residence_permit',
  residence_permit: 'residence_permit',
  permit: 'residence_permit',
  driving_license: 'driving_license',
  drivers_license: 'driving_license',
};

export interface OcrOutcome {
  check: CheckResult;
  extracted?: Record<string, unknown>;
  /** The rectified, upright front: where the template's portrait is looked for. */
  front?: PreparedSide;
  /** The rectified back, when one was sent (the forensic signals look at both sides). */
  back?: PreparedSide;
  template?: DocumentTemplate;
}

/** Arabic fields and the Latin field that spells the same name. */
const ARABIC_LATIN_PAIRS = [
  ['last_name_arabic', 'last_name'],
  ['first_name_arabic', 'first_name'],
  ['place_of_birth_arabic', 'place_of_birth'],
] as const;

/** Confidence of an Arabic reading confirmed only by the Latin spelling of the same name. */
const CONFIRMED_BY_LATIN = 0.6;

/** Fields an MRZ check digit protects (the rest, names and codes, are only as good as the OCR). */
const CHECKED_FIELDS = new Set(['document_number', 'date_of_birth', 'expiry_date', 'personal_number']);

/** What the MRZ says, field by field, with a confidence (check-digit-protected fields near certain). */
function mrzValues(r: MrzImageReading): Record<string, SourcedValue> {
  const e: MrzExtracted = r.reading.extracted;
  const corrected = new Set(r.reading.corrections.map((c) => c.field));
  const out: Record<string, SourcedValue> = {};
  const put = (name: string, value: string | undefined, sourceField?: string) => {
    if (value === undefined || value === '') return;
    const base = CHECKED_FIELDS.has(name) && r.reading.checkDigitsValid ? 0.99 : 0.9 * r.ocrConfidence;
    out[name] = { value, confidence: sourceField && corrected.has(sourceField) ? base * 0.95 : base };
  };
  put('document_number', e.document_number, 'documentNumber');
  put('first_name', e.first_name, 'firstName');
  put('last_name', e.last_name, 'lastName');
  put('date_of_birth', e.date_of_birth, 'birthDate');
  put('gender', e.gender, 'sex');
  put('nationality', e.nationality, 'nationality');
  put('expiry_date', e.expiry_date, 'expirationDate');
  put('issuing_country', e.issuing_country, 'issuingState');
  put('personal_number', e.personal_number);
  put('document_code', e.document_code);
  return out;
}

function vzValues(readings: readonly VisualZoneReading[]): Record<string, SourcedValue> {
  const out: Record<string, SourcedValue> = {};
  for (const r of readings)
    for (const f of r.fields) {
      // Visual-zone fields carry their `extracted_data` names (the seed's, plus documented extensions).
      const key = f.field;
      const c = f.valid ? f.confidence : f.confidence * 0.5;
      if (!out[key] || out[key].confidence < c) out[key] = { value: f.value, confidence: c };
    }
  return out;
}

const alpha3 = (country: string) =>
  country.length === 3 ? country.toUpperCase() : countries.alpha2ToAlpha3(country.toUpperCase());

/**
 * Templates worth reading, most specific first: the MRZ's issuing state and format when there is one,
 * otherwise the declared country and document family. Generic ICAO templates carry no visual-zone field,
 * so a document of another country is read from its MRZ alone.
 */
function candidateTemplates(
  mrz: MrzImageReading | undefined,
  declared: { documentType: string; country: string },
): DocumentTemplate[] {
  const family = FAMILY[declared.documentType];
  if (mrz?.reading.format) {
    const format = mrz.reading.format;
    const state = mrz.reading.extracted.issuing_country ?? mrz.reading.lines[0]?.slice(2, 5);
    const own = DOCUMENT_TEMPLATES.filter((t) => t.country === state && t.mrz?.formats.includes(format));
    if (own.length) return own;
    return DOCUMENT_TEMPLATES.filter((t) => !t.country && t.mrz?.formats.includes(format));
  }
  const country = alpha3(declared.country);
  if (!country)
    // Nothing declared (a dialect's `auto`) and no MRZ read: the country cards whose front carries no
    // MRZ are each read, and the best fit is kept.
    return DOCUMENT_TEMPLATES.filter(
      (t) => t.country && t.fields.length > 0 && t.mrz?.side !== 'front' && (!family || t.family === family),
    );
  const mine = DOCUMENT_TEMPLATES.filter((t) => t.country === country && t.fields.length > 0);
  const sameFamily = mine.filter((t) => !family || t.family === family);
  return sameFamily.length ? sameFamily : mine;
}

/**
 * The rectified side at the template's own aspect (a photo's perspective leaves it a little off) and
 * at about 300 dpi: ID-1 cards 1011 px wide, TD3 pages 1476 (small scans are enlarged, glyphs of 8 px
 * are lost to Tesseract).
 */
async function atTemplateSize(side: RgbImage, t: DocumentTemplate): Promise<RgbImage> {
  const width = Math.round(RECTIFIED_PX_PER_MM * SIZE_MM[t.size][0]);
  const height = Math.round(width / ASPECT_BY_SIZE[t.size]);
  return side.width === width && side.height === height ? side : resizeTo(side, width, height);
}

/**
 * Read a template's visual zone on each side it places fields on: by their boxes, or for a generic
 * template by their captions.
 */
async function readTemplate(
  deps: OcrDeps,
  t: DocumentTemplate,
  sides: { front?: PreparedSide; back?: PreparedSide },
): Promise<VisualZoneReading[]> {
  // Both sides at once: their PP-OCR and Tesseract calls overlap.
  const read = async (name: 'front' | 'back'): Promise<VisualZoneReading | undefined> => {
    const side = sides[name];
    const boxed = t.fields.some((f) => f.side === name);
    if (!side || (!boxed && !t.captioned?.some((f) => f.side === name))) return undefined;
    const sized = await atTemplateSize(side.image, t);
    const sx = sized.width / side.image.width;
    const sy = sized.height / side.image.height;
    const boxes = side.boxes.map((b) => ({
      ...b,
      x: b.x * sx,
      y: b.y * sy,
      width: b.width * sx,
      height: b.height * sy,
    }));
    if (boxed) return readVisualZone(sized, t, name, deps, boxes);
    // Captions are printed small (a third of a value's height): detected at the side's full size they
    // stand as whole lines, at the shared detection's 1024 px they break into misread fragments (on a
    // blurred generated passport, "Place of birth / Lieu de naissance" found at 1476 px, not at 1024).
    const full = await detectText(sized, deps, Math.max(sized.width, sized.height));
    return readCaptionedFields(sized, t, name, deps, full);
  };
  const both = await Promise.all([read('front'), read('back')]);
  return both.filter((r): r is VisualZoneReading => r !== undefined);
}

/** Confidence of an issue date known only as the page's one date that is neither birth nor expiry. */
const BY_ELIMINATION = 0.7;
/** A template fit (mean field confidence) below which the sides are also read turned half a turn. */
const GOOD_FIT = 0.5;
/** A fit above which no other candidate template is read. */
const CONFIDENT_FIT = 0.8;

/**
 * How well a template fits: the mean confidence of its fields on the sides read, a field not read or
 * not in its expected shape counting 0. A template whose boxes fall on the wrong lines reads few valid
 * values, whatever its number of fields.
 */
function score(t: DocumentTemplate, readings: readonly VisualZoneReading[]): number {
  const sides = new Set(readings.map((r) => r.side));
  const expected = t.fields.filter((f) => sides.has(f.side)).length;
  const got = readings.reduce(
    (s, r) => s + r.fields.reduce((a, f) => a + (f.valid ? f.confidence : 0), 0),
    0,
  );
  return expected ? got / expected : 0;
}

/**
 * The `ocr` check: each side is located, rectified and turned upright; the MRZ is read (back first, then
 * front) and corrected against its check digits; the template chosen from the MRZ's issuing state (or
 * the declared country) reads the visual zone, Latin and Arabic; both are merged field by field with
 * their provenance, and the result is compared with what the client declared.
 */
/** The fields that say who the holder is: each printed one must agree with the MRZ. */
const IDENTITY_FIELDS = ['document_number', 'last_name', 'date_of_birth'] as const;

export async function ocrCheck(
  deps: OcrDeps,
  images: { front: DecodedImage; back?: DecodedImage },
  declared: { documentType: string; country: string },
  /**
   * Told each side as soon as it is prepared, with the declared document's template (undefined when
   * nothing was declared): the caller may start its own work on the side while the text is read.
   */
  onPrepared?: (
    name: 'front' | 'back',
    side: PreparedSide,
    declaredTemplate: DocumentTemplate | undefined,
  ) => void,
): Promise<OcrOutcome> {
  const today = deps.now();
  const t0 = performance.now();
  const guess = candidateTemplates(undefined, declared)[0];
  const told =
    (name: 'front' | 'back') =>
    <S extends PreparedSide | undefined>(side: S): S => {
      if (side) onPrepared?.(name, side, guess);
      return side;
    };
  // The front goes first as far as its text detection (onnxruntime, on a thread of its own); the back is
  // located and rectified on this thread meanwhile.
  const frontPrepared = prepareSide(images.front.image, deps).then(told('front'));
  await new Promise((r) => setImmediate(r));
  const backPrepared = images.back
    ? prepareSide(images.back.image, deps).then(told('back'))
    : Promise.resolve(undefined);
  // The back, where a card's MRZ is, is read first whatever the front holds: its reading starts as soon
  // as the back is ready, while the front's text is still being detected.
  const backMrz = backPrepared.then((b) =>
    b ? readMrzFromImage(b.image, deps, today, [...b.boxes]) : undefined,
  );
  backMrz.catch(() => undefined);
  let [front, back] = await Promise.all([frontPrepared, backPrepared]);
  const tPrepared = performance.now();
  // Visual-zone reading time, summed over the template readings (they may overlap the MRZ's).
  let vzMs = 0;
  const timedRead = async (...args: Parameters<typeof readTemplate>) => {
    const start = performance.now();
    const r = await readTemplate(...args);
    vzMs += performance.now() - start;
    return r;
  };
  // The declared document's visual zone is read while the MRZ is: the Arabic fields' Tesseract work then
  // runs beside onnxruntime's MRZ recognition instead of after it. The reading is used when the MRZ
  // confirms that template and leaves both sides as they were; otherwise it is dropped (its work lost,
  // its result unused).
  const early = guess?.fields.length
    ? { template: guess, front, back, reading: timedRead(deps, guess, { front, back }) }
    : undefined;
  early?.reading.catch(() => undefined);
  let found: MrzImageReading | undefined;
  let side: 'back' | 'front' = 'front';
  // The rectified side first; the photo as given when that fails (a wrong outline, or a scan whose
  // MRZ glyphs are finer than the rectified width keeps), its text detected afresh: on a side that was
  // not located the prepared copy is the photo, but detection on the whole photo may merge a small
  // tilted card's lines into one block, where the fresh reading turns and straightens them (a generated
  // genuine CNIE back, small in the frame and partly covered by a thumb, tune seed 1002, read only so).
  let fromPrepared = false;
  const attempts = [
    ['back', back?.image, back?.boxes, backMrz],
    ['back', images.back?.image, undefined],
    ['front', front.image, front.boxes],
    ['front', images.front.image, undefined],
  ] as const;
  for (const [s, img, boxes, started] of attempts) {
    if (!img) continue;
    const r = await (started ?? readMrzFromImage(img, deps, today, boxes ? [...boxes] : undefined));
    if (r && (!found || (r.reading.checkDigitsValid && !found.reading.checkDigitsValid))) {
      found = r;
      side = s;
      fromPrepared = boxes !== undefined;
    }
    if (found?.reading.checkDigitsValid) break;
  }
  // An MRZ read upside down on a rectified side says which way up that side is.
  const knownUp = new Set<'front' | 'back'>();
  if (found && fromPrepared && found.rotation === 180) {
    if (side === 'back' && back) back = await turnSide(back);
    if (side === 'front') front = await turnSide(front);
  }
  if (found && fromPrepared && (found.rotation === 0 || found.rotation === 180)) knownUp.add(side);
  const tMrz = performance.now();

  let template: DocumentTemplate | undefined;
  let readings: VisualZoneReading[] = [];
  for (const t of candidateTemplates(found, declared).slice(0, 2)) {
    if (!t.fields.length) {
      // A generic template: only its captioned fields, on sides whose way up the MRZ told.
      if (!template) {
        template = t;
        readings = await timedRead(deps, t, {
          front: knownUp.has('front') ? front : undefined,
          back: knownUp.has('back') ? back : undefined,
        });
      }
      continue;
    }
    let r =
      early && t === early.template && front === early.front && back === early.back
        ? await early.reading
        : await timedRead(deps, t, { front, back });
    // A template that fits badly may be reading a side held upside down: read the sides whose way up
    // is not known once more, turned, and keep the better fit.
    if (score(t, r) < GOOD_FIT) {
      const turned = {
        front: knownUp.has('front') ? front : await turnSide(front),
        back: back && !knownUp.has('back') ? await turnSide(back) : back,
      };
      const again = await timedRead(deps, t, turned);
      if (score(t, again) > score(t, r)) {
        r = again;
        front = turned.front;
        back = turned.back;
      }
    }
    if (!template || !template.fields.length || score(t, r) > score(template, readings)) {
      template = t;
      readings = r;
    }
    // A template that fits this well is the document: the next candidate (an undeclared card's other
    // possible country) is not read.
    if (score(template, readings) >= CONFIDENT_FIT) break;
  }
  const tVz = performance.now();

  const mrz = found ? mrzValues(found) : {};
  if (template?.documentNumberInMrz && mrz[template.documentNumberInMrz]) {
    // The number a customer knows (the CIN) is `document_number`; the card's serial stays as `card_number`.
    if (mrz.document_number) mrz.card_number = mrz.document_number;
    mrz.document_number = mrz[template.documentNumberInMrz]!;
    delete mrz[template.documentNumberInMrz];
  }
  const vz = vzValues(readings);
  // A names line whose surname/given-names separator lost a filler: split where the visual zone does.
  if (mrz.last_name && !mrz.first_name && vz.last_name && vz.first_name) {
    const split = splitLostSeparator(mrz.last_name.value, vz.last_name.value, vz.first_name.value);
    if (split) {
      mrz.last_name = { ...mrz.last_name, value: split.last_name };
      mrz.first_name = { ...mrz.last_name, value: split.first_name };
    }
  }
  if (!found && !Object.keys(vz).length)
    return {
      check: { status: 'skipped', confidence: 0, reason: 'no_document_text_found' },
      front,
      ...(back ? { back } : {}),
      template,
    };
  const { fields, disagreements } = mergeFields(
    mrz,
    vz,
    found?.reading.checkDigitsValid ?? false,
    found?.nameCells ?? {},
  );
  // The Latin spelling (checked against the MRZ when there is one) tells the dots Arabic OCR misses.
  for (const [arabic, latin] of ARABIC_LATIN_PAIRS) {
    const l = fields[latin];
    if (!l) continue;
    if (!fields[arabic]) {
      // A reading too unsure to report alone is reported when it spells the Latin name.
      const confirmed = readings
        .flatMap((r) => r.tentative ?? [])
        .find((t) => t.field === arabic && spellsSameName(t.value, l.value));
      if (confirmed)
        fields[arabic] = {
          value: confirmed.value,
          confidence: CONFIRMED_BY_LATIN,
          provenance: 'visual_zone',
        };
    }
    const a = fields[arabic];
    if (a) a.value = restoreDots(a.value, l.value);
  }
  // An address is partly translated (RUE, زنقة): its dots are restored word by word.
  if (fields.address_arabic && fields.address)
    fields.address_arabic.value = restoreDotsByWords(fields.address_arabic.value, fields.address.value);

  if (!fields.issue_date && template && !template.fields.length && found?.reading.checkDigitsValid) {
    const issue = issueDateByElimination(
      readings.flatMap((r) => r.dates ?? []),
      fields.date_of_birth?.value,
      fields.expiry_date?.value,
    );
    if (issue) fields.issue_date = { value: issue, confidence: BY_ELIMINATION, provenance: 'visual_zone' };
  }

  const extracted: Record<string, unknown> = {};
  const confidences: Record<string, number> = {};
  const provenance: Record<string, string> = {};
  for (const [k, f] of Object.entries(fields)) {
    extracted[k] = f.value;
    confidences[k] = round4(f.confidence);
    provenance[k] = f.provenance;
  }
  if (!extracted.nationality && template?.country && template.family !== 'passport') {
    // A national identity card is only issued to nationals.
    extracted.nationality = template.country;
    confidences.nationality = 0.9;
    provenance.nationality = 'template';
  }
  if (!extracted.issuing_country && template?.country) {
    extracted.issuing_country = template.country;
    confidences.issuing_country = 0.9;
    provenance.issuing_country = 'template';
  }
  if (extracted.first_name || extracted.last_name) {
    extracted.full_name = [extracted.first_name, extracted.last_name].filter(Boolean).join(' ');
    confidences.full_name = round4(Math.min(confidences.first_name ?? 1, confidences.last_name ?? 1));
    provenance.full_name = provenance.last_name ?? provenance.first_name ?? 'visual_zone';
  }
  if (found) {
    // The names line has no check digit: letters its OCR dropped come back from the visual zone's names.
    const fromVz = (k: string) =>
      fields[k]?.provenance.includes('visual_zone') ? fields[k]?.value : undefined;
    extracted.mrz = repairNamesLine(
      found.reading.lines,
      found.reading.format,
      fromVz('last_name'),
      fromVz('first_name') ?? fields.first_name?.value,
    ).join('\n');
    confidences.mrz = round4(found.reading.checkDigitsValid ? 0.99 : found.ocrConfidence * 0.8);
    provenance.mrz = 'mrz';
  }

  // Without an MRZ the check passes when the visual zone gave the identity: a number, a name and a date
  // of birth, each in its expected shape.
  const vzComplete = ['document_number', 'last_name', 'date_of_birth'].every((k) => vz[k] !== undefined);
  const signals: string[] = [];
  const issuing = (extracted.issuing_country as string | undefined) ?? undefined;
  const declaredAlpha3 = alpha3(declared.country);
  if (issuing && declaredAlpha3 && issuing !== declaredAlpha3) signals.push('country_mismatch');
  const family = FAMILY[declared.documentType];
  const detectedType = found?.reading.extracted.document_type ?? template?.family;
  if (family && detectedType && detectedType !== 'other' && family !== detectedType)
    signals.push('document_type_mismatch');
  const expiry = extracted.expiry_date as string | undefined;
  if (expiry && expiry < today.toISOString().slice(0, 10)) signals.push('document_expired');
  const mrzValid = found?.reading.checkDigitsValid;
  if (found && !mrzValid) signals.push('mrz_check_digits_invalid');
  if (disagreements.some((d) => !d.minor)) signals.push('mrz_visual_zone_mismatch');
  if (!found && !vzComplete) signals.push('document_unreadable');
  // The document prints an MRZ but none was read (its side not sent, or unreadable): the printed fields,
  // which an editor can change, were checked against nothing (a tampered front with no back is verified
  // otherwise).
  else if (!found && template?.mrz) signals.push('mrz_not_read');
  // The MRZ was read but the visual zone gave none of some identity field the template prints there (its
  // side not found, blurred, glare): that printed field was checked against nothing, and an edit to it
  // would go unseen (a disagreement is `mrz_visual_zone_mismatch`, not this).
  const unchecked = found
    ? IDENTITY_FIELDS.filter((k) => mrz[k] && !vz[k] && template?.fields.some((f) => f.field === k))
    : [];
  if (unchecked.length) signals.push('visual_zone_not_read');

  const passed = found ? Boolean(mrzValid) : vzComplete;
  const keyConf = ['document_number', 'last_name', 'date_of_birth'].map((k) => confidences[k] ?? 0);
  return {
    check: {
      status: passed ? 'passed' : 'failed',
      confidence: round4(
        found
          ? mrzValid
            ? Math.min(0.99, 0.5 + found.ocrConfidence / 2)
            : 0.6
          : keyConf.reduce((a, b) => a + b, 0) / keyConf.length,
      ),
      reason: passed ? undefined : found ? 'mrz_check_digits_invalid' : 'document_partially_read',
      signals,
      document_type_detected: detectedType,
      country_detected: issuing,
      template_id: template?.id,
      evidence: {
        source: found && readings.length ? 'mrz+visual_zone' : found ? 'mrz' : 'visual_zone',
        mrz: found
          ? {
              side,
              format: found.reading.format,
              rotation: found.rotation,
              check_digits_valid: Boolean(mrzValid),
              corrections: found.reading.corrections.length,
              ambiguous: found.reading.ambiguous,
              ocr_confidence: round4(found.ocrConfidence),
            }
          : undefined,
        visual_zone: readings.map((r) => ({ side: r.side, fields_read: r.fields.length })),
        disagreements,
        ...(unchecked.length ? { visual_zone_unchecked: unchecked } : {}),
        document_located: { front: Boolean(front.quad), back: back ? Boolean(back.quad) : undefined },
        timings_ms: {
          // Per stage, summed over the sides (front and back are prepared concurrently).
          locate: Math.round(front.times.locate + (back?.times.locate ?? 0)),
          rectify: Math.round(front.times.rectify + (back?.times.rectify ?? 0)),
          text_detect: Math.round(front.times.detect + (back?.times.detect ?? 0)),
          prepare: Math.round(tPrepared - t0),
          // After both sides are prepared (the back's MRZ reading starts before, beside the front's
          // text detection). The declared template's visual zone is read while the MRZ is: these overlap.
          mrz: Math.round(tMrz - tPrepared),
          visual_zone: Math.round(vzMs),
          total: Math.round(tVz - t0),
        },
      },
      model_version: deps.manifest.models.text_recognize.version,
    },
    extracted: { ...extracted, field_confidences: confidences, field_provenance: provenance },
    front,
    ...(back ? { back } : {}),
    template,
  };
}
