/**
 * The active liveness challenge of the hosted capture page: the server picks an order of head turns,
 * the page films the person following it, and the frames are judged here. Three things must hold:
 *
 * 1. **The turns asked, in the order asked, and no others.** A turn is a run of frames whose nose tip
 *    moved sideways against the plane of the eye and mouth corners by at least `minTurnParallax`
 *    outer-eye-corner distances (`pipeline/face/head-motion.ts`; about 12° of yaw on the generic head of test/synth/head-turn.ts). A recording that
 *    loops left-right shows turns that were not asked for.
 * 2. **A head, not a picture.** At the most turned frame of each turn, the face cannot be laid back onto
 *    the frontal frame by one homography (`pipeline/face/planar-fit.ts`): a printed photo or a screen
 *    showing a still, however moved, tilted or brought closer, always can (patch correlation ≥ 0.98 on
 *    generated flat pictures; a head turned 20° stays below 0.93, see bench/eval-active-liveness.ts).
 * 3. **The person of the selfie.** The most frontal frame matches the selfie at the face-match threshold.
 *
 * A video of the person turning, replayed on a screen, moves like a head: what stops it is the random
 * order (the attacker needs clips of each turn, cued live) and the selfie's own display-grid check.
 */
export type TurnDirection = 'left' | 'right';

export const CHALLENGE_RULES = {
  /** Nose parallax of a turn, in outer-eye-corner distances (+: the person's left). */
  minTurnParallax: 0.045,
  /** Patch correlation after the best homography above which a turned face is a flat picture. */
  flatCorrelation: 0.95,
  /** Narrowing of the face plane that counts as the face having turned (about 20°: 1 − cos 20°). */
  movedNarrowing: 0.06,
  /** Frames whose planar fit decides whether what moved was a flat picture. */
  planarSamples: 4,
  /** Share of frames that must show one face. */
  minFaceShare: 0.7,
  minFrames: 8,
  maxFrames: 60,
  /** A challenge is answered within this many seconds of being issued, once. */
  ttlSeconds: 120,
  maxAttempts: 3,
} as const;

/** What the pipeline measured on one frame (in the order filmed). */
export interface FrameMeasure {
  /** The instruction on screen when the frame was taken (0-based index into the turns). */
  step: number;
  /** Milliseconds since the challenge started on the page. */
  t: number;
  face: boolean;
  /** Against the most frontal frame; undefined when no face or a degenerate fit. */
  parallax?: number;
  /** How much narrower the face plane looks than in the most frontal frame (pipeline/face/head-motion.ts). */
  narrowing?: number;
}

export type ChallengeFailure =
  | 'too_few_frames'
  | 'face_not_found'
  | 'not_turned'
  | 'wrong_turns'
  | 'flat_picture'
  | 'another_person'
  | 'not_answered';

export interface TurnOutcome {
  asked: TurnDirection;
  /** The largest nose parallax towards the asked side during the matching turn, or 0. */
  parallax: number;
  /** Patch correlation of the turn's peak frame with the frontal one (1 = a flat picture). */
  planar_correlation?: number;
  ok: boolean;
}

export interface ChallengeOutcome {
  status: 'passed' | 'failed';
  reason?: ChallengeFailure;
  asked: TurnDirection[];
  /** The turns seen in the frames, in order. */
  observed: TurnDirection[];
  turns: TurnOutcome[];
  frames: number;
  frames_with_face: number;
  /** Patch correlations of the most moved frames laid onto the frame at rest (1: one plane, a picture). */
  moved_planar_correlations: number[];
  /** Cosine of the most frontal frame with the selfie, and the threshold it was held to. */
  same_person?: { similarity: number; threshold: number };
  judged_at: string;
}

/** A run of consecutive frames turned the same way beyond the parallax threshold. */
export interface TurnRun {
  direction: TurnDirection;
  /** Index (into the measures) of the most turned frame of the run. */
  peak: number;
  parallax: number;
}

/**
 * The nose parallax of each frame as the median of it and its neighbours with a face: one frame whose
 * landmarks slipped neither splits a turn in two nor makes one.
 */
function smoothed(measures: FrameMeasure[]): (number | undefined)[] {
  const idx = measures.flatMap((m, i) => (m.parallax !== undefined ? [i] : []));
  const out: (number | undefined)[] = measures.map(() => undefined);
  idx.forEach((i, k) => {
    const w = [idx[k - 1], i, idx[k + 1]].filter((j): j is number => j !== undefined);
    const v = w.map((j) => measures[j]!.parallax!).sort((a, b) => a - b);
    out[i] = v.length === 3 ? v[1]! : measures[i]!.parallax!;
  });
  return out;
}

/**
 * The turns in the order filmed: a run starts where the (smoothed) parallax reaches the threshold one
 * way and ends where it falls below half of it (hysteresis: a head held at the threshold is one turn).
 * Frames without a face break nothing.
 */
export function turnRuns(
  measures: FrameMeasure[],
  asked: readonly TurnDirection[] = [],
  minParallax: number = CHALLENGE_RULES.minTurnParallax,
): TurnRun[] {
  const runs: TurnRun[] = [];
  let current: (TurnRun & { step: number }) | undefined;
  const values = smoothed(measures);
  values.forEach((p, i) => {
    if (p === undefined) return;
    const step = measures[i]!.step;
    const sign = current ? (current.direction === 'left' ? 1 : -1) : 0;
    // A head still turned when the next instruction asks the same way again is a new turn: the page's
    // return to the centre between them can be a single frame, which the smoothing takes out.
    const again = current !== undefined && step !== current.step && asked[step] === current.direction;
    if (current && !again && sign * p >= minParallax / 2) {
      if (sign * p > current.parallax) {
        current.peak = i;
        current.parallax = sign * p;
      }
      return;
    }
    current = undefined;
    if (Math.abs(p) >= minParallax) {
      current = { direction: p > 0 ? 'left' : 'right', peak: i, parallax: Math.abs(p), step };
      runs.push(current);
    }
  });
  return runs.map(({ direction, peak, parallax }) => ({ direction, peak, parallax }));
}

/**
 * The frames where the face moved most (beyond a turn's parallax or the narrowing of a turned plane),
 * most moved first: where a flat picture and a head differ.
 */
export function movedFrames(
  measures: FrameMeasure[],
  count: number = CHALLENGE_RULES.planarSamples,
): number[] {
  const r = CHALLENGE_RULES;
  return measures
    .map((m, i) => ({
      i,
      how: Math.max(Math.abs(m.parallax ?? 0) / r.minTurnParallax, (m.narrowing ?? 0) / r.movedNarrowing),
    }))
    .filter((x) => x.how >= 1)
    .sort((a, b) => b.how - a.how)
    .slice(0, count)
    .map((x) => x.i);
}

/**
 * Judge the frames of a challenge. `planar(i)` measures the planar fit of frame i on demand (it is the
 * costly part: only the peaks of the turns and the most moved frames are measured); `samePerson` is the
 * most frontal frame against the selfie, undefined when no frontal face was found.
 *
 * `flat_picture` (which rejects) needs motion: at least two frames where the face moved, and every
 * measured frame laid back onto the frontal one by a homography. A person who holds still is
 * `not_turned`, never a picture.
 */
export function judgeChallenge(
  asked: TurnDirection[],
  measures: FrameMeasure[],
  planar: (i: number) => number | undefined,
  samePerson: { similarity: number; threshold: number } | undefined,
  now: Date,
): ChallengeOutcome {
  const r = CHALLENGE_RULES;
  const withFace = measures.filter((m) => m.face).length;
  const runs = turnRuns(measures, asked);
  const observed = runs.map((x) => x.direction);
  const planarAt = new Map<number, number | undefined>();
  const fit = (i: number) => {
    if (!planarAt.has(i)) planarAt.set(i, planar(i));
    return planarAt.get(i);
  };
  const turns: TurnOutcome[] = asked.map((dir, k) => {
    const run = runs[k];
    if (!run || run.direction !== dir) return { asked: dir, parallax: 0, ok: false };
    const p = fit(run.peak);
    return {
      asked: dir,
      parallax: round3(run.parallax),
      ...(p !== undefined ? { planar_correlation: round3(p) } : {}),
      // A turn counts when its peak was filmed after the instruction was shown and is not a flat picture.
      ok: measures[run.peak]!.step >= k && p !== undefined && p < r.flatCorrelation,
    };
  });
  const sampled = [...new Set([...runs.map((x) => x.peak), ...movedFrames(measures)])]
    .map(fit)
    .filter((v): v is number => v !== undefined);
  const base = {
    asked,
    observed,
    turns,
    frames: measures.length,
    frames_with_face: withFace,
    moved_planar_correlations: sampled.map(round3),
    ...(samePerson ? { same_person: samePerson } : {}),
    judged_at: now.toISOString(),
  };
  const fail = (reason: ChallengeFailure): ChallengeOutcome => ({ status: 'failed', reason, ...base });
  if (measures.length < r.minFrames) return fail('too_few_frames');
  if (withFace < r.minFaceShare * measures.length) return fail('face_not_found');
  if (sampled.length >= 2 && sampled.every((v) => v >= r.flatCorrelation)) return fail('flat_picture');
  if (runs.length > asked.length || turns.some((t, k) => runs[k] && runs[k].direction !== t.asked))
    return fail('wrong_turns');
  if (!turns.every((t) => t.ok)) return fail('not_turned');
  if (!samePerson || samePerson.similarity < samePerson.threshold) return fail('another_person');
  return { status: 'passed', ...base };
}

/** The outcome of a challenge the session was completed without. */
export function notAnswered(now: Date): ChallengeOutcome {
  return {
    status: 'failed',
    reason: 'not_answered',
    asked: [],
    observed: [],
    turns: [],
    frames: 0,
    frames_with_face: 0,
    moved_planar_correlations: [],
    judged_at: now.toISOString(),
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** The orders of three turns that ask both ways (a person asked "left" thrice learns nothing new). */
const ORDERS: TurnDirection[][] = [
  ['left', 'left', 'right'],
  ['left', 'right', 'left'],
  ['left', 'right', 'right'],
  ['right', 'left', 'left'],
  ['right', 'left', 'right'],
  ['right', 'right', 'left'],
];

/** One of the six orders, drawn from a random 32-bit value (crypto-quality, given by the caller). */
export function drawTurns(random32: number): TurnDirection[] {
  return [...ORDERS[(random32 >>> 0) % ORDERS.length]!];
}
