import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CHALLENGE_RULES,
  drawTurns,
  judgeChallenge,
  turnRuns,
  type FrameMeasure,
  type TurnDirection,
} from './liveness-challenge.ts';

const now = new Date('2026-12-07T12:00:00Z');
const same = { similarity: 0.8, threshold: 0.4 };

/** Frames of a film: `plan` lists, per frame, [step, parallax, narrowing]. */
function film(plan: [number, number, number?][]): FrameMeasure[] {
  return plan.map(([step, parallax, narrowing = 0], i) => ({
    step,
    t: i * 250,
    face: true,
    parallax,
    narrowing,
  }));
}

/** A head turning each way asked, back to the centre in between (0.15 at the peak). */
function turning(turns: TurnDirection[], peak = 0.15): [number, number, number][] {
  const out: [number, number, number][] = [
    [0, 0, 0],
    [0, 0.005, 0],
    [0, -0.004, 0],
  ];
  turns.forEach((t, k) => {
    const s = t === 'left' ? 1 : -1;
    for (const f of [0.3, 0.7, 1, 1, 0.6, 0.2, 0]) out.push([k, s * peak * f, 0.08 * f]);
  });
  return out;
}

test('turns are runs beyond the threshold; one slipped frame neither splits a turn nor makes one', () => {
  const runs = turnRuns(
    film([
      [0, 0],
      [0, 0.1],
      [0, 0.12],
      [0, 0.01],
      [0, 0.13],
      [0, 0.1],
      [0, 0],
      [1, 0.2],
      [1, 0],
      [1, 0],
    ]),
  );
  assert.deepEqual(
    runs.map((r) => r.direction),
    ['left'],
    'the dip at frame 3 is one frame; the spike at frame 7 is one frame',
  );
  const two = turnRuns(film(turning(['left', 'right']).map(([s, p]) => [s, p])));
  assert.deepEqual(
    two.map((r) => r.direction),
    ['left', 'right'],
  );
});

test('the same way asked twice: a head still turned when the second instruction comes is a second turn', () => {
  // Left, back to the centre for one frame only, left again: the smoothing takes the centre frame out.
  const plan: [number, number][] = [
    [0, 0],
    [0, 0],
    [0, 0.1],
    [0, 0.15],
    [0, 0.14],
    [1, 0.01],
    [1, 0.12],
    [1, 0.15],
    [1, 0.1],
    [2, 0],
    [2, -0.12],
    [2, -0.15],
    [2, 0],
    [2, 0],
  ];
  assert.deepEqual(
    turnRuns(film(plan), ['left', 'left', 'right']).map((r) => r.direction),
    ['left', 'left', 'right'],
  );
  // Asked the other way next, the same frames are one turn: a slow return is not a turn.
  assert.deepEqual(
    turnRuns(film(plan), ['left', 'right', 'right']).map((r) => r.direction),
    ['left', 'right'],
  );
});

test('a head turning as asked passes; the planar fit is asked only where the face moved', () => {
  const asked: TurnDirection[] = ['left', 'right', 'left'];
  const measured: number[] = [];
  const o = judgeChallenge(asked, film(turning(asked)), (i) => (measured.push(i), 0.8), same, now);
  assert.equal(o.status, 'passed', JSON.stringify(o));
  assert.deepEqual(o.observed, asked);
  assert.ok(measured.length <= 3 + CHALLENGE_RULES.planarSamples);
});

test('every moved frame on one plane is a flat picture; a person holding still is not', () => {
  const asked: TurnDirection[] = ['left', 'right', 'left'];
  const flat = judgeChallenge(asked, film(turning(asked)), () => 0.99, same, now);
  assert.equal(flat.reason, 'flat_picture');
  // A picture turned (narrowing) with no parallax at all: still a picture.
  const turnedSheet = film(Array.from({ length: 20 }, (_, i) => [0, 0.01, i % 5 === 2 ? 0.15 : 0]));
  assert.equal(judgeChallenge(asked, turnedSheet, () => 0.995, same, now).reason, 'flat_picture');
  const still = film(Array.from({ length: 20 }, () => [0, 0.003, 0]));
  assert.equal(judgeChallenge(asked, still, () => 1, same, now).reason, 'not_turned');
});

test('other turns, a turn before its instruction, too few frames, no face, another person: each named', () => {
  const asked: TurnDirection[] = ['left', 'right', 'left'];
  const head = () => 0.8;
  assert.equal(
    judgeChallenge(asked, film(turning(['right', 'left', 'right'])), head, same, now).reason,
    'wrong_turns',
  );
  assert.equal(
    judgeChallenge(asked, film(turning(['left', 'right', 'left', 'right'])), head, same, now).reason,
    'wrong_turns',
    'a loop shows more turns than asked',
  );
  const early = film(turning(asked).map(([s, p, n]): [number, number, number] => [Math.min(s, 1), p, n]));
  assert.equal(
    judgeChallenge(asked, early, head, same, now).reason,
    'not_turned',
    'the last turn came before it was asked',
  );
  assert.equal(
    judgeChallenge(asked, film(turning(asked)).slice(0, 5), head, same, now).reason,
    'too_few_frames',
  );
  const faceless = film(turning(asked)).map((m, i) =>
    i % 2 ? { ...m, face: false, parallax: undefined } : m,
  );
  assert.equal(judgeChallenge(asked, faceless, head, same, now).reason, 'face_not_found');
  assert.equal(
    judgeChallenge(asked, film(turning(asked)), head, { similarity: 0.2, threshold: 0.4 }, now).reason,
    'another_person',
  );
  assert.equal(judgeChallenge(asked, film(turning(asked)), head, undefined, now).reason, 'another_person');
});

test('every drawn order asks both ways, three turns', () => {
  const seen = new Set<string>();
  for (let r = 0; r < 60; r++) {
    const t = drawTurns(r * 2654435761);
    assert.equal(t.length, 3);
    assert.ok(t.includes('left') && t.includes('right'));
    seen.add(t.join());
  }
  assert.equal(seen.size, 6);
});
