import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { birthDateIso, expiryDateIso } from './extract-mrz.ts';
import { MRZ_LAYOUTS, classAt, isCheckValid, layoutFormatOf, resolveChecks } from './mrz-layout.ts';
import { readMrz, type MrzReading } from './read-mrz.ts';

const DATA = new URL('../../../../shared/data/mrz/', import.meta.url);
const present = existsSync(DATA);
const skip = present ? false : 'skipped: ../shared/data is absent';
const load = (name: string): any =>
  present ? JSON.parse(readFileSync(new URL(name, DATA), 'utf8')) : undefined;
const cheminfo = load('cheminfo_mrz_cases.json');
const reference = load('reference_mrz_by_format.json');
const morocco = load('morocco_cnie_mrz.json');

/** Fixed, so that two-digit years resolve the same on every run. */
const today = new Date('2026-03-01T00:00:00Z');
const read = (mrz: string | string[]): MrzReading => readMrz(mrz, { today });

// ---------------------------------------------------------------------------------------------------
// cheminfo/mrz's own test cases

/**
 * The `mrz` package throws on input that is not exactly one MRZ; readMrz reads OCR text, so it looks
 * for the MRZ among the lines instead.
 */
const CHEMINFO_THROW_EXCEPTIONS: Record<string, (r: MrzReading, mrz: string[]) => void> = {
  // Four lines: the first two are a complete, valid French CNI, and that is what readMrz reads.
  'More than 3 lines': (r, mrz) => {
    assert.equal(r.format, 'FRENCH_NATIONAL_ID');
    assert.deepEqual(r.lines, mrz.slice(0, 2));
    assert.equal(r.valid, true);
  },
  // Two lines of 50 characters: no MRZ format, nothing read.
  'Wrong format': (r) => {
    assert.equal(r.format, undefined);
    assert.equal(r.valid, false);
    assert.deepEqual(r.fields, {});
  },
};

for (const c of cheminfo?.cases ?? [{ title: 'cases', file: '', mrz: [] }]) {
  test(`cheminfo ${String(c.file).split('/').pop()}: ${c.title}`, { skip }, () => {
    assert.ok(c.expect_throw !== undefined || c.expected_top || c.ocr_noisy_mrz, 'unknown case shape');
    const r = read(c.mrz);
    if (c.expect_throw !== undefined) {
      const check = CHEMINFO_THROW_EXCEPTIONS[c.title];
      assert.ok(check, `undocumented expect_throw case: ${c.title}`);
      check(r, c.mrz);
      return;
    }
    if (c.ocr_noisy_mrz) {
      const noisy = read(c.ocr_noisy_mrz);
      assert.deepEqual(noisy.lines, c.mrz);
      assert.ok(noisy.corrections.length > 0);
      assert.equal(noisy.valid, r.valid);
      for (const [name, field] of Object.entries(r.fields)) {
        assert.equal(noisy.fields[name]?.value, field.value, name);
      }
    }
    if (c.expected_top) {
      assert.equal(r.format, c.expected_top.format);
      assert.equal(r.valid, c.expected_top.valid);
      const documentNumber = c.expected_top.documentNumber;
      if (typeof documentNumber === 'string') assert.equal(r.extracted.document_number, documentNumber);
      else if (documentNumber === null) assert.equal(r.extracted.document_number, undefined);
      else if (r.extracted.document_number !== undefined) {
        assert.equal(r.extracted.document_number, r.fields.documentNumber?.value);
      }
      // The package's own negative examples must stay as they are, not be "corrected" into valid ones.
      assert.deepEqual(r.corrections, []);
      assert.deepEqual(r.lines, c.mrz);
    }
    for (const [name, expected] of Object.entries({ ...c.expected_fields, ...c.expected_fields_partial })) {
      assert.ok(r.fields[name], `missing field ${name}`);
      assert.equal(r.fields[name].value, expected, name);
      assert.equal(r.fields[name].valid, expected !== null, name);
    }
    if (c.expected_invalid_field_count !== undefined) {
      const invalid = Object.values(r.fields).filter((f) => !f.valid).length;
      assert.equal(invalid, c.expected_invalid_field_count);
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// Reference MRZs by format

/** The dataset names the French CNI by its shape; readMrz uses the `mrz` package's format name. */
const FORMAT_NAMES: Record<string, string> = { FRA_CNI_2x36: 'FRENCH_NATIONAL_ID' };

/** Items the `mrz` package reads as invalid although their check digits hold, and why. */
const REFERENCE_INVALID: Record<string, string> = {
  'ICAO 9303 TD1 specimen (Utopia)': 'UTO (Utopia) is a fictional state: the mrz package rejects the code',
  'ICAO 9303 p11 TD1 long-document-number example (D.2 BAC derivation)': 'UTO, fictional state',
  'ICAO 9303 TD2 specimen': 'UTO, fictional state',
  'ICAO 9303 TD3 specimen': 'UTO, fictional state',
  'ICAO 9303 Part 3 Arabic-name specimen (ASU)': 'ASU is a fictional state as well',
  'ICAO 9303 MRV-A specimen': 'issued by UTO (its nationality XXX, unspecified, is a real ICAO code)',
  'ICAO 9303 MRV-B specimen': 'issued by UTO',
  'older ICAO MRV-A specimen (1990s dates)': 'UTO, fictional state',
  '"Nigeria" string from the same Go test - malformed (dates not valid)':
    'malformed: lines of 42 and 45 characters; cut to 44 it reads as TD3, but dates and check digits fail',
};

for (const item of reference?.items ?? [{ description: 'items', format: '', mrz: [] }]) {
  test(`reference ${item.format}: ${item.description}`, { skip }, () => {
    const r = read(item.mrz);
    assert.equal(r.format, FORMAT_NAMES[item.format] ?? item.format);
    if (item.icao_check_digits_all_ok !== null) {
      assert.equal(r.checkDigitsValid, item.icao_check_digits_all_ok);
    }
    const invalidBecause = REFERENCE_INVALID[item.description];
    assert.equal(r.valid, invalidBecause === undefined, invalidBecause);
    if (item.icao_check_digits_all_ok === null && invalidBecause === undefined) {
      // French CNI: not an ICAO layout, but readMrz checks its digits with its own table.
      assert.equal(r.checkDigitsValid, true);
    }
    if (r.checkDigitsValid) {
      assert.deepEqual(r.corrections, []);
      assert.deepEqual(r.lines, item.mrz);
    }
  });
}

test('extracted data: country codes, document types, long numbers, optional data', { skip }, () => {
  const byDescription = (d: string): MrzReading =>
    read(reference.items.find((i: any) => i.description === d).mrz);
  const german = byDescription('Germany passport specimen (issuing state D<<)').extracted;
  assert.equal(german.issuing_country, 'DEU');
  assert.equal(german.nationality, 'DEU');
  assert.equal(german.document_type, 'passport');
  assert.equal(german.date_of_birth, '1964-08-12');
  assert.equal(german.expiry_date, '2017-10-31');

  const belgian = byDescription('Belgium eID (PRADO BEL-BO-03003) long doc number').extracted;
  assert.equal(belgian.document_number, '000590240601');
  assert.equal(belgian.document_type, 'national_id');
  assert.equal(belgian.optional_data, '85120100200');

  const visa = byDescription('ICAO 9303 MRV-A specimen').extracted;
  assert.equal(visa.document_type, 'visa');
  assert.equal(visa.issuing_country, undefined); // UTO is not a state
  assert.equal(visa.nationality, 'XXX');
  assert.equal(visa.optional_data, '6ZE184226B');
  assert.equal(visa.full_name, 'ANNA MARIA ERIKSSON');

  const french = byDescription('French CNI (pre-2021) sample').extracted;
  assert.equal(french.document_type, 'national_id');
  assert.equal(french.document_number, '1710GVA12345');
  assert.equal(french.expiry_date, undefined);
  assert.equal(french.gender, 'F');

  const passport = byDescription('Netherlands passport specimen 2014').extracted;
  assert.equal(passport.personal_number, '999999990');
  assert.equal(passport.last_name, 'DE BRUIJN');
  assert.equal(passport.first_name, 'WILLEKE LISELOTTE');
  for (const value of Object.values(passport)) assert.notEqual(value, null);
});

test('a field whose check digit fails is left out of extracted, never null', () => {
  const r = read([
    'I<UTOD231458907<<<<<<<<<<<<<<<',
    '7408122F1204158UTO<<<<<<<<<<<6',
    'ERIKSSON<<ANNA<MARIA<<<<<<<<<<',
  ]);
  assert.equal(r.checkDigitsValid, false);
  assert.equal(r.fields.expirationDateCheckDigit?.valid, false);
  assert.equal(r.extracted.expiry_date, undefined);
  assert.ok(!('expiry_date' in r.extracted));
  assert.equal(r.extracted.date_of_birth, '1974-08-12');
});

// ---------------------------------------------------------------------------------------------------
// Moroccan CNIE

const iso = (yymmdd: string, century: number): string =>
  `${century + Number(yymmdd.slice(0, 2))}-${yymmdd.slice(2, 4)}-${yymmdd.slice(4, 6)}`;

for (const item of morocco?.items ?? [{ id: 'items', mrz: [], fields: {} }]) {
  test(
    `Moroccan CNIE ${item.id}: every field maps to extracted, the CIN as personal_number`,
    { skip },
    () => {
      const r = read(item.mrz);
      assert.equal(r.format, 'TD1');
      assert.equal(r.valid, true);
      assert.equal(r.checkDigitsValid, true);
      const f = item.fields;
      assert.deepEqual(r.extracted, {
        document_code: f.document_code,
        document_type: 'national_id',
        issuing_country: f.issuing_state,
        document_number: f.document_number,
        last_name: f.surname,
        first_name: f.given_names,
        full_name: `${f.given_names} ${f.surname}`,
        // Born in the last century (83, 78 are after today's 26); the cards expire in 2029.
        date_of_birth: iso(f.birth_date, 1900),
        expiry_date: iso(f.expiry_date, 2000),
        gender: f.sex,
        nationality: f.nationality,
        optional_data: f.cin,
        personal_number: f.cin,
      });
    },
  );

  test(`Moroccan CNIE ${item.id}: the malformed source lines still read`, { skip }, () => {
    const r = read(item.raw_source_lines);
    assert.equal(r.format, 'TD1');
    assert.equal(r.checkDigitsValid, item.icao_check_digits_all_ok);
    // Lines 1 and 2 carry every check digit: padded or trimmed back to 30, they are the specimen's.
    assert.deepEqual(r.lines.slice(0, 2), item.mrz.slice(0, 2));
    assert.equal(r.extracted.document_number, item.fields.document_number);
    assert.equal(r.extracted.personal_number, item.fields.cin);
    assert.equal(r.extracted.date_of_birth, iso(item.fields.birth_date, 1900));
    assert.equal(r.extracted.expiry_date, iso(item.fields.expiry_date, 2000));
    // The EL ALAMI source misspells the name line (EL<ALAMI<ZAINED, one filler between the names): no
    // check digit covers names, so only the line's length is repaired and the names read as printed.
    const names = (line: string): string => line.replace(/<+$/, '');
    if (names(item.raw_source_lines[2]) === names(item.mrz[2])) assert.deepEqual(r.lines, item.mrz);
    else assert.equal(r.extracted.last_name, 'EL ALAMI ZAINED');
  });
}

test(
  'Moroccan CNIE negative example (two lines, 29 characters, failing check digits) is not valid',
  { skip },
  () => {
    const r = read(morocco.negative_example.mrz);
    assert.equal(r.valid, false);
    assert.equal(r.checkDigitsValid, false);
  },
);

// ---------------------------------------------------------------------------------------------------
// Raw OCR text

test('raw OCR text: other lines, lower case, spaces, « and ( for fillers, a lost trailing filler', () => {
  const text = [
    'REPUBLIC OF UTOPIA   PASSPORT',
    '',
    'p<utoeriksson«anna<maria<<<<<<<<<<<<<<<<<<', // « is two fillers; one trailing filler lost
    'L898902C36 UTO7408122F1204159ZE184226B((<<<10',
    '  ',
  ].join('\n');
  const r = read(text);
  assert.equal(r.format, 'TD3');
  assert.deepEqual(r.lines, [
    'P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<',
    'L898902C36UTO7408122F1204159ZE184226B<<<<<10',
  ]);
  assert.equal(r.checkDigitsValid, true);
});

test('raw OCR text: a filler lost inside a run is put back where the check digits say', () => {
  const r = read([
    'I<UTOD231458907<<<<<<<<<<<<<<<',
    '7408122F1204159UTO<<<<<<<<<<6',
    'ERIKSSON<<ANNA<MARIA<<<<<<<<<<<',
  ]);
  assert.deepEqual(r.lines, [
    'I<UTOD231458907<<<<<<<<<<<<<<<',
    '7408122F1204159UTO<<<<<<<<<<<6',
    'ERIKSSON<<ANNA<MARIA<<<<<<<<<<',
  ]);
  assert.equal(r.checkDigitsValid, true);
});

test('text without an MRZ reads as nothing', () => {
  const r = read('NAME: ANNA MARIA ERIKSSON\nDATE OF BIRTH: 12 AUG 1974');
  assert.equal(r.format, undefined);
  assert.equal(r.valid, false);
  assert.deepEqual(r.lines, []);
  assert.deepEqual(r.extracted, {});
});

// ---------------------------------------------------------------------------------------------------
// Dates

test('two-digit years: births are never in the future, expiries at most 50 years out', () => {
  assert.equal(birthDateIso('260301', today), '2026-03-01');
  assert.equal(birthDateIso('260302', today), '1926-03-02');
  assert.equal(birthDateIso('740812', today), '1974-08-12');
  assert.equal(expiryDateIso('760101', today), '2076-01-01');
  assert.equal(expiryDateIso('770101', today), '1977-01-01');
  assert.equal(expiryDateIso('940623', today), '1994-06-23');
  assert.equal(birthDateIso('7408<<', today), undefined);
  assert.equal(expiryDateIso('230229', today), undefined);
  assert.equal(expiryDateIso('240229', today), '2024-02-29');
});

// ---------------------------------------------------------------------------------------------------
// OCR confusions

const TD3 = ['P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<', 'L898902C36UTO7408122F1204159ZE184226B<<<<<10'];

function withChars(lines: readonly string[], changes: [number, number, string][]): string[] {
  const out = [...lines];
  for (const [line, pos, to] of changes)
    out[line] = out[line]!.slice(0, pos) + to + out[line]!.slice(pos + 1);
  return out;
}

test('0→O in the document number, 1→I in the birth date, 5→S in a check digit, < →K in fillers', () => {
  const noisy = withChars(TD3, [
    [1, 5, 'O'], // document number L8989O2C3
    [1, 17, 'I'], // birth date 7408I2
    [1, 19, 'Z'], // birth date check digit 2 → Z
    [0, 40, 'K'], // a filler after the names
    [1, 40, 'K'], // a filler after the personal number
  ]);
  const r = read(noisy);
  assert.deepEqual(r.lines, TD3);
  assert.equal(r.checkDigitsValid, true);
  assert.equal(r.ambiguous, false);
  const byPosition = r.corrections.map((c) => `${c.line}:${c.position} ${c.from}→${c.to} ${c.field}`).sort();
  assert.deepEqual(byPosition, [
    '0:40 K→< firstName',
    '1:17 I→1 birthDate',
    '1:19 Z→2 birthDateCheckDigit',
    '1:40 K→< personalNumber',
    '1:5 O→0 documentNumber',
  ]);
});

test('a letter read for a digit in the optional data of a TD1 is repaired by the composite', () => {
  const cnie = [
    'I<MARVSI99998<5U1234567<<<<<<<',
    '8312055F2907228MAR<<<<<<<<<<<8',
    'EL<ALAMI<<ZAINEB<<<<<<<<<<<<<<',
  ];
  const r = read(withChars(cnie, [[0, 17, 'Z']]));
  assert.deepEqual(r.lines, cnie);
  assert.deepEqual(r.corrections, [{ line: 0, position: 17, from: 'Z', to: '2', field: 'optional1' }]);
  assert.equal(r.extracted.personal_number, 'U1234567');
});

test('a repair that cannot be told from another is not guessed: ambiguous, not valid', () => {
  // 007666667 read as 0O7666667: O→0 and other single swaps satisfy the long number's check alike.
  const noisy = [
    'I<PRT0O7666667<ZZ00<<<<<<<<<<<',
    '8303143M3405293PRT<<<<<<<<<<<4',
    'CACADOR<DE<ARAUJO<<ANDRE<ESTEV',
  ];
  const r = read(noisy);
  assert.equal(r.ambiguous, true);
  assert.equal(r.valid, false);
  assert.equal(r.checkDigitsValid, false);
  assert.deepEqual(r.lines, noisy);
  assert.equal(r.extracted.document_number, undefined);
});

/** mulberry32: a small deterministic PRNG, so the generated cases are the same on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LETTER_FOR_DIGIT: Record<string, string[]> = {
  '0': ['O', 'D'],
  '1': ['I'],
  '8': ['B'],
  '5': ['S'],
  '2': ['Z'],
  '6': ['G'],
};

interface NoiseSite {
  line: number;
  pos: number;
  to: string[];
  kind: 'date' | 'check digit' | 'document number' | 'filler';
}

/**
 * Where OCR noise can land and still be undone: digits of dates and check digits, digits of the
 * document number (not 6→G: G and 6 give the same 7-3-1 check digit, so nothing can see that swap), and
 * fillers in the run that ends a field (a K right after the data could be data; the document number's
 * own padding is left alone for the same reason as G).
 */
function noiseSites(lines: readonly string[]): NoiseSite[] {
  const layout = MRZ_LAYOUTS[layoutFormatOf(lines)!];
  const checks = resolveChecks(layout, lines);
  const numberCheck = checks.find((c) => c.field === 'documentNumberCheckDigit');
  const inNumber = new Set(numberCheck?.fixable.map((p) => `${p.line}:${p.pos}`));
  const sites: NoiseSite[] = [];
  for (const f of layout.fields) {
    const text = lines[f.line]!.slice(f.start, f.end);
    for (let i = 0; i < text.length; i++) {
      const pos = f.start + i;
      const c = text[i]!;
      const letters = LETTER_FOR_DIGIT[c];
      if (classAt(layout, checks, f.line, pos) === 'numeric') {
        const kind = checks.some((c) => c.digit.line === f.line && c.digit.pos === pos)
          ? 'check digit'
          : 'date';
        if (letters) sites.push({ line: f.line, pos, to: letters, kind });
      } else if (inNumber.has(`${f.line}:${pos}`)) {
        if (letters && c !== '6') sites.push({ line: f.line, pos, to: letters, kind: 'document number' });
      } else if (c === '<' && /^<+$/.test(text.slice(i))) {
        const before = text.slice(0, i);
        const trailing =
          f.field === 'names'
            ? /<<.*[A-Z]<<+$/.test(before)
            : f.cls === 'alpha'
              ? /[A-Z]<<+$/.test(before)
              : i === 0 || before.endsWith('<');
        if (trailing && f.field !== 'issuingState' && f.field !== 'nationality') {
          sites.push({ line: f.line, pos, to: ['K'], kind: 'filler' });
        }
      }
    }
  }
  return sites;
}

test('generated OCR noise: ≥ 98 % restored exactly, none turned into another valid MRZ', { skip }, (t) => {
  const sources: string[][] = [
    ...reference.items.filter((i: any) => i.icao_check_digits_all_ok !== null).map((i: any) => i.mrz),
    ...reference.items.filter((i: any) => i.format === 'FRA_CNI_2x36').map((i: any) => i.mrz),
    ...morocco.items.map((i: any) => i.mrz),
    ...cheminfo.cases.filter((c: any) => c.expected_top?.valid).map((c: any) => c.mrz),
  ];
  const specimens = [...new Map(sources.map((m) => [m.join('\n'), m])).values()].filter((m) => {
    const format = layoutFormatOf(m);
    if (!format) return false; // the driving licences have no layout of ours
    const checks = resolveChecks(MRZ_LAYOUTS[format], m);
    return checks.every((c) => isCheckValid(c, m));
  });
  assert.ok(specimens.length >= 20, `${specimens.length} specimens`);

  const random = prng(0x5eed_2026);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const CASES = 400;
  let restored = 0;
  let wrong = 0;
  let undetectable = 0;
  const unresolved: string[] = [];
  const tally: Record<string, [number, number]> = {};
  for (let n = 0; n < CASES;) {
    const original = pick(specimens);
    const sites = noiseSites(original);
    const flips = new Map<string, NoiseSite & { char: string }>();
    const wanted = random() < 0.5 ? 1 : 2;
    // Kind first (the four of the issue: document number, date, check digit, filler), then a site of
    // that kind: fillers outnumber digits and would otherwise dominate.
    const kinds = [...new Set(sites.map((s) => s.kind))];
    while (flips.size < wanted) {
      const kind = pick(kinds);
      const site = pick(sites.filter((s) => s.kind === kind));
      flips.set(`${site.line}:${site.pos}`, { ...site, char: pick(site.to) });
    }
    const noisy = withChars(
      original,
      [...flips.values()].map((f) => [f.line, f.pos, f.char]),
    );
    // Two document-number swaps can cancel out under 7-3-1: then the noisy MRZ is itself valid and no
    // reader can know; such draws are set aside and counted, not scored.
    const numberOnly = withChars(
      original,
      [...flips.values()].filter((f) => f.kind === 'document number').map((f) => [f.line, f.pos, f.char]),
    );
    const layout = MRZ_LAYOUTS[layoutFormatOf(original)!];
    if (
      numberOnly.join() !== original.join() &&
      resolveChecks(layout, numberOnly).every((c) => isCheckValid(c, numberOnly))
    ) {
      undetectable++;
      continue;
    }
    n++;
    const drawn = [...new Set([...flips.values()].map((f) => f.kind))].sort().join(' + ');
    tally[drawn] ??= [0, 0];
    tally[drawn][0]++;
    const r = read(noisy);
    if (r.lines.join() === original.join()) {
      restored++;
      tally[drawn][1]++;
      assert.equal(r.checkDigitsValid, true);
      const expected = [...flips.values()].map(
        (f) => `${f.line}:${f.pos} ${f.char}→${original[f.line]![f.pos]}`,
      );
      const got = r.corrections.map((c) => `${c.line}:${c.position} ${c.from}→${c.to}`);
      assert.deepEqual(got.sort(), expected.sort(), JSON.stringify(noisy));
    } else {
      if (r.checkDigitsValid) wrong++;
      // Not restored: then not passed off as valid either.
      assert.equal(r.valid, false, JSON.stringify(noisy));
      unresolved.push(`${r.ambiguous ? 'ambiguous' : 'unrepaired'} ${JSON.stringify(noisy)}`);
    }
  }
  t.diagnostic(
    `${specimens.length} specimens, ${CASES} noisy cases (${undetectable} undetectable draws set aside)`,
  );
  t.diagnostic(`restored ${restored}/${CASES}; by kind: ${JSON.stringify(tally)}`);
  for (const u of unresolved) t.diagnostic(u);
  assert.equal(wrong, 0);
  assert.ok(restored / CASES >= 0.98, `restored ${restored}/${CASES}`);
});

test('a state code one letter confusion away from a single ICAO code is corrected (no check digit covers it)', () => {
  const r = readMrz(
    ['IDOHEA1234567<6<<<<<<<<<<<<<<<', '7510256M2009018CHE<<<<<<<<<<<8', 'SMITH<<JOHN<ALBERT<<<<<<<<<<<<'],
    { today: new Date('2015-01-01') },
  );
  assert.equal(r.valid, true);
  assert.equal(r.lines[0], 'IDCHEA1234567<6<<<<<<<<<<<<<<<');
  assert.equal(r.extracted.issuing_country, 'CHE');
  // No single confusion leads to a code: left as read, and invalid.
  const x = readMrz(
    ['IDXYZA1234567<6<<<<<<<<<<<<<<<', '7510256M2009018CHE<<<<<<<<<<<8', 'SMITH<<JOHN<ALBERT<<<<<<<<<<<<'],
    { today: new Date('2015-01-01') },
  );
  assert.equal(x.valid, false);
  assert.ok(x.lines[0]!.startsWith('IDXYZ'));
});

test('fillers read as a run of one letter at the end of the names line are fillers', () => {
  const r = readMrz(
    ['P<BELKARIMI<<RACHID<<<<AAAAAAAAAAAAAAAAAAAAA', 'CZ93118803BEL6301178M2009270<<<<<<<<<<<<<<<8'],
    { today: new Date('2026-01-01') },
  );
  assert.equal(r.extracted.first_name, 'RACHID');
  assert.equal(r.lines[0], 'P<BELKARIMI<<RACHID<<<<<<<<<<<<<<<<<<<<<<<<<');
  // A short given name made of one letter repeated is a name, not a run of fillers reaching the end.
  const aaa = readMrz(
    ['P<BELKARIMI<<AAA<<<<<<<<<<<<<<<<<<<<<<<<<<<<<', 'CZ93118803BEL6301178M2009270<<<<<<<<<<<<<<<8'],
    { today: new Date('2026-01-01') },
  );
  assert.equal(aaa.extracted.first_name, 'AAA');
});

test('a state code with a letter dropped and a filler shifted in is put back, the issuer deciding', () => {
  const r = readMrz(
    ['I<MARRGC24155<6F2981967<<<<<<<', '9107072F3103290MR<<<<<<<<<<<<9', 'CHRAIBI<<KAWTAR<<<<<<<<<<<<<<<'],
    { today: new Date('2026-01-01') },
  );
  assert.equal(r.lines[1], '9107072F3103290MAR<<<<<<<<<<<9');
  assert.equal(r.extracted.nationality, 'MAR');
  assert.equal(r.checkDigitsValid, true);
  const two = readMrz(
    ['I<MARVTA59871<6P8560834<<<<<<<', '7802258F3406304M<<<<<<<<<<<<<1', 'CHERKAOUI<<KAWTAR<<<<<<<<<<<<<'],
    { today: new Date('2026-01-01') },
  );
  assert.equal(two.extracted.nationality, 'MAR');
});
