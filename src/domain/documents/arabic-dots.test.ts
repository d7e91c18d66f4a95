import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CITIES, FEMALE_NAMES, MALE_NAMES, SURNAMES } from '../../../test/synth/identities.ts';
import { restoreDots, spellsSameName } from './arabic-dots.ts';

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
