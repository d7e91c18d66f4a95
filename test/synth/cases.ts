/**
 * Labelled verification cases for the decision harness (`bench/eval-decisions.ts`): a Moroccan CNIE
 * front and back photographed at a difficulty, and a selfie, for a genuine customer or for one attack.
 *
 * People come from `../shared/data/faces/deepface` identity clusters (a portrait photo and another photo
 * of the same person as the selfie). The split is by person and by seed: `heldout` uses people, seeds and
 * recapture parameter families (`recapture.ts`) that tuning never sees.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { createRng, randomIdentity, type Identity, type Rng } from './identities.ts';
import { photograph, type PhotoLevel } from './photograph.ts';
import { printCopy, screenReplay, type AttackVariant } from './recapture.ts';
import { renderDocument } from './render-document.ts';

export const CASE_KINDS = [
  'genuine',
  'impostor_selfie',
  'printed_copy',
  'screen_replay',
  'portrait_swap',
  'tampered_name',
  'tampered_date',
  'tampered_number',
  'expired',
  'under_age',
  'missing_selfie',
  'duplicate_identity',
] as const;
export type CaseKind = (typeof CASE_KINDS)[number];

export type Split = 'tune' | 'heldout';

export interface LabelledCase {
  kind: CaseKind;
  level: PhotoLevel;
  split: Split;
  seed: number;
  images: { document_front: Buffer; document_back: Buffer; selfie?: Buffer };
  /** What the generator did, for diagnosis. */
  notes: Record<string, unknown>;
  /**
   * A verification the same account made before this one (`duplicate_identity`: the same person with a
   * genuine-looking card under another name and birth date). Send it first, in the same tenant.
   */
  earlier?: LabelledCase;
}

const FACES = fileURLToPath(new URL('../../../shared/data/faces/deepface/', import.meta.url));

/** Identity clusters of the deepface set: the transitive closure of its "Yes" pairs. */
export function faceClusters(dir = FACES): string[][] {
  if (!existsSync(dir)) return [];
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    if (!parent.has(x)) parent.set(x, x);
    const p = parent.get(x)!;
    if (p === x) return x;
    const r = find(p);
    parent.set(x, r);
    return r;
  };
  for (const csv of ['master.csv', 'face-recognition-pivot.csv']) {
    const file = path.join(dir, csv);
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').trim().split('\n').slice(1)) {
      const [a, b, decision] = line.split(',');
      if (!a || !b) continue;
      find(path.basename(a));
      find(path.basename(b));
      if (decision?.trim().toLowerCase() !== 'yes') continue;
      const ra = find(path.basename(a));
      const rb = find(path.basename(b));
      if (ra !== rb) parent.set(ra, rb);
    }
  }
  const groups = new Map<string, string[]>();
  for (const x of parent.keys()) {
    if (!existsSync(path.join(dir, x))) continue;
    const r = find(x);
    groups.set(r, [...(groups.get(r) ?? []), path.join(dir, x)]);
  }
  return [...groups.values()].map((g) => g.sort()).sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/**
 * Photos of the deepface set that cannot be a card's portrait: a card prints an ID photo (ICAO 9303: head
 * and shoulders, face centred), and these stage and group shots, cut to the portrait box, show a face a
 * fifth of the box high, half a face at the edge, or none (a man gesturing at the side of the frame).
 * They stay in use as selfies.
 */
const NOT_ID_PHOTOS = new Set([
  'img37.jpg',
  'img38.jpg',
  'img57.jpg',
  'img59.jpg',
  'img67.jpg',
  'couple.jpg',
  'selfie-many-people.jpg',
]);

/** A person's photos that can be printed as a card's portrait (all of them if none can). */
export function idPhotosOf(group: string[]): string[] {
  const ok = group.filter((f) => !NOT_ID_PHOTOS.has(path.basename(f)));
  return ok.length ? ok : group;
}

/** People of a split: every third cluster (by sorted first file) is held out. */
export function peopleOf(split: Split, dir = FACES): string[][] {
  return faceClusters(dir)
    .filter((g) => g.length >= 2)
    .filter((_, i) => (i % 3 === 2) === (split === 'heldout'));
}

const iso = (d: Date): string => d.toISOString().slice(0, 10);
const addYears = (d: Date, y: number): Date =>
  new Date(Date.UTC(d.getUTCFullYear() + y, d.getUTCMonth(), d.getUTCDate()));
const addDays = (d: Date, n: number): Date => new Date(d.getTime() + n * 86_400_000);

/**
 * The identity's dates made consistent with `today` for the case: a valid adult card (issued within
 * the last nine years), an expired one, or a minor's.
 */
function datedIdentity(rng: Rng, today: Date, dates: 'valid' | 'expired' | 'minor'): Identity {
  const id = randomIdentity(rng);
  let birth: Date;
  let issue: Date;
  if (dates === 'minor') {
    birth = addDays(addYears(today, -rng.int(12, 17)), -rng.int(1, 300));
    issue = addDays(today, -rng.int(30, 900));
    if (issue <= birth) issue = addDays(birth, 400);
  } else if (dates === 'expired') {
    birth = addDays(addYears(today, -rng.int(30, 70)), -rng.int(0, 364));
    issue = addDays(addYears(today, -rng.int(10, 14)), -rng.int(5, 300));
  } else {
    birth = addDays(addYears(today, -rng.int(19, 75)), -rng.int(0, 364));
    issue = addDays(today, -rng.int(30, 9 * 365));
  }
  const expiry = addYears(issue, 10);
  return {
    ...id,
    dateOfBirth: iso(birth),
    issueDate: iso(issue),
    expiryDate: iso(expiry),
    civilStatusNumber: `${id.civilStatusNumber.split('/')[0]}/${birth.getUTCFullYear()}`,
  };
}

async function selfieOf(file: string, rng: Rng): Promise<Buffer> {
  // A phone selfie: re-encoded, sometimes smaller.
  const long = rng.pick([640, 960, 1280]);
  return sharp(file)
    .rotate()
    .resize(long, long, { fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: rng.int(75, 92) })
    .toBuffer();
}

function otherDigit(c: string, rng: Rng): string {
  let d = c;
  while (d === c) d = String(rng.int(0, 9));
  return d;
}

/**
 * One labelled case. `today` is the service's clock (cards are dated against it). Deterministic in
 * (kind, level, split, seed).
 */
export async function buildCase(
  kind: CaseKind,
  level: PhotoLevel,
  split: Split,
  seed: number,
  today: Date,
  /** Force the holder (the photos of one person); otherwise drawn from the split's people. */
  person?: string[],
): Promise<LabelledCase> {
  const rng = createRng(seed);
  const variant: AttackVariant = split;
  const people = peopleOf(split);
  if (people.length < 2) throw new Error('buildCase needs ../shared/data/faces/deepface');
  const drawn = rng.pick(people);
  const holderGroup = person ?? drawn;
  let otherGroup = rng.pick(people);
  while (otherGroup === holderGroup) otherGroup = rng.pick(people);
  const portrait = rng.pick(idPhotosOf(holderGroup));
  let selfieFile = rng.pick(holderGroup);
  while (selfieFile === portrait) selfieFile = rng.pick(holderGroup);
  // A replaced portrait is glued in as an ID photo too; an impostor's selfie can be any photo.
  const fraudster = rng.pick(kind === 'portrait_swap' ? idPhotosOf(otherGroup) : otherGroup);

  const identity = datedIdentity(
    rng,
    today,
    kind === 'expired' ? 'expired' : kind === 'under_age' ? 'minor' : 'valid',
  );
  const notes: Record<string, unknown> = { portrait: path.basename(portrait) };
  // What the front prints (the back's MRZ always tells the holder's true data).
  let printed = identity;
  if (kind === 'tampered_name') {
    const other = randomIdentity(rng);
    printed = {
      ...identity,
      lastName: other.lastName === identity.lastName ? `${other.lastName}I` : other.lastName,
      lastNameArabic: other.lastNameArabic,
    };
    notes.printed_last_name = printed.lastName;
  } else if (kind === 'tampered_date') {
    const shifted = addYears(new Date(identity.dateOfBirth), -rng.int(2, 12));
    printed = { ...identity, dateOfBirth: iso(shifted) };
    notes.printed_date_of_birth = printed.dateOfBirth;
  } else if (kind === 'tampered_number') {
    const cin = identity.cin;
    const i = rng.int(cin.search(/\d/), cin.length - 1);
    printed = { ...identity, cin: cin.slice(0, i) + otherDigit(cin[i]!, rng) + cin.slice(i + 1) };
    notes.printed_cin = printed.cin;
  }
  const swap = kind === 'portrait_swap';
  const front = await renderDocument('mar_cnie_2020_front', printed, {
    rng,
    portraitPath: swap ? fraudster : portrait,
    ...(swap ? { ghostPortraitPath: portrait } : {}),
    ghostPrint: variant,
  });
  const back = await renderDocument('mar_cnie_2020_back', identity, { rng });

  // The camera's resolution, drawn apart so the other draws stay as they were: half the uploads are
  // downsized by the app (1600 px), half come at a phone camera's own size (8 or 12 MP).
  const longSide = createRng(seed + 0x9e3779b9).pick([1600, 1600, 3264, 4000]);
  notes.camera_long_side = longSide;
  // Each side is printed (or shown) with its own draws: the notes keep both sides'.
  const shoot = async (side: Buffer, name: 'front' | 'back'): Promise<Buffer> => {
    if (kind === 'printed_copy') {
      const p = await printCopy(side, rng, variant);
      notes.print = {
        ...(notes.print as object | undefined),
        [name]: { layout: p.layout, greyscale: p.greyscale },
      };
      return (await photograph(p.image, level, rng, { cornerRadius: 0, longSide })).jpeg;
    }
    if (kind === 'screen_replay') {
      const s = await screenReplay(side, rng, variant);
      notes.screen = { ...(notes.screen as object | undefined), [name]: s.device };
      return (await photograph(s.image, level, rng, { cornerRadius: 0.02, longSide })).jpeg;
    }
    return (await photograph(side, level, rng, { longSide })).jpeg;
  };
  const document_front = await shoot(front.image, 'front');
  const document_back = await shoot(back.image, 'back');
  const selfieSource =
    kind === 'impostor_selfie' || kind === 'portrait_swap'
      ? fraudster
      : kind === 'missing_selfie'
        ? undefined
        : selfieFile;
  if (selfieSource) notes.selfie = path.basename(selfieSource);
  const selfie = selfieSource ? await selfieOf(selfieSource, rng) : undefined;
  // The same person verified earlier with another card (another name, another birth date): a genuine
  // case of its own, from a seed this split's genuine cases never use.
  const earlier =
    kind === 'duplicate_identity'
      ? await buildCase('genuine', level, split, seed + 500_000, today, holderGroup)
      : undefined;
  return {
    kind,
    level,
    split,
    seed,
    images: { document_front, document_back, ...(selfie ? { selfie } : {}) },
    notes,
    ...(earlier ? { earlier } : {}),
  };
}

/** A case as a client sends it to `POST /v1/identity/verify` (JSON, base64 images, a declared CNIE). */
export function verifyBody(c: LabelledCase): Record<string, string> {
  return {
    document_front: c.images.document_front.toString('base64'),
    document_back: c.images.document_back.toString('base64'),
    ...(c.images.selfie ? { selfie: c.images.selfie.toString('base64') } : {}),
    document_type: 'cin',
    country: 'MA',
  };
}
