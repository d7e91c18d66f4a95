/**
 * "Photographs" a rendered document side: puts it in perspective on a textured background, then degrades
 * the picture as a phone camera would (blur, noise, glare, exposure, JPEG). The perspective warp is done
 * here (inverse mapping through the pipeline's homography, bilinear sampling), so the returned quad is exact.
 */
import { homographyFromQuad } from '../../src/pipeline/document/rectify-document.ts';
import sharp from 'sharp';
import { createRng, type Rng } from './identities.ts';

export type Point = [x: number, y: number];
/** Top-left, top-right, bottom-right, bottom-left corners of the document, in output pixels. */
export type Quad = [Point, Point, Point, Point];

/** `medium` sits between the two (same draws as `hard`, milder ranges). */
export type PhotoLevel = 'clean' | 'medium' | 'hard';

export interface PhotographOptions {
  /** Default: landscape mostly, portrait sometimes. */
  orientation?: 'landscape' | 'portrait';
  /** Long side of the output frame (default 1600; the short side is 3/4 of it). */
  longSide?: number;
  /** In-plane rotation of the document in degrees (clockwise); drawn from the level when absent. */
  rotation?: number;
  /** Corner radius as a share of the document's width; default 0.037 for ID-1 cards, 0 otherwise. */
  cornerRadius?: number;
}

export interface Photograph {
  jpeg: Buffer;
  width: number;
  height: number;
  /**
   * The document's corners in the output image (continuous coordinates: pixel (i, j) covers [i, i+1) ×
   * [j, j+1)), in the document's own order TL, TR, BR, BL whatever its rotation.
   */
  quad: Quad;
}

// ---------------------------------------------------------------------------------------------------
// Background

const clamp255 = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);

/** A smooth random field in [0, 255]: a small grid of random values upscaled (cubic). */
async function smoothField(rng: Rng, gw: number, gh: number, width: number, height: number): Promise<Buffer> {
  const grid = Buffer.alloc(gw * gh);
  for (let i = 0; i < grid.length; i++) grid[i] = rng.int(0, 255);
  return sharp(grid, { raw: { width: gw, height: gh, channels: 1 } })
    .resize(width, height, { fit: 'fill', kernel: 'cubic' })
    .raw()
    .toBuffer();
}

type Rgb = [number, number, number];

const WOODS: readonly Rgb[] = [
  [150, 105, 65],
  [120, 80, 50],
  [180, 140, 95],
  [95, 65, 45],
  [200, 165, 120],
];
const SURFACES: readonly Rgb[] = [
  [200, 200, 196],
  [60, 62, 68],
  [225, 220, 205],
  [110, 125, 140],
  [235, 235, 235],
  [40, 40, 42],
  [170, 190, 175],
];

async function background(rng: Rng, width: number, height: number): Promise<Uint8Array> {
  const out = new Uint8Array(width * height * 3);
  const kind = rng.pick(['wood', 'noise', 'table'] as const);
  if (kind === 'wood') {
    const base = rng.pick(WOODS);
    const vertical = rng.chance(0.5);
    const grain = vertical
      ? await smoothField(rng, rng.int(120, 260), rng.int(3, 6), width, height)
      : await smoothField(rng, rng.int(3, 6), rng.int(120, 260), width, height);
    const planks = await smoothField(rng, 4, 4, width, height);
    for (let p = 0, o = 0; p < width * height; p++, o += 3) {
      const k = 0.72 + (0.42 * grain[p]!) / 255 + (0.12 * (planks[p]! - 128)) / 255;
      out[o] = clamp255(base[0] * k);
      out[o + 1] = clamp255(base[1] * k);
      out[o + 2] = clamp255(base[2] * k);
    }
  } else if (kind === 'noise') {
    const base = rng.pick(SURFACES);
    const coarse = await smoothField(rng, rng.int(10, 30), rng.int(8, 22), width, height);
    const fine = await smoothField(rng, Math.round(width / 6), Math.round(height / 6), width, height);
    for (let p = 0, o = 0; p < width * height; p++, o += 3) {
      const d = (coarse[p]! - 128) * 0.18 + (fine[p]! - 128) * 0.12;
      out[o] = clamp255(base[0] + d);
      out[o + 1] = clamp255(base[1] + d);
      out[o + 2] = clamp255(base[2] + d);
    }
  } else {
    const a = rng.pick(SURFACES);
    const b = rng.pick(SURFACES);
    const angle = rng.float(0, 2 * Math.PI);
    const [dx, dy] = [Math.cos(angle), Math.sin(angle)];
    const norm = Math.abs(dx) * width + Math.abs(dy) * height;
    const blotch = await smoothField(rng, 6, 5, width, height);
    for (let y = 0, p = 0; y < height; y++) {
      for (let x = 0; x < width; x++, p++) {
        const t = Math.min(1, Math.max(0, 0.5 + ((x - width / 2) * dx + (y - height / 2) * dy) / norm));
        const d = (blotch[p]! - 128) * 0.08;
        const o = p * 3;
        out[o] = clamp255(a[0] + (b[0] - a[0]) * t + d);
        out[o + 1] = clamp255(a[1] + (b[1] - a[1]) * t + d);
        out[o + 2] = clamp255(a[2] + (b[2] - a[2]) * t + d);
      }
    }
  }
  return out;
}

const SKINS: readonly Rgb[] = [
  [224, 172, 140],
  [198, 134, 96],
  [160, 105, 72],
  [236, 192, 160],
  [120, 80, 56],
];

/** A soft-edged, lightly shaded ellipse blended into `out`. */
function drawEllipse(
  out: Uint8Array,
  width: number,
  height: number,
  e: { cx: number; cy: number; rx: number; ry: number; angle: number; color: Rgb },
): void {
  const [c, s] = [Math.cos(e.angle), Math.sin(e.angle)];
  const r = Math.max(e.rx, e.ry);
  for (let y = Math.max(0, Math.floor(e.cy - r)); y < Math.min(height, Math.ceil(e.cy + r)); y++) {
    for (let x = Math.max(0, Math.floor(e.cx - r)); x < Math.min(width, Math.ceil(e.cx + r)); x++) {
      const u = ((x - e.cx) * c + (y - e.cy) * s) / e.rx;
      const v = (-(x - e.cx) * s + (y - e.cy) * c) / e.ry;
      const d = Math.sqrt(u * u + v * v);
      if (d >= 1) continue;
      const alpha = Math.min(1, (1 - d) * 10);
      const shade = 0.82 + 0.22 * Math.sqrt(1 - d) - 0.08 * v;
      const o = (y * width + x) * 3;
      for (let k = 0; k < 3; k++)
        out[o + k] = clamp255(out[o + k]! * (1 - alpha) + e.color[k]! * shade * alpha);
    }
  }
}

/**
 * A hand holding the card from behind one edge: a palm outside the card and four fingers reaching towards
 * (and under) it. `(cx, cy)` is a point on the card's edge, `(nx, ny)` the outward normal there.
 */
function drawHand(
  out: Uint8Array,
  width: number,
  height: number,
  rng: Rng,
  edge: { cx: number; cy: number; nx: number; ny: number },
): void {
  const color = rng.pick(SKINS);
  const size = Math.min(width, height) * rng.float(0.09, 0.13);
  const angle = Math.atan2(edge.ny, edge.nx);
  const palm = { cx: edge.cx + edge.nx * size * 1.6, cy: edge.cy + edge.ny * size * 1.6 };
  drawEllipse(out, width, height, { ...palm, rx: size * 1.3, ry: size * 1.1, angle, color });
  // Fingers: elongated along the normal, side by side along the edge.
  const [tx, ty] = [-edge.ny, edge.nx];
  for (let i = 0; i < 4; i++) {
    const off = (i - 1.5) * size * 0.48;
    const reach = size * rng.float(0.3, 0.7);
    drawEllipse(out, width, height, {
      cx: edge.cx + tx * off - edge.nx * reach,
      cy: edge.cy + ty * off - edge.ny * reach,
      rx: size * rng.float(0.85, 1.1),
      ry: size * 0.24,
      angle,
      color,
    });
  }
}

// ---------------------------------------------------------------------------------------------------
// Placement

function rotate([x, y]: Point, degrees: number): Point {
  const a = (degrees * Math.PI) / 180;
  return [x * Math.cos(a) - y * Math.sin(a), x * Math.sin(a) + y * Math.cos(a)];
}

/** The document's quad in the frame: rotated, corner-jittered, scaled to the cover share, kept inside. */
function placeQuad(
  rng: Rng,
  aspect: number,
  frame: { width: number; height: number },
  rotation: number,
  jitter: number,
  cover: number,
): Quad {
  const h = 1 / aspect;
  const corners: Point[] = [
    [-0.5, -h / 2],
    [0.5, -h / 2],
    [0.5, h / 2],
    [-0.5, h / 2],
  ];
  const jittered = corners.map(([x, y]): Point => [
    x + rng.float(-jitter, jitter),
    y + rng.float(-jitter, jitter) * h,
  ]);
  const rotated = jittered.map((p) => rotate(p, rotation));
  const xs = rotated.map((p) => p[0]);
  const ys = rotated.map((p) => p[1]);
  const bw = Math.max(...xs) - Math.min(...xs);
  const bh = Math.max(...ys) - Math.min(...ys);
  const margin = 0.02;
  let scale = (cover * frame.width) / bw;
  if (scale * bh > (1 - 2 * margin) * frame.height) scale = ((1 - 2 * margin) * frame.height) / bh;
  const midX = (Math.max(...xs) + Math.min(...xs)) / 2;
  const midY = (Math.max(...ys) + Math.min(...ys)) / 2;
  const slackX = Math.max(0, (frame.width * (1 - 2 * margin) - scale * bw) / 2);
  const slackY = Math.max(0, (frame.height * (1 - 2 * margin) - scale * bh) / 2);
  const tx = frame.width / 2 + rng.float(-0.8, 0.8) * slackX - midX * scale;
  const ty = frame.height / 2 + rng.float(-0.8, 0.8) * slackY - midY * scale;
  const q = rotated.map(([x, y]): Point => [x * scale + tx, y * scale + ty]);
  return [q[0]!, q[1]!, q[2]!, q[3]!];
}

const dist = (a: Point, b: Point): number => Math.hypot(a[0] - b[0], a[1] - b[1]);

// ---------------------------------------------------------------------------------------------------

interface Glare {
  x: number;
  y: number;
  sx: number;
  sy: number;
  strength: number;
}

export async function photograph(
  image: Buffer,
  level: PhotoLevel,
  rng: Rng,
  opts: PhotographOptions = {},
): Promise<Photograph> {
  const medium = level === 'medium';
  const hard = level === 'hard' || medium;
  /** A hard range, narrowed toward the clean one for `medium`. */
  const mid = (lo: number, hi: number, cleanLo: number, cleanHi: number): number =>
    medium ? rng.float((lo + cleanLo) / 2, (hi + cleanHi) / 2) : rng.float(lo, hi);
  const meta = await sharp(image).metadata();
  if (!meta.width || !meta.height) throw new Error('unreadable document image');
  const aspect = meta.width / meta.height;

  // Every draw from the rng happens in this fixed order.
  const orientation = opts.orientation ?? (rng.chance(hard ? 0.35 : 0.2) ? 'portrait' : 'landscape');
  const long = opts.longSide ?? 1600;
  const short = Math.round((long * 3) / 4);
  const frame = orientation === 'landscape' ? { width: long, height: short } : { width: short, height: long };
  const quarter = hard && rng.chance(0.25) ? rng.pick([90, 180, 270]) : 0;
  const rotation = opts.rotation ?? quarter + (hard ? mid(-15, 15, -5, 5) : rng.float(-5, 5));
  const jitter = hard ? mid(0.02, 0.08, 0, 0.03) : rng.float(0, 0.03);
  const cover = rng.float(0.6, 0.85);
  const quad = placeQuad(rng, aspect, frame, rotation, jitter, cover);

  // Shrink the document first when it is shown smaller than it is, so bilinear sampling does not alias.
  const shown = Math.max(dist(quad[0], quad[1]), dist(quad[3], quad[2]));
  const k = Math.min(1, (shown / meta.width) * 1.15);
  const dw = Math.max(2, Math.round(meta.width * k));
  const dh = Math.max(2, Math.round(meta.height * k));
  const doc = await sharp(image)
    .resize(dw, dh, { fit: 'fill', kernel: 'lanczos3' })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer();

  const out = await background(rng, frame.width, frame.height);
  if (rng.chance(hard ? 0.4 : 0.2)) {
    // A hand behind one edge of the card: centred near the middle of a random edge.
    const i = rng.int(0, 3);
    const a = quad[i]!;
    const b = quad[(i + 1) % 4]!;
    const t = rng.float(0.3, 0.7);
    const len = dist(a, b);
    // The quad runs clockwise on screen (y down), so the outward normal of a→b is (dy, -dx).
    drawHand(out, frame.width, frame.height, rng, {
      cx: a[0] + (b[0] - a[0]) * t,
      cy: a[1] + (b[1] - a[1]) * t,
      nx: (b[1] - a[1]) / len,
      ny: -(b[0] - a[0]) / len,
    });
  }

  const radius = (opts.cornerRadius ?? (Math.abs(aspect - 85.6 / 53.98) < 0.05 ? 0.037 : 0)) * dw;
  const glare: Glare | undefined =
    hard || rng.chance(0.15)
      ? (() => {
          // A gaussian spot whose visible part (above a tenth of its peak) covers at most ~15 % of the card.
          const area = rng.float(0.05, 0.15) * dw * dh;
          const elong = rng.float(0.6, 1.6);
          const r = Math.sqrt(area / Math.PI);
          const sigma = r / Math.sqrt(2 * Math.log(10));
          return {
            x: rng.float(0.15, 0.85) * dw,
            y: rng.float(0.15, 0.85) * dh,
            sx: sigma * Math.sqrt(elong),
            sy: sigma / Math.sqrt(elong),
            strength: hard ? mid(0.55, 0.9, 0.2, 0.4) : rng.float(0.2, 0.4),
          };
        })()
      : undefined;
  const shadow = { dx: rng.float(-6, 10), dy: rng.float(2, 14), opacity: rng.float(0.15, 0.35) };

  warp(out, frame, doc, dw, dh, quad, radius, glare, shadow);

  // Blur in pixels of a 1600 px frame: a camera's own resolution spreads the same defocus over more.
  const blur = (hard ? mid(0.6, 1.5, 0.3, 0.6) : 0) * (long / 1600);
  const contrast = hard ? mid(0.7, 1.2, 0.95, 1.05) : rng.float(0.95, 1.05);
  const brightness = hard ? mid(-35, 25, -8, 8) : rng.float(-8, 8);
  const noise = hard ? mid(4, 10, 0.8, 2) : rng.float(0.8, 2);
  const light = {
    angle: rng.float(0, 2 * Math.PI),
    amount: hard ? mid(0.05, 0.25, 0, 0.08) : rng.float(0, 0.08),
  };
  const quality = hard ? (medium ? rng.int(70, 85) : rng.int(55, 75)) : 90;

  let pixels: Uint8Array = out;
  if (blur > 0) {
    pixels = await sharp(out, { raw: { width: frame.width, height: frame.height, channels: 3 } })
      .blur(blur)
      .raw()
      .toBuffer();
  }
  finish(pixels, frame, rng, { contrast, brightness, noise, light });
  // The camera's colour rendering, from its own generator seeded by the placement (so the draws above,
  // and every picture made before casts existed, stay as they were).
  colourCast(pixels, frame, createRng(castSeed(quad)), level);
  const jpeg = await sharp(pixels, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
  return { jpeg, width: frame.width, height: frame.height, quad };
}

/** Draws the document (and its shadow) into `out` through the inverse homography. */
function warp(
  out: Uint8Array,
  frame: { width: number; height: number },
  doc: Buffer,
  dw: number,
  dh: number,
  quad: Quad,
  radius: number,
  glare: Glare | undefined,
  shadow: { dx: number; dy: number; opacity: number },
): void {
  // Output pixel → document pixel: the inverse mapping, solved directly from the quad.
  const [m0, m1, m2, m3, m4, m5, m6, m7, m8] = homographyFromQuad(
    quad.map(([x, y]) => ({ x, y })),
    [
      { x: 0, y: 0 },
      { x: dw, y: 0 },
      { x: dw, y: dh },
      { x: 0, y: dh },
    ],
  ) as [number, number, number, number, number, number, number, number, number];
  // Output pixels per document pixel, to turn distances in the document into output pixels.
  const perDoc = dist(quad[0], quad[1]) / dw;
  const xs = quad.map((p) => p[0]);
  const ys = quad.map((p) => p[1]);
  const pad = 20;
  const x0 = Math.max(0, Math.floor(Math.min(...xs)) - pad);
  const x1 = Math.min(frame.width, Math.ceil(Math.max(...xs)) + pad);
  const y0 = Math.max(0, Math.floor(Math.min(...ys)) - pad);
  const y1 = Math.min(frame.height, Math.ceil(Math.max(...ys)) + pad);

  /** Signed distance (document pixels) from (u, v) to the card's rounded outline, positive inside. */
  const inside = (u: number, v: number): number => {
    let d = Math.min(u, dw - u, v, dh - v);
    if (radius > 0) {
      const cu = u < radius ? radius : u > dw - radius ? dw - radius : u;
      const cv = v < radius ? radius : v > dh - radius ? dh - radius : v;
      if (cu !== u && cv !== v) d = Math.min(d, radius - Math.hypot(u - cu, v - cv));
    }
    return d;
  };

  const soft = 10; // shadow edge, output pixels
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const o = (y * frame.width + x) * 3;
      // Shadow: the card shifted by (dx, dy), with a soft edge.
      {
        const px = x + 0.5 - shadow.dx;
        const py = y + 0.5 - shadow.dy;
        const w = m6 * px + m7 * py + m8;
        const u = (m0 * px + m1 * py + m2) / w;
        const v = (m3 * px + m4 * py + m5) / w;
        const d = inside(u, v) * perDoc;
        if (d > -soft) {
          const a = shadow.opacity * Math.min(1, (d + soft) / (2 * soft));
          out[o] = out[o]! * (1 - a);
          out[o + 1] = out[o + 1]! * (1 - a);
          out[o + 2] = out[o + 2]! * (1 - a);
        }
      }
      const px = x + 0.5;
      const py = y + 0.5;
      const w = m6 * px + m7 * py + m8;
      const u = (m0 * px + m1 * py + m2) / w;
      const v = (m3 * px + m4 * py + m5) / w;
      const d = inside(u, v) * perDoc;
      if (d <= -0.5) continue;
      const alpha = d >= 0.5 ? 1 : d + 0.5;
      // Bilinear sample at pixel-centre coordinates.
      let sx = u - 0.5;
      let sy = v - 0.5;
      sx = sx < 0 ? 0 : sx > dw - 1 ? dw - 1 : sx;
      sy = sy < 0 ? 0 : sy > dh - 1 ? dh - 1 : sy;
      const ix = Math.min(dw - 2, Math.floor(sx));
      const iy = Math.min(dh - 2, Math.floor(sy));
      const fx = sx - ix;
      const fy = sy - iy;
      const i00 = (iy * dw + ix) * 3;
      const i10 = i00 + 3;
      const i01 = i00 + dw * 3;
      const i11 = i01 + 3;
      let g = 0;
      if (glare) {
        const gx = (u - glare.x) / glare.sx;
        const gy = (v - glare.y) / glare.sy;
        g = glare.strength * Math.exp(-0.5 * (gx * gx + gy * gy));
      }
      for (let k = 0; k < 3; k++) {
        const top = doc[i00 + k]! + (doc[i10 + k]! - doc[i00 + k]!) * fx;
        const bottom = doc[i01 + k]! + (doc[i11 + k]! - doc[i01 + k]!) * fx;
        let c = top + (bottom - top) * fy;
        c += (255 - c) * g;
        out[o + k] = clamp255(out[o + k]! * (1 - alpha) + c * alpha);
      }
    }
  }
}

/** Uneven light, exposure, contrast and sensor noise, in place. */
function finish(
  pixels: Uint8Array,
  frame: { width: number; height: number },
  rng: Rng,
  p: { contrast: number; brightness: number; noise: number; light: { angle: number; amount: number } },
): void {
  const table = new Float32Array(4096);
  for (let i = 0; i < table.length; i++) table[i] = rng.gauss() * p.noise;
  const [lx, ly] = [Math.cos(p.light.angle), Math.sin(p.light.angle)];
  const diag = Math.hypot(frame.width, frame.height) / 2;
  let state = rng.int(1, 0x7fffffff) | 1;
  for (let y = 0; y < frame.height; y++) {
    for (let x = 0; x < frame.width; x++) {
      const l = 1 + (p.light.amount * ((x - frame.width / 2) * lx + (y - frame.height / 2) * ly)) / diag;
      const o = (y * frame.width + x) * 3;
      // xorshift: cheap indices into the gaussian table (luminance noise plus a little chroma).
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      const n = table[state & 4095]!;
      for (let k = 0; k < 3; k++) {
        const chroma = table[((state >>> (8 + 4 * k)) ^ (k * 977)) & 4095]! * 0.35;
        pixels[o + k] = clamp255((pixels[o + k]! * l - 128) * p.contrast + 128 + p.brightness + n + chroma);
      }
    }
  }
}

/** A seed from the document's placement: the same photo gets the same cast. */
function castSeed(quad: Quad): number {
  let h = 2166136261;
  for (const [x, y] of quad) {
    for (const v of [x, y]) {
      h ^= Math.round(v * 1000) & 0xffffffff;
      h = Math.imul(h, 16777619) >>> 0;
    }
  }
  return (h % 0x7ffffffe) + 1;
}

/**
 * The camera's colour: a white balance that missed (warm or cool light, a green or magenta tint), at times
 * two lights mixed across the frame (a window and a lamp), and the phone's saturation processing. Colour
 * signals must hold under all of it: a genuine card under a warm lamp is still a colour card.
 */
function colourCast(
  pixels: Uint8Array,
  frame: { width: number; height: number },
  rng: Rng,
  level: PhotoLevel,
): void {
  const strength = level === 'clean' ? 0.5 : level === 'medium' ? 0.8 : 1;
  const cast = (): [number, number, number] => {
    const temperature = rng.float(-1, 1) * 0.22 * strength;
    const tint = rng.float(-1, 1) * 0.1 * strength;
    return [1 + temperature, 1 - tint, 1 - temperature];
  };
  const a = cast();
  const mixed = rng.chance(level === 'clean' ? 0.1 : 0.3);
  const b = mixed ? cast() : a;
  const angle = rng.float(0, 2 * Math.PI);
  const [dx, dy] = [Math.cos(angle), Math.sin(angle)];
  const saturation = rng.float(0.85, 1.0 + 0.3 * strength);
  const diag = Math.hypot(frame.width, frame.height);
  for (let y = 0; y < frame.height; y++) {
    for (let x = 0; x < frame.width; x++) {
      // Where between the two lights this pixel is (0..1 along the direction, smooth).
      const t = mixed
        ? Math.min(
            1,
            Math.max(0, 0.5 + ((x - frame.width / 2) * dx + (y - frame.height / 2) * dy) / (0.6 * diag)),
          )
        : 0;
      const o = (y * frame.width + x) * 3;
      const r = pixels[o]! * (a[0] + (b[0] - a[0]) * t);
      const g = pixels[o + 1]! * (a[1] + (b[1] - a[1]) * t);
      const bl = pixels[o + 2]! * (a[2] + (b[2] - a[2]) * t);
      const l = 0.299 * r + 0.587 * g + 0.114 * bl;
      pixels[o] = clamp255(l + (r - l) * saturation);
      pixels[o + 1] = clamp255(l + (g - l) * saturation);
      pixels[o + 2] = clamp255(l + (bl - l) * saturation);
    }
  }
}
