import type { FieldRegion } from './document-template.ts';

/** Upper case, accents folded (É → E), for comparisons and Latin names. */
export function foldLatin(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toUpperCase();
}

const ARABIC_LETTERS = /[\u0621-\u064A\u0671-\u06D3\u06FA-\u06FF]/;

/** Arabic text as printed: letters and spaces only (harakat, tatweel, digits, Latin noise dropped). */
export function cleanArabic(s: string, keepDigits = false): string {
  return s
    .replace(/[\u064B-\u065F\u0670\u0640]/g, '')
    .split(/\s+/)
    .map((w) =>
      [...w].filter((c) => ARABIC_LETTERS.test(c) || (keepDigits && /[0-9\u0660-\u0669]/.test(c))).join(''),
    )
    .filter((w) => w.length > 0)
    .join(' ');
}

/**
 * Month abbreviations printed on passports (English, French, Spanish, German, Italian), by their first
 * letters; "JUIN"/"JUIL" need four.
 */
const MONTH_PREFIXES: readonly [string, number][] = [
  ['JAN', 1],
  ['ENE', 1],
  ['GEN', 1],
  ['FEB', 2],
  ['FEV', 2],
  ['MAR', 3],
  ['MAE', 3],
  ['APR', 4],
  ['AVR', 4],
  ['ABR', 4],
  ['MAY', 5],
  ['MAI', 5],
  ['MAG', 5],
  ['JUIN', 6],
  ['JUN', 6],
  ['GIU', 6],
  ['JUIL', 7],
  ['JUL', 7],
  ['LUG', 7],
  ['AUG', 8],
  ['AOU', 8],
  ['AGO', 8],
  ['SEP', 9],
  ['SET', 9],
  ['OCT', 10],
  ['OKT', 10],
  ['OTT', 10],
  ['NOV', 11],
  ['DEC', 12],
  ['DIC', 12],
  ['DEZ', 12],
];

function monthNumber(word: string): number | undefined {
  return MONTH_PREFIXES.find(([p]) => word.startsWith(p))?.[1];
}

/**
 * Day-month-year in the usual print forms (05/12/1983, 05.12.1983, 05 12 1983, 05 DEC 1983, 05 DEC/DÉC
 * 1983) → ISO 8601, or undefined when it is not a real date.
 */
export function parseDmyDate(s: string): string | undefined {
  const named = /(\d{1,2})\s*([A-Z]{3,5})(?:\s*\/\s*[A-Z]{3,5})?\s*(\d{4})/.exec(foldLatin(s));
  const month = named ? monthNumber(named[2]!) : undefined;
  // OCR reads separators as anything: keep the digits and rely on the 2-2-4 layout.
  const m =
    (named && month ? [named[0], named[1]!, String(month), named[3]!] : undefined) ??
    /(\d{1,2})\s*[./\-\s]\s*(\d{1,2})\s*[./\-\s]\s*(\d{4})/.exec(s) ??
    /(\d{2})(\d{2})(\d{4})/.exec(s);
  if (!m) return undefined;
  const d = Number(m[1]);
  const mo = Number(m[2]);
  const y = Number(m[3]);
  if (y < 1900 || y > 2100 || mo < 1 || mo > 12 || d < 1) return undefined;
  const last = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (d > last) return undefined;
  return `${String(y)}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** Levenshtein distance, for labels that OCR read with a letter lost or changed. */
/** Levenshtein distance (code units). */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

/**
 * Drop a printed label or preposition in front of the value. OCR damages labels too ("FILS DE" read
 * "IS DE", "ET DE" read "ETDE", "العنوان" read "العوان") and may glue them to the value: the label's
 * letters are matched against the value's first letters, within one edit per three letters, and the cut
 * falls at a word break when the value has any; a first word that is the label's last one is dropped.
 */
function stripPrefix(value: string, prefixes: readonly string[] | undefined, fold: (s: string) => string) {
  const v = value.trim();
  const chars = [...v];
  for (const p of [...(prefixes ?? [])].sort((a, b) => b.length - a.length)) {
    const target = fold(p).replace(/\s+/g, '');
    const tolerance = Math.floor(target.length / 3);
    let best: { cut: number; distance: number } | undefined;
    // cut: index in `chars` just after the candidate label; the label's letters exclude spaces.
    let letters = '';
    for (let cut = 1; cut <= chars.length; cut++) {
      const c = chars[cut - 1]!;
      if (c !== ' ') letters += fold(c);
      if (letters.length < target.length - tolerance) continue;
      if (letters.length > target.length + tolerance) break;
      const atBreak = cut === chars.length || chars[cut] === ' ';
      const hasBreaks = chars.includes(' ');
      if (hasBreaks && !atBreak) continue;
      const distance = editDistance(letters, target);
      if (distance <= tolerance && (!best || distance < best.distance)) best = { cut, distance };
    }
    if (best && best.cut < chars.length) {
      const rest = chars.slice(best.cut).join('').trim();
      // A one-letter label glued to the value ("ALARACHE") is ambiguous: the value may start with it.
      if (rest && (target.length > 1 || chars[best.cut] === ' ')) return rest;
    }
  }
  // Only some of the label's words survived, damaged (a small, pale "et de" read "D", "Fille de" read "FE
  // DE" on a blurred photo): first words within one edit of the label's words go, while a value remains.
  const labelWords = (prefixes ?? [])
    .map((p) => fold(p).split(/\s+/))
    .filter((w) => w.length > 1)
    .flat()
    // Latin labels only: an Arabic caption's words are also names' beginnings (الاسم, الأسمر).
    .filter((w) => w.length >= 2 && /^[A-Z(')]+$/.test(w));
  const words = v.split(/\s+/);
  let dropped = 0;
  while (
    dropped < 2 &&
    words.length - dropped > 1 &&
    labelWords.some((w) => editDistance(fold(words[dropped]!), w) <= 1)
  )
    dropped++;
  if (dropped) return words.slice(dropped).join(' ');
  return v;
}

// Letters OCR confuses with digits, for fields whose shape says "letters here" or "digits here".
const TO_DIGIT: Record<string, string> = {
  O: '0',
  Q: '0',
  D: '0',
  I: '1',
  L: '1',
  Z: '2',
  S: '5',
  B: '8',
  G: '6',
};
const TO_LETTER: Record<string, string> = { '0': 'O', '1': 'I', '2': 'Z', '5': 'S', '8': 'B', '6': 'G' };

/** A document number shaped "letters then digits" (CIN): fix digit/letter confusions by position. */
function documentNumber(raw: string, pattern: string | undefined): string {
  const v = foldLatin(raw).replace(/[^A-Z0-9]/g, '');
  if (!pattern || new RegExp(pattern).test(v)) return v;
  const m = /^([A-Z0-9]{1,2}?)([A-Z0-9]{4,8})$/.exec(v);
  if (!m) return v;
  for (const lettersLen of [1, 2]) {
    const head = [...v.slice(0, lettersLen)].map((c) => TO_LETTER[c] ?? c).join('');
    const tail = [...v.slice(lettersLen)].map((c) => TO_DIGIT[c] ?? c).join('');
    if (new RegExp(pattern).test(head + tail)) return head + tail;
  }
  return v;
}

export interface NormalisedField {
  value: string;
  /** The value has the field's shape (a real date, the number's pattern, a known sex code…). */
  valid: boolean;
}

/**
 * Whether a value is only (part of) a label: the whole label or one of its words of three letters or
 * more, a few OCR errors allowed. The reader took the caption above the value for the value.
 */
function isLabel(
  value: string,
  prefixes: readonly string[] | undefined,
  fold: (s: string) => string,
): boolean {
  const v = fold(value).replace(/\s+/g, '');
  if (!v) return false;
  return (prefixes ?? []).some((p) =>
    [p.replace(/\s+/g, ''), ...p.split(/\s+/).filter((w) => [...w].length >= 3)].some((w) => {
      const target = fold(w);
      return editDistance(v, target) <= Math.floor([...target].length / 4);
    }),
  );
}

/** Turn what OCR read in a field's region into the API's value, following the template's format. */
export function normaliseField(region: FieldRegion, raw: string): NormalisedField | undefined {
  const fold = region.script === 'arabic' ? (s: string) => cleanArabic(s) : foldLatin;
  if (isLabel(raw, region.prefixes, fold)) return undefined;
  if (region.script === 'arabic') {
    // Addresses keep their house numbers; names and places are letters only.
    const digits = region.field.startsWith('address');
    let v = cleanArabic(
      stripPrefix(cleanArabic(raw, digits), region.prefixes, (s) => s),
      digits,
    );
    // No Arabic name is a single letter: a lone letter is a word OCR split ("ل طيفة" for "لطيفة").
    if (region.format === 'name') v = v.replace(/(^| )(\S) (?=\S)/gu, '$1$2');
    return v ? { value: v, valid: v.replace(/ /g, '').length >= 2 } : undefined;
  }
  const text = stripPrefix(raw.replace(/[|_]/g, ' '), region.prefixes, foldLatin);
  switch (region.format) {
    case 'date_dmy': {
      const v = parseDmyDate(text);
      return v ? { value: v, valid: true } : undefined;
    }
    case 'document_number': {
      const v = documentNumber(text, region.pattern);
      if (v.length < 4) return undefined;
      return { value: v, valid: region.pattern ? new RegExp(region.pattern).test(v) : /\d/.test(v) };
    }
    case 'sex': {
      const m = /\b([MFH])\b/.exec(foldLatin(text)) ?? /([MF])$/.exec(foldLatin(text).trim());
      if (!m) return undefined;
      return { value: m[1] === 'H' ? 'M' : m[1]!, valid: true };
    }
    case 'name': {
      const v = foldLatin(text)
        .replace(/[^A-Z' -]/g, ' ')
        .replace(/\s+/g, ' ')
        .trim();
      return v.length >= 2 ? { value: v, valid: /^[A-Z][A-Z' -]*[A-Z]$/.test(v) } : undefined;
    }
    case 'text': {
      const v = foldLatin(text)
        .replace(/[^A-Z0-9',./ -]/g, ' ')
        .replace(/\s+/g, ' ')
        .trim()
        .split(' ')
        // A house number read with a letter for a digit ("9O", "1OO"): a word that starts with a digit
        // and holds only digits and their look-alikes is a number.
        .map((w) => (/^[0-9][0-9OQDILZSBG]*$/.test(w) ? [...w].map((c) => TO_DIGIT[c] ?? c).join('') : w))
        .join(' ');
      return v.length >= 2 ? { value: v, valid: /[A-Z]{2}/.test(v) } : undefined;
    }
  }
}
