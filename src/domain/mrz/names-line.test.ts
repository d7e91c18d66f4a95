import assert from 'node:assert/strict';
import { test } from 'node:test';
import { repairNamesLine, splitLostSeparator } from './names-line.ts';

const td1 = ['I<MARVTA59871<6P8560834<<<<<<<', '7802258F3406304MAR<<<<<<<<<<<1'];

test('letters the names line dropped are put back from the visual zone', () => {
  const lines = [...td1, 'CHERKAUI<<AWTAR<<<<<<<<<<<<<<<'];
  assert.deepEqual(repairNamesLine(lines, 'TD1', 'CHERKAOUI', 'KAWTAR'), [
    ...td1,
    'CHERKAOUI<<KAWTAR<<<<<<<<<<<<<',
  ]);
  const td3 = [
    'P<MARTEMSAMAN<<ABDELLAH<<<<<<<<<<<<<<<<<<<<<',
    'CP99455807MAR8506036M3111231B211155<<<<<<<48',
  ];
  assert.equal(
    repairNamesLine(td3, 'TD3', 'TEMSAMANI', 'ABDELLAH')[0],
    'P<MARTEMSAMANI<<ABDELLAH<<<<<<<<<<<<<<<<<<<<',
  );
  // Spaces and hyphens are fillers.
  assert.equal(
    repairNamesLine([...td1, 'AIT<SAD<<FATIMA<ZAHRA<<<<<<<<<'], 'TD1', 'AIT SAID', 'FATIMA-ZAHRA')[2],
    'AIT<SAID<<FATIMA<ZAHRA<<<<<<<<',
  );
});

test('a names line is left as read when the visual zone does not just add letters to it', () => {
  const lines = [...td1, 'CHERKAOUI<<KAWTAR<<<<<<<<<<<<<'];
  // Same names.
  assert.deepEqual(repairNamesLine(lines, 'TD1', 'CHERKAOUI', 'KAWTAR'), lines);
  // A letter the visual zone lacks (the MRZ is not a subsequence of it).
  assert.deepEqual(repairNamesLine(lines, 'TD1', 'CHERKAUI', 'KAWTAR'), lines);
  // Another person.
  assert.deepEqual(repairNamesLine(lines, 'TD1', 'BENANI', 'LAMIAE'), lines);
  // Too many letters missing to be the same line.
  const short = [...td1, 'CHR<<KTR<<<<<<<<<<<<<<<<<<<<<'];
  assert.deepEqual(repairNamesLine(short, 'TD1', 'CHERKAOUI', 'KAWTAR'), short);
  // Names longer than the line (truncated on the document).
  assert.deepEqual(
    repairNamesLine([...td1, 'ABCDEFGHIJKLMNOPQRSTUVW<<ABCDE'], 'TD1', 'ABCDEFGHIJKLMNOPQRSTUVWX', 'ABCDEFG'),
    [...td1, 'ABCDEFGHIJKLMNOPQRSTUVW<<ABCDE'],
  );
  // French CNI lines are another layout.
  assert.deepEqual(repairNamesLine(['IDFRA'], 'FRENCH_NATIONAL_ID', 'X', 'Y'), ['IDFRA']);
});

test('a lost separator is put back where the visual zone’s surname ends, and only then', () => {
  assert.deepEqual(splitLostSeparator('ZERHOUNI HAMZA', 'Zerhouni', 'Hamza'), {
    last_name: 'ZERHOUNI',
    first_name: 'HAMZA',
  });
  assert.deepEqual(splitLostSeparator('EL FASSI OMAR', 'EL FASSI', 'OMAR'), {
    last_name: 'EL FASSI',
    first_name: 'OMAR',
  });
  // A letter differs (a misread, or an altered name): no split, the disagreement stays.
  assert.equal(splitLostSeparator('ZERHOUNI HAMZA', 'ZERHOUNA', 'HAMZA'), undefined);
  assert.equal(splitLostSeparator('ZERHOUNI HAMZA', 'ZERHOUNI', 'HAMZAA'), undefined);
  assert.equal(splitLostSeparator('ZERHOUNI', 'ZERHOUNI', 'HAMZA'), undefined);
});
