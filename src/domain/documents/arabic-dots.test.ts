import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CITIES,
  createRng,
  FEMALE_NAMES,
  MALE_NAMES,
  randomIdentity,
  SURNAMES,
} from '../../../test/synth/identities.ts';
import { restoreDots, restoreDotsByWords, spellsSameName } from './arabic-dots.ts';

test('dots Arabic OCR missed are restored from the Latin spelling', () => {
  assert.equal(restoreDots('بتسعيد', 'BENSAID'), 'بنسعيد');
  assert.equal(restoreDots('التوزاتي', 'TOUZANI'), 'التوزاني');
  assert.equal(restoreDots('زبنب', 'ZAINEB'), 'زينب');
  assert.equal(restoreDots('ربم', 'RIM'), 'ريم');
  assert.equal(restoreDots('هسام', 'HICHAM'), 'هشام');
  assert.equal(restoreDots('الموساوى', 'MOUSSAOUI'), 'الموساوي');
  assert.equal(restoreDots('خديجه', 'KHADIJA'), 'خديجة');
});

test('correct readings, other shapes and unrelated spellings are left alone', () => {
  for (const [arabic, latin] of [
    ['الصقلي', 'SQALLI'],
    ['العلمي', 'EL ALAMI'],
    ['ورزازات', 'OUARZAZATE'],
    ['بني ملال', 'BENI MELLAL'],
    ['عبد الله', 'ABDELLAH'],
    ['التوزاني', 'TOUZANI'],
    // A translation, not a transliteration: no dots can be told from it.
    ['الدار البيضاء', 'CASABLANCA'],
  ])
    assert.equal(restoreDots(arabic!, latin!), arabic);
  // Only dots change: a reading with a wrong shape keeps it.
  assert.equal([...restoreDots('الماح', 'KABBAJ')].length, [...'الماح'].length);
  assert.equal(restoreDots('بنسعيد', ''), 'بنسعيد');
});

test('no correctly read Moroccan name or city of the generator lists is changed', () => {
  for (const [latin, arabic] of [...SURNAMES, ...MALE_NAMES, ...FEMALE_NAMES, ...CITIES])
    assert.equal(restoreDots(arabic, latin), arabic, latin);
});

test('a tentative reading is confirmed only when it spells the Latin name', () => {
  assert.equal(spellsSameName('نبيل', 'NABIL'), true);
  assert.equal(spellsSameName('تبيل', 'NABIL'), true);
  assert.equal(spellsSameName('خديجة', 'KHADIJA'), true);
  assert.equal(spellsSameName('اسل', 'NABIL'), false);
  // A consonant missing is another name (the specimen's زينب read "ازيبا" in word mode).
  assert.equal(spellsSameName('ازيبا', 'ZAINEB'), false);
  assert.equal(spellsSameName('زينب', 'ZAINEB'), true);
  assert.equal(spellsSameName('ات تيزنيت', 'TIZNIT'), false);
  assert.equal(spellsSameName('مزداد بتاريخ', 'NABIL'), false);
  assert.equal(spellsSameName('ن', 'N'), false);
});

test('an address has its dots restored word by word, in order, from the Latin words it transliterates', () => {
  const cases = [
    [
      '174 زنقة ابن خلدون الحي الحسني القنبطرة',
      '174 RUE IBN KHALDOUN HAY HASSANI KENITRA',
      '174 زنقة ابن خلدون الحي الحسني القنيطرة',
    ],
    [
      '47 شارع ابن بطوطة حي الرياض خربيكة',
      '47 AVENUE IBN BATOUTA HAY RIAD KHOURIBGA',
      '47 شارع ابن بطوطة حي الرياض خريبكة',
    ],
    // زتقة has زنقة's shape: RUE is translated, not transliterated.
    ['156 زتقة الأتدلس تابريكت فاس', '156 RUE AL ANDALOUS TABRIQUET FES', '156 زنقة الأندلس تابريكت فاس'],
    // Read right, left right.
    [
      '107 زنقة المسيرة حي الرياض الرباط',
      '107 RUE AL MASSIRA HAY RIAD RABAT',
      '107 زنقة المسيرة حي الرياض الرباط',
    ],
  ] as const;
  for (const [read, latin, want] of cases) assert.equal(restoreDotsByWords(read, latin), want);
  // A misread shape (an extra letter) is not forced into a word.
  assert.equal(restoreDotsByWords('101 زثعقة المقاومة', '101 RUE AL MOUKAWAMA'), '101 زثعقة المقاومة');
});

test('no correctly read address of the generator is changed', () => {
  const rng = createRng(7);
  for (let i = 0; i < 300; i++) {
    const id = randomIdentity(rng);
    assert.equal(restoreDotsByWords(id.addressArabic, id.address), id.addressArabic, id.address);
  }
});
