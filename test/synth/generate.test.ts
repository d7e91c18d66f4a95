import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import sharp from 'sharp';
import { templateById } from '../../src/domain/documents/templates.ts';
import { readMrz } from '../../src/domain/mrz/read-mrz.ts';
import { createRng, randomIdentity, type Identity } from './identities.ts';
import { td1Lines, td3Lines } from './mrz-lines.ts';
import {
  applyHomography as applyH,
  homographyFromQuad,
} from '../../src/pipeline/document/rectify-document.ts';
import { photograph, type Point } from './photograph.ts';

/** The pipeline's homography on this file's [x, y] points. */
const homography = (from: readonly Point[], to: readonly Point[]) =>
  homographyFromQuad(
    from.map(([x, y]) => ({ x, y })),
    to.map(([x, y]) => ({ x, y })),
  );
const applyHomography = (m: number[], [x, y]: Point): Point => {
  const p = applyH(m, x, y);
  return [p.x, p.y];
};
import { DOCUMENT_KINDS, renderDocument, type DocumentKind } from './render-document.ts';

const today = new Date('2026-03-01T00:00:00Z');
const FACE = new URL('../../../shared/data/faces/deepface/img1.jpg', import.meta.url);
const facePath = existsSync(FACE) ? FACE.pathname : undefined;

function identities(seed: number, n: number): Identity[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => randomIdentity(rng));
}

test('createRng is deterministic and uniform enough', () => {
  const a = createRng(42);
  const b = createRng(42);
  const xs = Array.from({ length: 1000 }, () => a.next());
  assert.deepEqual(
    xs,
    Array.from({ length: 1000 }, () => b.next()),
  );
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, String(mean));
  assert.notDeepEqual(createRng(43).next(), createRng(42).next());
});

test('identities have the documented shapes', () => {
  const people = identities(1, 300);
  const cinPattern = new RegExp(
    templateById('mar_cnie_2020')!.fields.find((f) => f.field === 'document_number')!.pattern!,
  );
  for (const p of people) {
    assert.match(p.cin, /^[A-Z]{1,2}[0-9]+$/);
    assert.ok(p.cin.length >= 7 && p.cin.length <= 8, p.cin);
    assert.match(p.cin, cinPattern);
    assert.match(p.documentNumber, /^[A-Z]{2}[0-9]{7}$/);
    assert.match(p.dateOfBirth, /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(Number(p.expiryDate.slice(0, 4)), Number(p.issueDate.slice(0, 4)) + 10);
    assert.ok(p.issueDate > p.dateOfBirth);
    assert.ok(/[\u0600-\u06ff]/.test(p.lastNameArabic + p.firstNameArabic + p.placeOfBirthArabic));
  }
  const expired = people.filter((p) => p.expiryDate < '2026-03-01').length;
  assert.ok(expired > 10 && expired < 150, `expired: ${expired}`);
  assert.ok(new Set(people.map((p) => p.lastName)).size > 30);
  assert.ok(people.some((p) => p.sex === 'F') && people.some((p) => p.sex === 'M'));
});

test('TD1 lines read back with valid check digits and the identity (both layouts)', () => {
  for (const p of identities(2, 60)) {
    for (const layout of ['cnie', 'cin_as_number'] as const) {
      const lines = td1Lines(p, { layout });
      assert.deepEqual(
        lines.map((l) => l.length),
        [30, 30, 30],
      );
      const r = readMrz(lines, { today });
      assert.equal(r.format, 'TD1');
      assert.equal(r.checkDigitsValid, true, lines.join('\n'));
      assert.equal(r.valid, true, lines.join('\n'));
      assert.deepEqual(r.corrections, []);
      const e = r.extracted;
      assert.equal(e.issuing_country, 'MAR');
      assert.equal(e.document_type, 'national_id');
      assert.equal(e.document_number, layout === 'cnie' ? p.cardNumber : p.cin);
      if (layout === 'cnie') assert.equal(e.personal_number, p.cin);
      assert.equal(e.last_name, p.lastName);
      assert.equal(e.first_name, p.firstName);
      assert.equal(e.date_of_birth, p.dateOfBirth);
      assert.equal(e.expiry_date, p.expiryDate);
      assert.equal(e.gender, p.sex);
      assert.equal(e.nationality, 'MAR');
    }
  }
});

test('TD3 lines read back with valid check digits and the identity', () => {
  for (const p of identities(3, 60)) {
    for (const state of ['MAR', 'FRA']) {
      const lines = td3Lines(p, state);
      assert.deepEqual(
        lines.map((l) => l.length),
        [44, 44],
      );
      const r = readMrz(lines, { today });
      assert.equal(r.format, 'TD3');
      assert.equal(r.checkDigitsValid, true, lines.join('\n'));
      assert.equal(r.valid, true, lines.join('\n'));
      const e = r.extracted;
      assert.equal(e.document_type, 'passport');
      assert.equal(e.issuing_country, state);
      assert.equal(e.nationality, state);
      assert.equal(e.document_number, p.documentNumber);
      assert.equal(e.last_name, p.lastName);
      assert.equal(e.first_name, p.firstName);
      assert.equal(e.date_of_birth, p.dateOfBirth);
      assert.equal(e.expiry_date, p.expiryDate);
      assert.equal(e.gender, p.sex);
      assert.equal(e.personal_number, state === 'MAR' ? p.cin : undefined);
    }
  }
});

test('the specimen MRZ is reproduced from its identity', () => {
  const specimen: Identity = {
    ...identities(4, 1)[0]!,
    lastName: 'EL ALAMI',
    firstName: 'ZAINEB',
    sex: 'F',
    dateOfBirth: '1983-12-05',
    expiryDate: '2029-07-22',
    cin: 'U1234567',
    cardNumber: 'VSI99998',
  };
  assert.deepEqual(td1Lines(specimen), [
    'I<MARVSI99998<5U1234567<<<<<<<',
    '8312055F2907228MAR<<<<<<<<<<<8',
    'EL<ALAMI<<ZAINEB<<<<<<<<<<<<<<',
  ]);
});

const EXPECTED_KEYS: Record<DocumentKind, string[]> = {
  mar_cnie_2020_front: [
    'date_of_birth',
    'document_number',
    'expiry_date',
    'first_name',
    'first_name_arabic',
    'last_name',
    'last_name_arabic',
    'place_of_birth',
    'place_of_birth_arabic',
  ],
  mar_cnie_2020_back: [
    'address',
    'address_arabic',
    'date_of_birth',
    'document_number',
    'expiry_date',
    'father_name',
    'first_name',
    'gender',
    'last_name',
    'mother_name',
    'mrz',
    'nationality',
    'personal_number',
  ],
  mar_passport: [
    'date_of_birth',
    'document_number',
    'expiry_date',
    'first_name',
    'first_name_arabic',
    'gender',
    'issue_date',
    'last_name',
    'last_name_arabic',
    'mrz',
    'nationality',
    'personal_number',
    'place_of_birth',
  ],
  icao_td3_passport: [
    'date_of_birth',
    'document_number',
    'expiry_date',
    'first_name',
    'gender',
    'issue_date',
    'last_name',
    'mrz',
    'nationality',
    'place_of_birth',
  ],
};

const TEMPLATE_OF: Record<DocumentKind, [string, 'front' | 'back']> = {
  mar_cnie_2020_front: ['mar_cnie_2020', 'front'],
  mar_cnie_2020_back: ['mar_cnie_2020', 'back'],
  mar_passport: ['mar_passport_biometric', 'front'],
  icao_td3_passport: ['mar_passport_biometric', 'front'],
};

test('each side renders at its ICAO size with its truth, every value inside its template box', async () => {
  const rng = createRng(5);
  const person = randomIdentity(rng);
  for (const kind of DOCUMENT_KINDS) {
    const r = await renderDocument(kind, person, { rng, portraitPath: facePath, issuingState: 'FRA' });
    const meta = await sharp(r.image).metadata();
    assert.equal(meta.format, 'png');
    const [w, h] = kind.startsWith('mar_cnie') ? [1011, 638] : [1250, 880];
    assert.deepEqual([r.width, r.height, meta.width, meta.height], [w, h, w, h], kind);
    assert.deepEqual(Object.keys(r.truth).sort(), EXPECTED_KEYS[kind], kind);
    if (r.truth.mrz) {
      const read = readMrz(r.truth.mrz.split('\n'), { today });
      assert.equal(read.checkDigitsValid, true);
    }

    const [templateId, side] = TEMPLATE_OF[kind];
    const fields = templateById(templateId)!.fields.filter((f) => f.side === side);
    // Other issuers' pages put the rows of the left column in another order (each row 0.4 wide).
    const shuffled = ['last_name', 'first_name', 'date_of_birth', 'place_of_birth', 'issue_date'];
    const slots = fields.filter((f) => shuffled.includes(f.field)).map((f) => f.box);
    const used = new Set<number>();
    for (const f of fields) {
      if (kind === 'icao_td3_passport' && f.script === 'arabic') continue;
      const ink = r.inkBoxes[f.field];
      assert.ok(ink, `${kind}: ${f.field} not drawn`);
      let box = f.box;
      if (kind === 'icao_td3_passport' && shuffled.includes(f.field)) {
        const slot = slots.findIndex((b) => Math.abs(ink[1] + ink[3] / 2 - (b[1] + b[3] / 2)) < 2 / h);
        assert.ok(slot >= 0 && !used.has(slot), `${kind}: ${f.field} not on a row of its own`);
        used.add(slot);
        box = [slots[slot]![0], slots[slot]![1], 0.4, slots[slot]![3]];
      }
      const [bx, by, bw, bh] = box;
      const [ix, iy, iw, ih] = ink;
      const eps = 1e-9;
      assert.ok(
        ix >= bx - eps && iy >= by - eps && ix + iw <= bx + bw + eps && iy + ih <= by + bh + eps,
        `${kind}: ${f.field} ink ${ink.map((v) => v.toFixed(3))} outside box ${box}`,
      );
      // Vertically centred.
      assert.ok(Math.abs(iy + ih / 2 - (by + bh / 2)) < 2 / h, `${kind}: ${f.field} not centred`);
    }
  }
});

test('a width option scales the side and keeps the aspect', async () => {
  const rng = createRng(6);
  const r = await renderDocument('mar_cnie_2020_front', randomIdentity(rng), { rng, width: 505 });
  assert.deepEqual([r.width, r.height], [505, 318]);
  const meta = await sharp(r.image).metadata();
  assert.deepEqual([meta.width, meta.height], [505, 318]);
  if (facePath) {
    const cropped = await renderDocument('mar_passport', randomIdentity(rng), {
      rng,
      width: 625,
      portraitPath: facePath,
      portraitCrop: [0.2, 0.05, 0.6, 0.55],
    });
    assert.deepEqual([cropped.width, cropped.height], [625, 440]);
  }
});

test('the same seed gives the same bytes', async () => {
  const once = async (kind: DocumentKind) => {
    const rng = createRng(7);
    const r = await renderDocument(kind, randomIdentity(rng), { rng, portraitPath: facePath });
    const p = await photograph(r.image, 'hard', rng, { longSide: 800 });
    return { png: r.image, jpeg: p.jpeg, quad: p.quad };
  };
  for (const kind of ['mar_cnie_2020_front', 'mar_cnie_2020_back'] as const) {
    const [a, b] = [await once(kind), await once(kind)];
    assert.ok(a.png.equals(b.png), `${kind}: PNG differs`);
    assert.ok(a.jpeg.equals(b.jpeg), `${kind}: JPEG differs`);
    assert.deepEqual(a.quad, b.quad);
  }
  const rng = createRng(8);
  const other = await renderDocument('mar_cnie_2020_front', randomIdentity(rng), { rng });
  assert.ok(!other.image.equals((await once('mar_cnie_2020_front')).png));
});

test('homography maps the corners exactly', () => {
  const from: Point[] = [
    [0, 0],
    [1011, 0],
    [1011, 638],
    [0, 638],
  ];
  const to: Point[] = [
    [312.5, 201.25],
    [1402, 250],
    [1350.75, 990],
    [290, 940.5],
  ];
  const m = homography(from, to);
  from.forEach((p, i) => {
    const [x, y] = applyHomography(m, p);
    assert.ok(Math.abs(x - to[i]![0]) < 1e-6 && Math.abs(y - to[i]![1]) < 1e-6);
  });
});

test('photograph puts the document quad inside the frame at the requested level', async () => {
  const rng = createRng(9);
  const front = await renderDocument('mar_cnie_2020_front', randomIdentity(rng), { rng, width: 600 });
  for (let i = 0; i < 6; i++) {
    const level = i % 2 === 0 ? 'clean' : 'hard';
    const p = await photograph(front.image, level, rng, { longSide: 800 });
    const meta = await sharp(p.jpeg).metadata();
    assert.equal(meta.format, 'jpeg');
    assert.deepEqual([meta.width, meta.height], [p.width, p.height]);
    assert.deepEqual([p.width, p.height].sort(), [600, 800]);
    for (const [x, y] of p.quad) assert.ok(x >= 0 && x <= p.width && y >= 0 && y <= p.height, `${x},${y}`);
    // The quad keeps the card's proportions roughly (perspective is mild) and covers a real share.
    const top = Math.hypot(p.quad[1][0] - p.quad[0][0], p.quad[1][1] - p.quad[0][1]);
    const left = Math.hypot(p.quad[3][0] - p.quad[0][0], p.quad[3][1] - p.quad[0][1]);
    assert.ok(top / left > 1.2 && top / left < 2.1, `${level}: ${top / left}`);
    assert.ok(top > 0.4 * Math.min(p.width, p.height), `${level}: ${top}`);
  }
  // Clean: the card sits upright (within 5° plus the corner jitter).
  for (let i = 0; i < 4; i++) {
    const p = await photograph(front.image, 'clean', rng, { longSide: 800 });
    const angle = (Math.atan2(p.quad[1][1] - p.quad[0][1], p.quad[1][0] - p.quad[0][0]) * 180) / Math.PI;
    assert.ok(Math.abs(angle) < 9, String(angle));
  }
});

test('the card is where the quad says: its centre pixel matches the rendered centre', async () => {
  // A side of one flat colour with a black centre square, photographed clean: the quad's centre is black.
  const doc = await sharp({ create: { width: 400, height: 252, channels: 3, background: '#e0e0e0' } })
    .composite([
      {
        input: { create: { width: 40, height: 40, channels: 3, background: '#000000' } },
        left: 180,
        top: 106,
      },
    ])
    .png()
    .toBuffer();
  const rng = createRng(10);
  for (let i = 0; i < 3; i++) {
    const p = await photograph(doc, 'clean', rng, { longSide: 640 });
    const m = homography(
      [
        [0, 0],
        [400, 0],
        [400, 252],
        [0, 252],
      ],
      p.quad,
    );
    const [cx, cy] = applyHomography(m, [200, 126]);
    const { data, info } = await sharp(p.jpeg).raw().toBuffer({ resolveWithObject: true });
    const o = (Math.floor(cy) * info.width + Math.floor(cx)) * info.channels;
    assert.ok(data[o]! < 60, `centre pixel ${data[o]}`);
    const [ex, ey] = applyHomography(m, [100, 60]);
    const e = (Math.floor(ey) * info.width + Math.floor(ex)) * info.channels;
    assert.ok(data[e]! > 170, `card pixel ${data[e]}`);
  }
});
