import assert from 'node:assert/strict';
import { test } from 'node:test';
import { issueDateByElimination } from './issue-date.ts';

test('the one other date between birth and expiry, at most ten years before expiry, is the issue date', () => {
  const dates = ['1985-04-02', '2019-06-11', '2029-06-10'];
  assert.equal(issueDateByElimination(dates, '1985-04-02', '2029-06-10'), '2019-06-11');
  // Read twice (two phrases) is still one date.
  assert.equal(issueDateByElimination([...dates, '2019-06-11'], '1985-04-02', '2029-06-10'), '2019-06-11');
});

test('no answer when the dates do not single one out', () => {
  // Two candidates.
  assert.equal(issueDateByElimination(['2019-06-11', '2020-01-01'], '1985-04-02', '2029-06-10'), undefined);
  // Only the birth and expiry dates.
  assert.equal(issueDateByElimination(['1985-04-02', '2029-06-10'], '1985-04-02', '2029-06-10'), undefined);
  // Longer before expiry than any validity.
  assert.equal(issueDateByElimination(['2012-06-11'], '1985-04-02', '2029-06-10'), undefined);
  // After expiry, or before birth.
  assert.equal(issueDateByElimination(['2030-01-01', '1980-01-01'], '1985-04-02', '2029-06-10'), undefined);
  // Without both MRZ dates nothing is eliminated.
  assert.equal(issueDateByElimination(['2019-06-11'], undefined, '2029-06-10'), undefined);
});
