/**
 * Renders synthetic document sides (Moroccan CNIE 2020 front and back, Moroccan passport, any ICAO TD3
 * passport) with every field inside its template box (`src/domain/documents/templates.ts`), so that a
 * template-driven reader can be scored against the `truth` that comes back with the image.
 *
 * Look: pastel gradient, guilloche-like sine lines and a rosette (SVG), header texts, small labels as on
 * the DGSN specimen, values in DejaVu Sans, the MRZ in DejaVu Sans Mono. Text goes through sharp's Pango
 * renderer with the DejaVu font files, which shapes Arabic right to left.
 */
import { fileURLToPath } from 'node:url';
import sharp, { type OverlayOptions } from 'sharp';
import type { Box } from '../../src/domain/documents/document-template.ts';
import { templateById } from '../../src/domain/documents/templates.ts';
import { createRng, dmy, type Identity, type Rng } from './identities.ts';
import { td1Lines, td3Lines, type Td1Layout } from './mrz-lines.ts';

export type DocumentKind =
  'mar_cnie_2020_front' | 'mar_cnie_2020_back' | 'mar_passport' | 'icao_td3_passport';

export const DOCUMENT_KINDS: readonly DocumentKind[] = [
  'mar_cnie_2020_front',
  'mar_cnie_2020_back',
  'mar_passport',
  'icao_td3_passport',
];

export interface RenderOptions {
  /** A face photo for the portrait; a drawn silhouette without it. */
  portraitPath?: string;
  /**
   * The photo of the small secondary ("ghost") portrait when it differs from the main one: a card whose
   * main portrait was replaced keeps its holder's ghost (a portrait-substitution attack).
   */
  ghostPortraitPath?: string;
  /**
   * The part of the photo to use, `[x, y, width, height]` as shares of it (e.g. a face detector's box,
   * widened to head and shoulders). Without it the photo is cut to the portrait's aspect around its most
   * salient region (sharp's `attention`), which misses the face on wide group or stage photos.
   */
  portraitCrop?: Box;
  rng: Rng;
  /** Output width in pixels; the height follows the ICAO aspect. Default 1011 (ID-1) or 1250 (TD3). */
  width?: number;
  /** TD1 layout of the CNIE back (default `cnie`, as on the DGSN specimens). */
  td1Layout?: Td1Layout;
  /** Issuing state of an `icao_td3_passport` (alpha-3); drawn from a few states when absent. */
  issuingState?: string;
  /**
   * How the ghost portrait is printed, by family: `tune` a linear fade of drawn strength and opacity,
   * `heldout` a tone curve (gamma), another fade and opacity and a softer print (a blur), which tuning
   * never sees. Without it, the one fade of the DGSN specimen's look (the tests' cards).
   */
  ghostPrint?: 'tune' | 'heldout';
}

export interface RenderedDocument {
  /** PNG, RGB. */
  image: Buffer;
  width: number;
  height: number;
  /** The values a reader should extract from this side, keyed by Huwiya field name. */
  truth: Record<string, string>;
  /**
   * Where each visual-zone value's ink landed, `[x, y, width, height]` as shares of the side (labels and
   * prefixes printed on the same line included).
   */
  inkBoxes: Record<string, Box>;
}

const FONT_DIR = fileURLToPath(new URL('../../node_modules/dejavu-fonts-ttf/ttf/', import.meta.url));
const FONTS = {
  sans: { family: 'DejaVu Sans', file: `${FONT_DIR}DejaVuSans.ttf` },
  bold: { family: 'DejaVu Sans Bold', file: `${FONT_DIR}DejaVuSans-Bold.ttf` },
  mono: { family: 'DejaVu Sans Mono', file: `${FONT_DIR}DejaVuSansMono.ttf` },
} as const;
type FontName = keyof typeof FONTS;

/** DejaVu Sans Mono's advance width in em (1233 / 2048). */
const MONO_ADVANCE = 0.602;

const CANONICAL = { ID1: { width: 1011, aspect: 85.6 / 53.98 }, ID3: { width: 1250, aspect: 125 / 88 } };

const INK = '#1c1f24';
const LABEL = '#3d4b5c';
const HEADING = '#2a2326';

/** Escapes text for Pango markup. */
export const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A span of `px` pixels (Pango sizes are in 1024ths of a point, and we render at 72 dpi). */
const span = (text: string, px: number, color?: string): string =>
  `<span size="${Math.round(px * 1024)}"${color ? ` foreground="${color}"` : ''}>${esc(text)}</span>`;

interface TextItem {
  /** Pango markup, already escaped. */
  markup: string;
  font: FontName;
  /** Pixels at the canonical width (scaled with the side). */
  size: number;
  /** Anchor in shares of the side. */
  x: number;
  y: number;
  align: 'left' | 'right' | 'center';
  color?: string;
  /** Share of the side's width the ink may take; the font shrinks to fit. */
  maxWidth?: number;
  /** Clockwise degrees. */
  rotate?: 90 | 270;
  /** The truth key whose value this text prints (its ink box is reported in `inkBoxes`). */
  field?: string;
}

interface Side {
  width: number;
  height: number;
  /** Pixels per canonical pixel. */
  scale: number;
}

async function rasterText(
  item: TextItem,
  side: Side,
): Promise<{ data: Buffer; width: number; height: number }> {
  const font = FONTS[item.font];
  const maxWidth = item.maxWidth === undefined ? undefined : item.maxWidth * side.width;
  let size = item.size * side.scale;
  for (let attempt = 0; ; attempt++) {
    const { data, info } = await sharp({
      text: {
        text: `<span foreground="${item.color ?? INK}">${item.markup}</span>`,
        font: `${font.family} ${size.toFixed(1)}`,
        fontfile: font.file,
        rgba: true,
        dpi: 72,
      },
    })
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (maxWidth === undefined || info.width <= maxWidth || attempt === 3) {
      if (!item.rotate) return { data, width: info.width, height: info.height };
      const r = await sharp(data, { raw: { width: info.width, height: info.height, channels: 4 } })
        .rotate(item.rotate)
        .raw()
        .toBuffer({ resolveWithObject: true });
      return { data: r.data, width: r.info.width, height: r.info.height };
    }
    size *= (maxWidth / info.width) * 0.97;
  }
}

/** The text's ink, placed by its anchor: x by `align`, y at the ink's vertical centre. */
async function placeText(
  item: TextItem,
  side: Side,
): Promise<OverlayOptions & { left: number; top: number }> {
  const t = await rasterText(item, side);
  const ax = item.x * side.width;
  const x = item.align === 'left' ? ax : item.align === 'right' ? ax - t.width : ax - t.width / 2;
  const y = item.y * side.height - t.height / 2;
  return {
    input: t.data,
    raw: { width: t.width, height: t.height, channels: 4 },
    left: clampInt(x, 0, side.width - t.width),
    top: clampInt(y, 0, side.height - t.height),
  };
}

const clampInt = (v: number, lo: number, hi: number): number => Math.round(Math.max(lo, Math.min(hi, v)));

// ---------------------------------------------------------------------------------------------------
// Background and drawn elements (SVG)

interface Theme {
  stops: readonly string[];
  line: string;
  rosette: string;
}

function jitterColor(hex: string, rng: Rng, amount = 8): string {
  const n = Number.parseInt(hex.slice(1), 16);
  const c = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) =>
    Math.max(0, Math.min(255, v + rng.int(-amount, amount))),
  );
  return `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/** `hex` mixed with white: `ink` 1 is the colour, 0 the paper, above 1 a richer print (clamped). */
function fadeColor(hex: string, ink: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  const c = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) =>
    Math.round(Math.max(0, Math.min(255, 255 - ink * (255 - v)))),
  );
  return `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

const f2 = (v: number): string => v.toFixed(1);

function guillocheSvg(side: Side, theme: Theme, rng: Rng): string {
  const { width: W, height: H } = side;
  const parts: string[] = [];
  const stops = theme.stops.map((c) => jitterColor(c, rng));
  const angle = rng.int(10, 40);
  parts.push(
    `<defs><linearGradient id="bg" gradientTransform="rotate(${angle})">`,
    ...stops.map((c, i) => `<stop offset="${(i / (stops.length - 1)).toFixed(2)}" stop-color="${c}"/>`),
    '</linearGradient></defs>',
    `<rect width="${W}" height="${H}" fill="url(#bg)"/>`,
  );
  // Families of sine lines, phase-shifted from one to the next: the guilloche look.
  const step = Math.max(4, Math.round(W / 140));
  for (let family = 0; family < 2; family++) {
    const lines = rng.int(18, 26);
    const lambda1 = W / rng.float(2.5, 5);
    const lambda2 = W / rng.float(8, 14);
    const amp1 = H * rng.float(0.03, 0.07);
    const amp2 = H * rng.float(0.01, 0.025);
    const drift = rng.float(0.15, 0.4);
    let d = '';
    for (let k = 0; k < lines; k++) {
      const y0 = (H * (k + 0.5)) / lines;
      for (let x = 0; x <= W + step; x += step) {
        const y =
          y0 +
          amp1 * Math.sin((2 * Math.PI * x) / lambda1 + k * drift + family * 1.3) +
          amp2 * Math.sin((2 * Math.PI * x) / lambda2 - k * 0.5);
        d += `${x === 0 ? 'M' : 'L'}${x} ${f2(y)}`;
      }
    }
    parts.push(
      `<path d="${d}" fill="none" stroke="${theme.line}" stroke-width="${f2(side.scale)}" stroke-opacity="${(0.16 + family * 0.06).toFixed(2)}"/>`,
    );
  }
  // A rosette (epitrochoid).
  const cx = W * rng.float(0.45, 0.7);
  const cy = H * rng.float(0.4, 0.65);
  const R = H * rng.float(0.18, 0.26);
  const r = R / rng.int(7, 13); // R a multiple of r: the curve closes after one turn
  const dd = r * rng.float(2.5, 4.5);
  let d = '';
  const n = 1400;
  for (let i = 0; i <= n; i++) {
    const t = (i / n) * 2 * Math.PI;
    const x = cx + (R + r) * Math.cos(t) - dd * Math.cos(((R + r) / r) * t);
    const y = cy + (R + r) * Math.sin(t) - dd * Math.sin(((R + r) / r) * t);
    d += `${i === 0 ? 'M' : 'L'}${f2(x)} ${f2(y)}`;
  }
  parts.push(
    `<path d="${d}" fill="none" stroke="${theme.rosette}" stroke-width="${f2(side.scale)}" stroke-opacity="0.22"/>`,
  );
  return parts.join('');
}

/** A generic emblem (not any state's arms): a ring, a star and two laurel arcs. */
function emblemSvg(cx: number, cy: number, r: number): string {
  const star = starPoints(cx, cy - r * 0.05, r * 0.45, r * 0.18);
  let leaves = '';
  for (let i = 0; i < 7; i++) {
    const a = Math.PI * (0.65 + i * 0.09);
    for (const sgn of [-1, 1]) {
      const x = cx + sgn * Math.cos(a) * r * 0.82;
      const y = cy + Math.sin(a) * r * 0.82 - r * 0.1;
      leaves += `<ellipse cx="${f2(x)}" cy="${f2(y)}" rx="${f2(r * 0.12)}" ry="${f2(r * 0.06)}" transform="rotate(${f2((sgn * a * 180) / Math.PI)} ${f2(x)} ${f2(y)})" fill="#4f8a3a" fill-opacity="0.8"/>`;
    }
  }
  return (
    `<circle cx="${f2(cx)}" cy="${f2(cy)}" r="${f2(r)}" fill="#f4e7b4" fill-opacity="0.7" stroke="#b8912e" stroke-width="${f2(r * 0.06)}"/>` +
    `<polygon points="${star}" fill="#c6a13a" stroke="#8a6a1c" stroke-width="${f2(r * 0.03)}"/>` +
    leaves
  );
}

function starPoints(cx: number, cy: number, outer: number, inner: number): string {
  const pts: string[] = [];
  for (let i = 0; i < 10; i++) {
    const a = -Math.PI / 2 + (i * Math.PI) / 5;
    const rad = i % 2 === 0 ? outer : inner;
    pts.push(`${f2(cx + rad * Math.cos(a))},${f2(cy + rad * Math.sin(a))}`);
  }
  return pts.join(' ');
}

/** A red flag with a green pentagram outline. */
function flagSvg(x: number, y: number, w: number, h: number): string {
  const cx = x + w / 2;
  const cy = y + h / 2;
  const R = h * 0.32;
  const p: string[] = [];
  for (let i = 0; i < 5; i++) {
    const a = -Math.PI / 2 + (i * 4 * Math.PI) / 5;
    p.push(`${f2(cx + R * Math.cos(a))},${f2(cy + R * Math.sin(a))}`);
  }
  return (
    `<rect x="${f2(x)}" y="${f2(y)}" width="${f2(w)}" height="${f2(h)}" fill="#c1272d"/>` +
    `<polygon points="${p.join(' ')}" fill="none" stroke="#006233" stroke-width="${f2(h * 0.05)}"/>`
  );
}

/** A handwritten-looking scribble. */
function signatureSvg(x: number, y: number, w: number, h: number, rng: Rng, scale: number): string {
  let px = x;
  let py = y + h * 0.6;
  let d = `M${f2(px)} ${f2(py)}`;
  const strokes = rng.int(5, 8);
  for (let i = 0; i < strokes; i++) {
    const nx = x + (w * (i + 1)) / strokes;
    const ny = y + h * rng.float(0.2, 0.9);
    d += ` C${f2(px + w * 0.08)} ${f2(y + h * rng.float(-0.2, 0.3))} ${f2(nx - w * 0.1)} ${f2(y + h * rng.float(0.7, 1.2))} ${f2(nx)} ${f2(ny)}`;
    px = nx;
    py = ny;
  }
  return `<path d="${d}" fill="none" stroke="#1f2f6b" stroke-width="${f2(2 * scale)}" stroke-linecap="round"/>`;
}

function svgDoc(side: Side, body: string): Buffer {
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${side.width}" height="${side.height}" viewBox="0 0 ${side.width} ${side.height}">${body}</svg>`,
  );
}

const rect = (side: Side, [x, y, w, h]: Box, fill: string, opacity: number, radius = 0): string =>
  `<rect x="${f2(x * side.width)}" y="${f2(y * side.height)}" width="${f2(w * side.width)}" height="${f2(h * side.height)}" rx="${f2(radius * side.scale)}" fill="${fill}" fill-opacity="${opacity}"/>`;

// ---------------------------------------------------------------------------------------------------
// Portrait

type RawImage = { data: Buffer; info: { width: number; height: number; channels: 3 } };
const faceCache = new Map<string, Promise<RawImage>>();

/** The face photo, upright, cut to `crop` when given, at most 640 px a side; decoded once (a few kept). */
function loadFace(path: string, crop: Box | undefined): Promise<RawImage> {
  const key = crop ? `${path}#${crop.join(',')}` : path;
  let face = faceCache.get(key);
  if (!face) {
    face = (async () => {
      let img = sharp(path).rotate();
      if (crop) {
        const m = await sharp(path).metadata();
        const w = m.autoOrient?.width ?? m.width ?? 0;
        const h = m.autoOrient?.height ?? m.height ?? 0;
        const left = clampInt(crop[0] * w, 0, w - 1);
        const top = clampInt(crop[1] * h, 0, h - 1);
        const region = {
          left,
          top,
          width: clampInt(crop[2] * w, 1, w - left),
          height: clampInt(crop[3] * h, 1, h - top),
        };
        img = sharp(await img.extract(region).toBuffer());
      }
      const { data, info } = await img
        .resize(640, 640, { fit: 'inside', withoutEnlargement: true })
        .removeAlpha()
        .toColourspace('srgb')
        .raw()
        .toBuffer({ resolveWithObject: true });
      return { data, info: { width: info.width, height: info.height, channels: 3 as const } };
    })();
    if (faceCache.size >= 8) faceCache.delete(faceCache.keys().next().value!);
    faceCache.set(key, face);
  }
  return face;
}

/** The face photo (or a silhouette) cut to the box: cover, desaturated, flattened contrast. */
async function portraitOverlay(
  path: string | undefined,
  crop: Box | undefined,
  side: Side,
  [bx, by, bw, bh]: Box,
  rng: Rng,
  ghost = false,
  /**
   * The main portrait's size in pixels, for a ghost: a card prints its ghost from the same picture, so the
   * photo is framed as for the main portrait and then scaled down (framed at the ghost's own size, the
   * salient region chosen can differ, and the ghost would show half a face).
   */
  framedAs?: { width: number; height: number },
  ghostPrint?: 'tune' | 'heldout',
): Promise<OverlayOptions> {
  const width = Math.round(bw * side.width);
  const height = Math.round(bh * side.height);
  const face = path ? await loadFace(path, crop) : undefined;
  const framed = (w: number, h: number) =>
    sharp(face!.data, { raw: face!.info }).resize(w, h, { fit: 'cover', position: 'attention' });
  // The crop is made before any colour treatment: sharp's `attention` looks for skin tones and saturation,
  // so a portrait turned grey in the same pipeline was framed elsewhere (half a face) than its ghost.
  const framedRaw = async (w: number, h: number) =>
    sharp(await framed(w, h).raw().toBuffer(), {
      raw: { width: w, height: h, channels: face!.info.channels },
    });
  let img = face
    ? framedAs
      ? (await framedRaw(framedAs.width, framedAs.height)).resize(width, height, { fit: 'fill' })
      : await framedRaw(width, height)
    : sharp(silhouetteSvg(width, height)).resize(width, height);
  // The ghost's rng draws nothing else, so its print's draws leave every other draw as it was.
  if (ghost && ghostPrint === 'tune')
    img = img.greyscale().linear(rng.float(0.36, 0.56), rng.float(125, 150));
  else if (ghost && ghostPrint === 'heldout') {
    // A tone curve (the ghost's ink darkens the midtones more or less than its fade says), then a fade.
    const { data, info } = await img.greyscale().raw().toBuffer({ resolveWithObject: true });
    const gamma = rng.float(0.6, 1.6);
    const curved = Buffer.from(data.map((v) => Math.round(255 * (v / 255) ** gamma)));
    img = sharp(curved, { raw: { width: info.width, height: info.height, channels: info.channels } })
      .linear(rng.float(0.32, 0.6), rng.float(115, 165))
      .blur(rng.float(0.3, 0.9));
  } else if (ghost) img = img.greyscale().linear(0.45, 140);
  else if (rng.chance(0.4)) img = img.greyscale().linear(rng.float(0.75, 0.9), rng.float(18, 32));
  else
    img = img.modulate({ saturation: rng.float(0.15, 0.4) }).linear(rng.float(0.75, 0.9), rng.float(18, 32));
  img = img
    .removeAlpha()
    .toColourspace('srgb')
    .ensureAlpha(ghost ? (ghostPrint ? rng.float(0.45, 0.75) : 0.6) : 1);
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  return {
    input: data,
    raw: { width: info.width, height: info.height, channels: info.channels },
    left: Math.round(bx * side.width),
    top: Math.round(by * side.height),
  };
}

function silhouetteSvg(w: number, h: number): Buffer {
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="${w}" height="${h}" fill="#e9ecef"/>` +
      `<ellipse cx="${w / 2}" cy="${h * 0.4}" rx="${w * 0.22}" ry="${h * 0.2}" fill="#8a939c"/>` +
      `<path d="M${w * 0.1} ${h} C${w * 0.12} ${h * 0.68} ${w * 0.88} ${h * 0.68} ${w * 0.9} ${h} Z" fill="#8a939c"/></svg>`,
  );
}

// ---------------------------------------------------------------------------------------------------
// Sides

function sideOf(kind: DocumentKind, width: number | undefined): Side {
  const c = kind.startsWith('mar_cnie') ? CANONICAL.ID1 : CANONICAL.ID3;
  const w = Math.round(width ?? c.width);
  return { width: w, height: Math.round(w / c.aspect), scale: w / c.width };
}

function fieldBox(templateId: string, field: string): Box {
  const box = templateById(templateId)?.fields.find((f) => f.field === field)?.box;
  if (!box) throw new Error(`no box for ${templateId}.${field}`);
  return box;
}

/** Horizontal margin between a box edge and its text, in shares of the width. */
const MARGIN = 0.008;

/** A value vertically centred in its box: Latin left-aligned, Arabic right-aligned to the box's right edge. */
const valueIn =
  (align: 'left' | 'right') =>
  (box: Box, markup: string, size: number, font: FontName = 'sans', field?: string): TextItem => ({
    field,
    markup,
    font,
    size,
    x: align === 'left' ? box[0] + MARGIN : box[0] + box[2] - MARGIN,
    y: box[1] + box[3] / 2,
    align,
    maxWidth: box[2] - 2 * MARGIN,
  });
const latinIn = valueIn('left');
const arabicIn = valueIn('right');

const label = (
  text: string,
  x: number,
  y: number,
  align: TextItem['align'],
  size = 12,
  font: FontName = 'sans',
): TextItem => ({ markup: esc(text), font, size, x, y, align, color: LABEL });

/** A printed heading (dark). */
const heading = (text: string, x: number, y: number, align: TextItem['align'], size: number): TextItem => ({
  ...label(text, x, y, align, size, 'bold'),
  color: HEADING,
});

/** MRZ lines left-aligned at `x0`, each centred on `centres`, the font sized so a line spans `span`. */
function mrzItems(
  lines: readonly string[],
  side: Side,
  x0: number,
  spanShare: number,
  centres: number[],
): TextItem[] {
  const chars = lines[0]?.length ?? 30;
  const size = (spanShare * side.width) / chars / MONO_ADVANCE / side.scale;
  return lines.map((line, i) => ({
    markup: esc(line),
    font: 'mono',
    size,
    x: x0,
    y: centres[i] ?? 0.9,
    align: 'left',
    color: '#111111',
    maxWidth: spanShare + 0.02,
  }));
}

interface Layout {
  svg: string;
  texts: TextItem[];
  portraits: { box: Box; ghost?: boolean }[];
  truth: Record<string, string>;
}

function cnieFront(identity: Identity, side: Side, rng: Rng): Layout {
  const T = 'mar_cnie_2020';
  const box = (f: string): Box => fieldBox(T, f);
  const female = identity.sex === 'F';
  // The card's colours as the DGSN specimen prints them (a pink band across the top, a pale blue and green
  // ground), faded toward the paper by `ink`: a worn card, a pale print run, or a richer one.
  // Drawn from the card's number, not from `rng`, so that every later draw (and every seeded case) stays.
  const ink = createRng([...identity.can].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7)).float(
    0.55,
    1.15,
  );
  const svg =
    guillocheSvg(
      side,
      {
        stops: ['#d4e4f0', '#d3e6dc', '#c8e0cc', '#cfe0c0'].map((c) => fadeColor(c, ink)),
        line: '#5d8f7a',
        rosette: '#7a6aa8',
      },
      rng,
    ) +
    rect(side, [0, 0, 1, 0.19], fadeColor('#e0bfc2', ink), 0.9) +
    emblemSvg(side.width * 0.47, side.height * 0.09, side.height * 0.075) +
    signatureSvg(
      0.4 * side.width,
      0.73 * side.height,
      0.16 * side.width,
      0.08 * side.height,
      rng,
      side.scale,
    ) +
    flagSvg(0.6 * side.width, 0.755 * side.height, 0.065 * side.width, 0.085 * side.height) +
    rect(side, [0.75, 0.55, 0.145, 0.29], '#ffffff', 0.35, 6);
  const year = identity.dateOfBirth.slice(0, 4);
  const texts: TextItem[] = [
    heading('ROYAUME DU MAROC', 0.025, 0.06, 'left', 25),
    label("CARTE NATIONALE D'IDENTITE", 0.025, 0.135, 'left', 17),
    heading('المملكة المغربية', 0.975, 0.055, 'right', 28),
    heading('البطاقة الوطنية للتعريف', 0.975, 0.125, 'right', 22),
    latinIn(box('last_name'), esc(identity.lastName), 23, 'sans', 'last_name'),
    latinIn(box('first_name'), esc(identity.firstName), 23, 'sans', 'first_name'),
    label(female ? 'Née le' : 'Né le', 0.36 + MARGIN, 0.43, 'left', 12),
    latinIn(box('date_of_birth'), esc(dmy(identity.dateOfBirth)), 23, 'sans', 'date_of_birth'),
    latinIn(
      box('place_of_birth'),
      `${span('à', 17)} ${esc(identity.placeOfBirth)}`,
      23,
      'sans',
      'place_of_birth',
    ),
    arabicIn(box('last_name_arabic'), esc(identity.lastNameArabic), 26, 'sans', 'last_name_arabic'),
    arabicIn(box('first_name_arabic'), esc(identity.firstNameArabic), 26, 'sans', 'first_name_arabic'),
    label(female ? 'مزدادة بتاريخ' : 'مزداد بتاريخ', 0.975, 0.395, 'right', 14),
    arabicIn(
      box('place_of_birth_arabic'),
      esc(`ب ${identity.placeOfBirthArabic}`),
      26,
      'sans',
      'place_of_birth_arabic',
    ),
    label('المدير العام للأمن الوطني', 0.5, 0.685, 'center', 14),
    label('N°', 0.065, 0.925, 'left', 13),
    latinIn(box('document_number'), esc(identity.cin), 26, 'sans', 'document_number'),
    label('رقم', 0.4, 0.925, 'left', 15),
    label("Valable jusqu'au", 0.61, 0.93, 'right', 12),
    latinIn(box('expiry_date'), esc(dmy(identity.expiryDate)), 23, 'sans', 'expiry_date'),
    label('صالحة إلى غاية', 0.975, 0.93, 'right', 14),
    { ...label(`CAN ${identity.can}`, 0.955, 0.72, 'center', 15), rotate: 270 },
    { ...label(year.slice(0, 2), 0.76, 0.8, 'left', 22, 'bold'), color: '#8c96a3' },
    { ...label(year.slice(2), 0.885, 0.8, 'right', 22, 'bold'), color: '#8c96a3' },
  ];
  return {
    svg,
    texts,
    portraits: [{ box: templateById(T)!.portrait!.box }, { box: [0.77, 0.56, 0.105, 0.22], ghost: true }],
    truth: {
      document_number: identity.cin,
      last_name: identity.lastName,
      first_name: identity.firstName,
      last_name_arabic: identity.lastNameArabic,
      first_name_arabic: identity.firstNameArabic,
      date_of_birth: identity.dateOfBirth,
      place_of_birth: identity.placeOfBirth,
      place_of_birth_arabic: identity.placeOfBirthArabic,
      expiry_date: identity.expiryDate,
    },
  };
}

function cnieBack(identity: Identity, side: Side, rng: Rng, layout: Td1Layout): Layout {
  const T = 'mar_cnie_2020';
  const box = (f: string): Box => fieldBox(T, f);
  const female = identity.sex === 'F';
  const lines = td1Lines(identity, { layout });
  const svg =
    guillocheSvg(
      side,
      { stops: ['#e2edf3', '#eaf2e2', '#f2e8ea'], line: '#5b7d9a', rosette: '#8a6a9a' },
      rng,
    ) + rect(side, [0, 0.625, 1, 0.375], '#fbfcfa', 0.85);
  const texts: TextItem[] = [
    latinIn(
      box('father_name'),
      `${span(female ? 'Fille de' : 'Fils de', 15, LABEL)}  ${esc(identity.fatherName)}`,
      23,
      'sans',
      'father_name',
    ),
    latinIn(
      box('mother_name'),
      `${span('et de', 15, LABEL)}  ${esc(identity.motherName)}`,
      23,
      'sans',
      'mother_name',
    ),
    latinIn(box('address'), `${span('Adresse', 15, LABEL)}  ${esc(identity.address)}`, 22, 'sans', 'address'),
    arabicIn(
      box('address_arabic'),
      `${span('العنوان', 17, LABEL)}  ${esc(identity.addressArabic)}`,
      24,
      'sans',
      'address_arabic',
    ),
    latinIn(box('gender'), `${span('Sexe', 15, LABEL)}  ${esc(identity.sex)}`, 23, 'sans', 'gender'),
    {
      markup: `${span(female ? 'بنت' : 'ابن', 17, LABEL)} ${esc(identity.fatherNameArabic)}`,
      font: 'sans',
      size: 24,
      x: 0.97,
      y: 0.1,
      align: 'right',
      maxWidth: 0.36,
    },
    {
      markup: `${span('و', 17, LABEL)} ${esc(identity.motherNameArabic)}`,
      font: 'sans',
      size: 24,
      x: 0.97,
      y: 0.2,
      align: 'right',
      maxWidth: 0.36,
    },
    {
      markup: `${span('N° état civil', 14, LABEL)}  ${esc(identity.civilStatusNumber)}`,
      font: 'sans',
      size: 19,
      x: 0.32,
      y: 0.53,
      align: 'left',
    },
    label('رقم الحالة المدنية', 0.97, 0.53, 'right', 15),
    ...mrzItems(lines, side, 0.05, 0.9, [0.71, 0.825, 0.94]),
  ];
  return {
    svg,
    texts,
    portraits: [],
    truth: {
      father_name: identity.fatherName,
      mother_name: identity.motherName,
      address: identity.address,
      address_arabic: identity.addressArabic,
      gender: identity.sex,
      // What the MRZ shows: on the CNIE the card number is the document number and the CIN is optional
      // data 1, which the domain reader returns as the personal number.
      document_number: layout === 'cnie' ? identity.cardNumber : identity.cin,
      ...(layout === 'cnie' ? { personal_number: identity.cin } : {}),
      last_name: identity.lastName,
      first_name: identity.firstName,
      date_of_birth: identity.dateOfBirth,
      expiry_date: identity.expiryDate,
      nationality: 'MAR',
      mrz: lines.join('\n'),
    },
  };
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

const STATES: Record<string, { name: string; nationality: string }> = {
  MAR: { name: 'ROYAUME DU MAROC', nationality: 'MAROCAINE' },
  FRA: { name: 'REPUBLIQUE FRANCAISE', nationality: 'FRANCAISE' },
  BEL: { name: 'ROYAUME DE BELGIQUE', nationality: 'BELGE' },
  ESP: { name: 'REINO DE ESPAÑA', nationality: 'ESPAÑOLA' },
  ITA: { name: 'REPUBBLICA ITALIANA', nationality: 'ITALIANA' },
  NLD: { name: 'KONINKRIJK DER NEDERLANDEN', nationality: 'NEDERLANDSE' },
  CAN: { name: 'CANADA', nationality: 'CANADIENNE' },
};

function passport(identity: Identity, side: Side, rng: Rng, state: string, arabic: boolean): Layout {
  // The generic TD3 template has no visual-zone boxes (issuers differ); its page uses the ICAO zone layout
  // of the Moroccan one, without the Arabic names.
  const T = 'mar_passport_biometric';
  const box = (f: string): Box => fieldBox(T, f);
  const info = STATES[state] ?? { name: state, nationality: state };
  const lines = td3Lines(identity, state);
  const stops = arabic ? ['#f3e4ea', '#e6eef0', '#ebe4f2'] : ['#e4ecf4', '#eef0e4', '#f2e9e4'];
  const svg =
    guillocheSvg(side, { stops, line: arabic ? '#8a5a7a' : '#5a6a9a', rosette: '#6a8a7a' }, rng) +
    emblemSvg(side.width * 0.17, side.height * 0.095, side.height * 0.07) +
    rect(side, [0, 0.77, 1, 0.23], '#fbfbf8', 0.88) +
    signatureSvg(
      0.06 * side.width,
      0.745 * side.height,
      0.18 * side.width,
      0.02 * side.height,
      rng,
      side.scale,
    );
  /** A label in the top band of the box and the value centred in it. */
  const boxed = (
    field: string,
    caption: string,
    value: string,
    size = 26,
    font: FontName = 'sans',
  ): TextItem[] => {
    const at = box(slot[field] ?? field);
    // Rows of the left column trade places; each keeps the widest row's width.
    const b: Box = slot[field] ? [at[0], at[1], 0.4, at[3]] : at;
    return [
      label(caption, b[0] + MARGIN, b[1] + 0.016, 'left', 11),
      latinIn(b, esc(value), size, font, field),
    ];
  };
  // Other issuers differ from the Moroccan page: the rows of the left column come in another order, the
  // captions in English first or alone, the dates spelt another way (what the generic template must cope with).
  const rows = ['last_name', 'first_name', 'date_of_birth', 'place_of_birth', 'issue_date'];
  const slot = Object.fromEntries(rows.map((f) => [f, f]));
  let captionStyle: 'fr/en' | 'en/fr' | 'en' = 'fr/en';
  let dateStyle: 'slash' | 'dot' | 'month' = 'slash';
  if (!arabic) {
    const order = [...rows];
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    rows.forEach((f, i) => (slot[f] = order[i]!));
    captionStyle = rng.pick(['fr/en', 'en/fr', 'en'] as const);
    dateStyle = rng.pick(['slash', 'dot', 'month'] as const);
  }
  const caption = (fr: string, en: string) =>
    captionStyle === 'fr/en' ? `${fr} / ${en}` : captionStyle === 'en/fr' ? `${en} / ${fr}` : en;
  const date = (iso: string) =>
    dateStyle === 'slash'
      ? dmy(iso)
      : dateStyle === 'dot'
        ? dmy(iso).replaceAll('/', '.')
        : `${iso.slice(8)} ${MONTHS[Number(iso.slice(5, 7)) - 1]!} ${iso.slice(0, 4)}`;
  const texts: TextItem[] = [
    heading(info.name, 0.33, 0.045, 'left', 26),
    heading('PASSEPORT   PASSPORT', 0.33, 0.1, 'left', 20),
    label('Type / Type', 0.33 + MARGIN, 0.166, 'left', 11),
    latinIn([0.33, 0.15, 0.1, 0.08], 'P', 26),
    label('Code / Code', 0.45 + MARGIN, 0.166, 'left', 11),
    latinIn([0.45, 0.15, 0.12, 0.08], esc(state), 26),
    ...boxed(
      'document_number',
      caption('N° du passeport', 'Passport No.'),
      identity.documentNumber,
      27,
      'bold',
    ),
    ...boxed('last_name', caption('Nom', 'Surname'), identity.lastName),
    ...boxed('first_name', caption('Prénoms', 'Given names'), identity.firstName),
    ...boxed('date_of_birth', caption('Date de naissance', 'Date of birth'), date(identity.dateOfBirth)),
    ...boxed('gender', caption('Sexe', 'Sex'), identity.sex),
    label(caption('Nationalité', 'Nationality'), 0.79 + MARGIN, 0.436, 'left', 11),
    latinIn([0.79, 0.42, 0.19, 0.08], esc(info.nationality), 24),
    ...boxed('place_of_birth', caption('Lieu de naissance', 'Place of birth'), identity.placeOfBirth),
    ...boxed('issue_date', caption('Date de délivrance', 'Date of issue'), date(identity.issueDate)),
    ...boxed('expiry_date', caption("Date d'expiration", 'Date of expiry'), date(identity.expiryDate)),
    label(caption('Autorité', 'Authority'), 0.33 + MARGIN, 0.706, 'left', 11),
    latinIn([0.33, 0.69, 0.4, 0.07], esc(info.name === state ? state : 'DIRECTION GENERALE'), 20),
    ...mrzItems(lines, side, 0.04, 0.92, [0.835, 0.935]),
  ];
  if (arabic) {
    texts.push(
      heading('المملكة المغربية', 0.97, 0.045, 'right', 28),
      heading('جواز السفر', 0.97, 0.1, 'right', 22),
      label('الاسم العائلي', 0.99 - MARGIN, 0.243, 'right', 12),
      arabicIn(box('last_name_arabic'), esc(identity.lastNameArabic), 26, 'sans', 'last_name_arabic'),
      label('الاسم الشخصي', 0.99 - MARGIN, 0.333, 'right', 12),
      arabicIn(box('first_name_arabic'), esc(identity.firstNameArabic), 26, 'sans', 'first_name_arabic'),
    );
  }
  const truth: Record<string, string> = {
    document_number: identity.documentNumber,
    last_name: identity.lastName,
    first_name: identity.firstName,
    ...(arabic
      ? { last_name_arabic: identity.lastNameArabic, first_name_arabic: identity.firstNameArabic }
      : {}),
    date_of_birth: identity.dateOfBirth,
    gender: identity.sex,
    place_of_birth: identity.placeOfBirth,
    issue_date: identity.issueDate,
    expiry_date: identity.expiryDate,
    nationality: state,
    ...(state === 'MAR' ? { personal_number: identity.cin } : {}),
    mrz: lines.join('\n'),
  };
  return { svg, texts, portraits: [{ box: templateById(T)!.portrait!.box }], truth };
}

export async function renderDocument(
  kind: DocumentKind,
  identity: Identity,
  opts: RenderOptions,
): Promise<RenderedDocument> {
  const { rng } = opts;
  const side = sideOf(kind, opts.width);
  const layout =
    kind === 'mar_cnie_2020_front'
      ? cnieFront(identity, side, rng)
      : kind === 'mar_cnie_2020_back'
        ? cnieBack(identity, side, rng, opts.td1Layout ?? 'cnie')
        : kind === 'mar_passport'
          ? passport(identity, side, rng, 'MAR', true)
          : passport(
              identity,
              side,
              rng,
              opts.issuingState ?? rng.pick(['FRA', 'BEL', 'ESP', 'ITA', 'NLD', 'CAN']),
              false,
            );

  // Draws from the rng happen above and here, in a fixed order, before any asynchronous work.
  const portraitJobs = layout.portraits.map((p) => ({ ...p, seed: rng.next() }));
  const main = layout.portraits.find((p) => !p.ghost)?.box;
  const mainPortraitSize = main && {
    width: Math.round(main[2] * side.width),
    height: Math.round(main[3] * side.height),
  };
  const [portraits, texts] = await Promise.all([
    Promise.all(
      portraitJobs.map((p) =>
        portraitOverlay(
          p.ghost && opts.ghostPortraitPath ? opts.ghostPortraitPath : opts.portraitPath,
          opts.portraitCrop,
          side,
          p.box,
          createRng(Math.floor(p.seed * 4294967296)),
          p.ghost ?? false,
          p.ghost ? mainPortraitSize : undefined,
          opts.ghostPrint,
        ),
      ),
    ),
    Promise.all(layout.texts.map((t) => placeText(t, side))),
  ]);
  const overlays = [...portraits, ...texts];
  const inkBoxes: Record<string, Box> = {};
  layout.texts.forEach((item, i) => {
    const o = texts[i];
    if (!item.field || !o?.raw) return;
    inkBoxes[item.field] = [
      o.left / side.width,
      o.top / side.height,
      o.raw.width / side.width,
      o.raw.height / side.height,
    ];
  });
  const image = await sharp(svgDoc(side, layout.svg))
    .composite(overlays)
    .removeAlpha()
    .png({ compressionLevel: 6 })
    .toBuffer();
  return { image, width: side.width, height: side.height, truth: layout.truth, inkBoxes };
}
