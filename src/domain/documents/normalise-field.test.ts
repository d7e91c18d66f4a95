import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FieldRegion } from './document-template.ts';
import { mergeFields, minorNameDifference, minorNumberDifference } from './merge-fields.ts';
import { cleanArabic, normaliseField, parseDmyDate } from './normalise-field.ts';
import { DOCUMENT_TEMPLATES, templateById } from './templates.ts';

const cnie = templateById('mar_cnie_2020')!;
const region = (field: string): FieldRegion => cnie.fields.find((f) => f.field === field)!;
const value = (field: string, raw: string) => normaliseField(region(field), raw)?.value;

test('dates: day-month-year in the print forms OCR returns → ISO; impossible dates refused', () => {
  assert.equal(parseDmyDate('05/12/1983'), '1983-12-05');
  assert.equal(parseDmyDate('valable jusqau22/07/2029u'), '2029-07-22');
  assert.equal(parseDmyDate('22.07.2029'), '2029-07-22');
  assert.equal(parseDmyDate('22 07 2029'), '2029-07-22');
  assert.equal(parseDmyDate('31/02/2020'), undefined);
  assert.equal(parseDmyDate('12/13/2020'), undefined);
  assert.equal(parseDmyDate('29/02/2024'), '2024-02-29');
  assert.equal(parseDmyDate('05 DEC 1983'), '1983-12-05');
  assert.equal(parseDmyDate('05DEC1983'), '1983-12-05');
  assert.equal(parseDmyDate('14 JUIL/JUL 2021'), '2021-07-14');
  assert.equal(parseDmyDate('1 févr. 2020'.replace('.', '')), '2020-02-01');
  assert.equal(parseDmyDate('05 XYZ 1983'), undefined);
});

test('labels and prepositions are stripped even when OCR damaged or glued them', () => {
  assert.equal(value('father_name', 'Fils de MUSTAPHA'), 'MUSTAPHA');
  assert.equal(value('father_name', 'ISDEMUSTAPHA'), 'MUSTAPHA');
  assert.equal(value('mother_name', 'ETDE SOUAD LAHLOU'), 'SOUAD LAHLOU');
  assert.equal(value('place_of_birth', 'à LARACHE'), 'LARACHE');
  // A one-letter preposition glued to the value is ambiguous and left.
  assert.equal(value('place_of_birth', 'AGADIR'), 'AGADIR');
  assert.equal(value('address_arabic', 'العوان 65 شارع المسيرة'), '65 شارع المسيرة');
  assert.equal(value('place_of_birth_arabic', 'ب ورزازات'), 'ورزازات');
});

test('document numbers: letter/digit confusions fixed by the CIN shape', () => {
  assert.equal(value('document_number', 'U1234S67'), 'U1234567');
  assert.equal(value('document_number', '8E123456'), 'BE123456');
  assert.equal(normaliseField(region('document_number'), '12')?.value, undefined);
});

test('Arabic: harakat, tatweel and Latin noise dropped; digits only where the field has them', () => {
  assert.equal(cleanArabic('زَيْنَب |'), 'زينب');
  assert.equal(cleanArabic('العـلمي'), 'العلمي');
  assert.equal(value('last_name_arabic', '‎١‏ لعلمي'), 'لعلمي');
});

test('merge: agreement combines, checked fields keep the valid MRZ, names the more confident reading', () => {
  const m = mergeFields(
    {
      document_number: { value: 'U1234567', confidence: 0.99 },
      last_name: { value: 'S', confidence: 0.6 },
      first_name: { value: 'ZAINEB', confidence: 0.8 },
      date_of_birth: { value: '1983-12-05', confidence: 0.99 },
    },
    {
      document_number: { value: 'U1234S67', confidence: 0.9 },
      last_name: { value: 'SQALLI', confidence: 0.9 },
      first_name: { value: 'ZAINEB', confidence: 0.9 },
      place_of_birth: { value: 'OUARZAZATE', confidence: 0.9 },
    },
    true,
  );
  assert.equal(m.fields.document_number!.value, 'U1234567');
  assert.equal(m.fields.document_number!.provenance, 'mrz');
  assert.ok(m.fields.document_number!.confidence < 0.99);
  assert.equal(m.fields.last_name!.value, 'SQALLI');
  assert.equal(m.fields.first_name!.provenance, 'mrz+visual_zone');
  assert.ok(m.fields.first_name!.confidence > 0.9);
  assert.equal(m.fields.place_of_birth!.provenance, 'visual_zone');
  assert.equal(m.fields.date_of_birth!.provenance, 'mrz');
  assert.deepEqual(
    m.disagreements.map((d) => d.field),
    ['document_number', 'last_name'],
  );
});

test('templates: ids unique, boxes inside the side, fields on declared sides', () => {
  assert.equal(new Set(DOCUMENT_TEMPLATES.map((t) => t.id)).size, DOCUMENT_TEMPLATES.length);
  for (const t of DOCUMENT_TEMPLATES)
    for (const f of t.fields) {
      const [x, y, w, h] = f.box;
      assert.ok(x >= 0 && y >= 0 && x + w <= 1.001 && y + h <= 1.001, `${t.id}.${f.field} box`);
      assert.ok(t.sides.includes(f.side), `${t.id}.${f.field} side`);
    }
});

test('addresses: a house number read with letters for digits becomes a number', () => {
  assert.equal(value('address', 'Adresse 9O BD AL MASSIRA'), '90 BD AL MASSIRA');
  assert.equal(value('address', '1OO RUE AL WAHDA'), '100 RUE AL WAHDA');
  assert.equal(value('address', 'BD OUED DRAA'), 'BD OUED DRAA');
});

test('Arabic names: a lone letter split off by OCR joins the next word; real two-word names stay', () => {
  assert.equal(value('first_name_arabic', 'ل طيفة'), 'لطيفة');
  assert.equal(value('last_name_arabic', 'آيت سعيد'), 'آيت سعيد');
});

test('merge: a name one reading cut short takes the longer reading, whatever the confidences', () => {
  const m = mergeFields(
    { last_name: { value: 'KABBAJ', confidence: 0.7 }, first_name: { value: 'BELHA', confidence: 0.95 } },
    { last_name: { value: 'KABBA', confidence: 0.95 }, first_name: { value: 'BELHAJ', confidence: 0.7 } },
    true,
  );
  assert.equal(m.fields.last_name!.value, 'KABBAJ');
  assert.equal(m.fields.first_name!.value, 'BELHAJ');
  assert.equal(m.disagreements.length, 2);
  // Letters dropped inside the name too (a long MRZ line read whole), not only at its end.
  const inside = mergeFields(
    { first_name: { value: 'GHLANE', confidence: 0.95 } },
    { first_name: { value: 'GHIZLANE', confidence: 0.7 } },
    true,
  );
  assert.equal(inside.fields.first_name!.value, 'GHIZLANE');
  // Different letters are no dropped letters: the more confident reading wins.
  const other = mergeFields(
    { first_name: { value: 'GHIZLANE', confidence: 0.95 } },
    { first_name: { value: 'GHIZLAME', confidence: 0.7 } },
    true,
  );
  assert.equal(other.fields.first_name!.value, 'GHIZLANE');
});

test('a caption read for its value is no value', () => {
  const region = {
    field: 'last_name_arabic',
    side: 'front',
    box: [0, 0, 1, 1],
    script: 'arabic',
    format: 'name',
    prefixes: ['الاسم العائلي'],
  } as const;
  assert.equal(normaliseField(region, 'العائلي'), undefined);
  assert.equal(normaliseField(region, 'الاسم العائلي'), undefined);
  assert.equal(normaliseField(region, 'الصقلي')?.value, 'الصقلي');
  const latin = {
    ...region,
    field: 'address',
    script: 'latin',
    format: 'text',
    prefixes: ['ADRESSE'],
  } as const;
  assert.equal(normaliseField(latin, 'Adresse'), undefined);
  assert.equal(normaliseField(latin, 'ADRESSE 12 RUE X')?.value, '12 RUE X');
});

test('what is left of a blurred label in front of the value goes', () => {
  const mother = {
    field: 'mother_name',
    side: 'back',
    box: [0, 0, 1, 1],
    script: 'latin',
    format: 'name',
    prefixes: ['ET DE'],
  } as const;
  assert.equal(normaliseField(mother, 'ET DE LATIFA LAHLOU')?.value, 'LATIFA LAHLOU');
  assert.equal(normaliseField(mother, 'D LATIFA LAHLOU')?.value, 'LATIFA LAHLOU');
  assert.equal(normaliseField(mother, 'DE KAWTAR EL IDRISSI')?.value, 'KAWTAR EL IDRISSI');
  const father = { ...mother, field: 'father_name', prefixes: ['FILS DE', 'FILLE DE'] } as const;
  assert.equal(normaliseField(father, 'FE DE NABIL')?.value, 'NABIL');
  assert.equal(normaliseField(father, 'AHMED BEN ALI')?.value, 'AHMED BEN ALI');
});

test('merge: a number caption glued to the printed number is not a disagreement; another number is', () => {
  for (const printed of ['NG7215901', 'NOG7215901', 'N0G7215901']) {
    const m = mergeFields(
      { document_number: { value: 'G7215901', confidence: 0.99 } },
      { document_number: { value: printed, confidence: 0.9 } },
      true,
    );
    assert.equal(m.fields.document_number!.value, 'G7215901', printed);
    assert.equal(m.fields.document_number!.provenance, 'mrz+visual_zone', printed);
    assert.deepEqual(m.disagreements, [], printed);
  }
  // A different letter before the number, or a changed digit, still disagrees.
  for (const printed of ['XG7215901', 'G7215907']) {
    const m = mergeFields(
      { document_number: { value: 'G7215901', confidence: 0.99 } },
      { document_number: { value: printed, confidence: 0.9 } },
      true,
    );
    assert.equal(m.disagreements.length, 1, printed);
  }
});

test('merge: a name one confusable glyph or one dropped letter away is a minor disagreement', () => {
  assert.ok(minorNameDifference('KABBAJ', 'KABBAI'));
  assert.ok(minorNameDifference('BENJELLOUN', 'BENJELOUN'));
  assert.ok(!minorNameDifference('KABBAJ', 'KABBAZ'), 'J and Z are not confused');
  assert.ok(!minorNameDifference('ALAMI', 'ALAOUI'));
  assert.ok(!minorNameDifference('TAZI', 'FASSI'));
  const m = mergeFields(
    {
      last_name: { value: 'KABBAJ', confidence: 0.9 },
      document_number: { value: 'G7215901', confidence: 0.99 },
    },
    {
      last_name: { value: 'KABBAI', confidence: 0.8 },
      document_number: { value: 'G7215907', confidence: 0.9 },
    },
    true,
  );
  assert.deepEqual(
    m.disagreements.map((d) => [d.field, d.minor ?? false]),
    [
      ['last_name', true],
      ['document_number', false],
    ],
  );
});

test('merge: the names line cells tell an MRZ that lost letters from a printed name of another length', () => {
  const sv = (value: string) => ({ value, confidence: 0.9 });
  const merge = (mrz: string, vz: string, cells: number | undefined) =>
    mergeFields({ last_name: sv(mrz) }, { last_name: sv(vz) }, true, { last_name: cells }).disagreements[0];
  // The MRZ read two letters short, but its cells hold the printed name's ten: a misread, the printed name kept.
  const misread = merge('BENJEOUN', 'BENJELLOUN', 10.1);
  assert.equal(misread?.minor, true);
  assert.equal(misread?.cells_verdict, 'mrz_misread');
  const kept = mergeFields({ last_name: sv('BENJEOUN') }, { last_name: sv('BENJELLOUN') }, true, {
    last_name: 9.9,
  });
  assert.equal(kept.fields.last_name?.value, 'BENJELLOUN');
  // Without the cells, two lost letters stay a disagreement.
  assert.equal(merge('BENJEOUN', 'BENJELLOUN', undefined)?.minor, undefined);
  // The MRZ's nine cells were all read: a printed tenth letter is a different name, not a dropped letter.
  const longer = merge('CHERKAOUI', 'CHERKAOUII', 8.9);
  assert.equal(longer?.minor, undefined);
  assert.equal(longer?.cells_verdict, 'lengths_differ');
  assert.equal(merge('CHERKAOUI', 'CHERKAOUII', undefined)?.minor, true);
  // A compound name counts its inner filler; an umlaut the MRZ may write with two letters is not a difference.
  assert.equal(merge('EL IDRSSI', 'EL IDRISSI', 10)?.cells_verdict, 'mrz_misread');
  assert.equal(merge('MUELLER', 'MÜLLER', 7)?.cells_verdict, undefined);
  assert.equal(merge('MUELLER', 'MÜLLER', 7)?.minor, true);
});

test('merge: a document number one confusable letter away from a valid MRZ is a misread; a digit never is', () => {
  assert.ok(minorNumberDifference('J891231', 'I891231'), 'J read I');
  assert.ok(!minorNumberDifference('J891231', 'J891237'), 'a digit');
  assert.ok(!minorNumberDifference('J891231', 'Z891231'), 'J and Z are not confused');
  assert.ok(!minorNumberDifference('BE891231', 'EB891231'), 'two letters');
  assert.ok(!minorNumberDifference('B8912310', '88912310'), 'a letter read as a digit changes the number');
  assert.ok(!minorNumberDifference('J89123', 'I891231'), 'other lengths');
  const merge = (valid: boolean) =>
    mergeFields(
      { document_number: { value: 'J891231', confidence: 0.99 } },
      { document_number: { value: 'I891231', confidence: 0.9 } },
      valid,
    );
  const valid = merge(true);
  assert.equal(valid.disagreements[0]?.minor, true);
  assert.equal(valid.fields.document_number?.value, 'J891231', 'the MRZ number is reported');
  assert.equal(merge(false).disagreements[0]?.minor, undefined, 'MRZ check digits invalid: not minor');
});
