import { fitSimilarity } from '../face/align.ts';
import type { Point } from '../face/landmarks.ts';
import { gaussianBlur } from '../image/gaussian-blur.ts';
import { toGray, type RgbImage } from '../image/rgb-image.ts';

/** A portrait crop and its face's five landmarks (eyes, nose, mouth corners) in the crop's own pixels. */
export interface PortraitView {
  image: RgbImage;
  landmarks5: readonly Point[];
}

/**
 * Whether two printings of a portrait are the same picture: the grey levels of the small one (a ghost
 * portrait) against the large one's, brought to the small one's scale and sharpness through the faces'
 * landmarks. The correlation is measured over the head and what surrounds it (hair, shoulders, the
 * picture's background) in tiles of about the eyes' distance, and the median tile is kept: a tile that
 * falls outside one of the pictures (their framings differ a little), on a digit printed over the ghost or
 * on a glare does not count. A card prints its ghost from the main portrait's picture; a replaced main
 * portrait is another picture, whose tiles correlate less even where it shows a look-alike, and the
 * measure needs no face model to recognise a blurred, faded face.
 *
 * Returns the median tile correlation (−1..1), or undefined when the faces are too small to measure.
 */
export function pictureCorrelation(small: PortraitView, large: PortraitView): number | undefined {
  const sw = small.image.width;
  const sh = small.image.height;
  const lw = large.image.width;
  const lh = large.image.height;
  // Small picture's pixels → large picture's.
  const t = fitSimilarity(small.landmarks5, large.landmarks5);
  const k = Math.hypot(t.a, t.b);
  const [le, re] = [small.landmarks5[0]!, small.landmarks5[1]!];
  const eye = Math.hypot(re.x - le.x, re.y - le.y);
  if (!(k > 0) || eye < MIN_EYE_DISTANCE_PX) return undefined;
  // Both smoothed to the small picture's scale: its own grain out, the large one's detail it cannot show.
  const sg = gaussianBlur(toGray(small.image), sw, sh, SMOOTH_PX);
  const lg = gaussianBlur(toGray(large.image), lw, lh, SMOOTH_PX * Math.max(1, k));
  const cx = (le.x + re.x) / 2;
  const cy = (le.y + re.y) / 2;
  const pts: Point[] = [];
  for (let y = cy - ABOVE * eye; y <= cy + BELOW * eye; y += 1)
    for (let x = cx - BESIDE * eye; x <= cx + BESIDE * eye; x += 1)
      if (x >= 0 && y >= 0 && x <= sw - 1 && y <= sh - 1) pts.push({ x, y });
  if (pts.length < 64) return undefined;
  const sv = new Float64Array(pts.length);
  for (let i = 0; i < pts.length; i++) sv[i] = bilinear(sg, sw, sh, pts[i]!.x, pts[i]!.y);
  // Landmarks on a small face are a pixel or two out: the alignment that correlates best over the whole
  // region is the one measured, searched coarse to fine (shifts, then scale and rotation around the eyes,
  // then shifts again).
  const lv = new Float64Array(pts.length);
  const sample = (dx: number, dy: number, scale: number, angle: number): number => {
    const c = Math.cos(angle) * scale;
    const s = Math.sin(angle) * scale;
    // q = centre + R·(p − centre) + d, then X = T(q): one affine map per alignment.
    const ax = t.a * c - t.b * s;
    const bx = -(t.a * s + t.b * c);
    const ay = t.b * c + t.a * s;
    const by = t.a * c - t.b * s;
    const ox = cx + dx - c * cx + s * cy;
    const oy = cy + dy - s * cx - c * cy;
    const tx = t.a * ox - t.b * oy + t.tx;
    const ty = t.b * ox + t.a * oy + t.ty;
    let inside = 0;
    for (let i = 0; i < pts.length; i++) {
      const { x, y } = pts[i]!;
      const X = ax * x + bx * y + tx;
      const Y = ay * x + by * y + ty;
      const ok = X >= 0 && Y >= 0 && X <= lw - 1 && Y <= lh - 1;
      lv[i] = ok ? bilinear(lg, lw, lh, X, Y) : Number.NaN;
      if (ok) inside++;
    }
    return inside < pts.length * 0.6 ? -Infinity : correlation(sv, lv, undefined);
  };
  let best = { r: -Infinity, dx: 0, dy: 0, scale: 1, angle: 0 };
  const tryAt = (dx: number, dy: number, scale: number, angle: number) => {
    const r = sample(dx, dy, scale, angle);
    if (r > best.r) best = { r, dx, dy, scale, angle };
  };
  for (let dy = -SHIFT_PX; dy <= SHIFT_PX; dy++)
    for (let dx = -SHIFT_PX; dx <= SHIFT_PX; dx++) tryAt(dx, dy, 1, 0);
  const { dx: sx, dy: sy } = best;
  for (const scale of [0.94, 1, 1.06]) for (const angle of [-0.05, 0, 0.05]) tryAt(sx, sy, scale, angle);
  const { scale: bs, angle: ba } = best;
  for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) tryAt(sx + dx, sy + dy, bs, ba);
  if (best.r === -Infinity) return undefined;
  sample(best.dx, best.dy, best.scale, best.angle);
  const bestLv = lv;
  // The median over tiles at that alignment.
  const tile = Math.max(3, eye * TILE_EYES);
  const cells = new Map<string, number[]>();
  for (let i = 0; i < pts.length; i++) {
    const key = `${Math.floor((pts[i]!.x - cx) / tile)},${Math.floor((pts[i]!.y - cy) / tile)}`;
    let cell = cells.get(key);
    if (!cell) cells.set(key, (cell = []));
    cell.push(i);
  }
  const tiles: number[] = [];
  for (const idx of cells.values())
    if (idx.length >= tile * tile * 0.6) tiles.push(correlation(sv, bestLv, idx));
  if (tiles.length < 4) return undefined;
  tiles.sort((a, b) => a - b);
  return tiles[Math.floor(tiles.length / 2)];
}

/**
 * Where the large picture's face would be in the small one when no face could be trusted there (a faded
 * ghost the detector misses, or finds on the digits printed over it): the large picture's head region is
 * slid over the small image at scales from `scales[0]` to `scales[1]` (small pixels per large pixel) and
 * the placement that correlates best gives the small picture's landmarks. Undefined when nothing fits.
 */
export function placeLandmarks(
  small: RgbImage,
  large: PortraitView,
  scales: readonly [number, number],
): Point[] | undefined {
  const [le, re] = [large.landmarks5[0]!, large.landmarks5[1]!];
  const eye = Math.hypot(re.x - le.x, re.y - le.y);
  if (!(eye > 0)) return undefined;
  const cx = (le.x + re.x) / 2;
  const cy = (le.y + re.y) / 2;
  const lg = toGray(large.image);
  const sgFull = toGray(small);
  const blurredLarge = new Map<number, Float32Array>();
  let best = { r: -Infinity, scale: 0, x: 0, y: 0, f: 1 };
  for (let scale = scales[0]; scale <= scales[1] * 1.0001; scale *= 1.06) {
    // Working resolution: the template's eyes PLACE_EYE_PX apart, whatever the scale.
    const f = Math.min(1, PLACE_EYE_PX / (eye * scale));
    const ww = Math.max(1, Math.round(small.width * f));
    const wh = Math.max(1, Math.round(small.height * f));
    const sw = resample(
      gaussianBlur(sgFull, small.width, small.height, Math.max(0.7, 0.5 / f)),
      small.width,
      small.height,
      ww,
      wh,
    );
    // The template: the large head region sampled on the working grid (one working pixel = 1/(scale·f) large pixels).
    const step = 1 / (scale * f);
    const tw = Math.round((2 * BESIDE * eye) / step);
    const th = Math.round(((ABOVE + BELOW) * eye) / step);
    if (tw < 6 || th < 6 || tw >= ww || th >= wh) continue;
    const sigma = Math.max(0.5, step * 0.5);
    let lgBlur = blurredLarge.get(sigma);
    if (!lgBlur)
      blurredLarge.set(sigma, (lgBlur = gaussianBlur(lg, large.image.width, large.image.height, sigma)));
    const tpl = new Float64Array(tw * th);
    let tm = 0;
    for (let v = 0; v < th; v++)
      for (let u = 0; u < tw; u++) {
        const X = Math.min(large.image.width - 1, Math.max(0, cx - BESIDE * eye + u * step));
        const Y = Math.min(large.image.height - 1, Math.max(0, cy - ABOVE * eye + v * step));
        tm += tpl[v * tw + u] = bilinear(lgBlur, large.image.width, large.image.height, X, Y);
      }
    tm /= tpl.length;
    let tv = 0;
    for (let i = 0; i < tpl.length; i++) tv += (tpl[i]! -= tm) ** 2;
    if (tv <= 1e-6) continue;
    // Window sums from integral images; only the product with the template is summed per placement.
    const iw = ww + 1;
    const s1 = new Float64Array(iw * (wh + 1));
    const s2 = new Float64Array(iw * (wh + 1));
    for (let y = 0; y < wh; y++)
      for (let x = 0; x < ww; x++) {
        const a = sw[y * ww + x]!;
        const o = (y + 1) * iw + x + 1;
        s1[o] = a + s1[o - 1]! + s1[o - iw]! - s1[o - iw - 1]!;
        s2[o] = a * a + s2[o - 1]! + s2[o - iw]! - s2[o - iw - 1]!;
      }
    const n = tpl.length;
    for (let y0 = 0; y0 + th <= wh; y0++)
      for (let x0 = 0; x0 + tw <= ww; x0++) {
        const a0 = y0 * iw + x0;
        const a1 = a0 + tw;
        const b0 = (y0 + th) * iw + x0;
        const b1 = b0 + tw;
        const sa = s1[b1]! - s1[b0]! - s1[a1]! + s1[a0]!;
        const va = s2[b1]! - s2[b0]! - s2[a1]! + s2[a0]! - (sa * sa) / n;
        if (va <= 1e-6) continue;
        let sab = 0;
        for (let v = 0; v < th; v++) {
          const row = (y0 + v) * ww + x0;
          const trow = v * tw;
          for (let u = 0; u < tw; u++) sab += sw[row + u]! * tpl[trow + u]!;
        }
        const r = sab / Math.sqrt(va * tv);
        if (r > best.r) best = { r, scale, x: x0, y: y0, f };
      }
  }
  if (best.r === -Infinity) return undefined;
  // Large (X, Y) → small: ((X − region's corner)·scale + placement / f).
  const ox = cx - BESIDE * eye;
  const oy = cy - ABOVE * eye;
  return large.landmarks5.map((p) => ({
    x: best.x / best.f + (p.x - ox) * best.scale,
    y: best.y / best.f + (p.y - oy) * best.scale,
  }));
}

/** Eye distance of the template in `placeLandmarks`' working resolution (pixels). */
const PLACE_EYE_PX = 8;

/** A one-channel image resampled to width × height (bilinear; enough after the smoothing that follows). */
function resample(g: Float32Array, w: number, h: number, ow: number, oh: number): Float32Array {
  if (ow === w && oh === h) return g;
  const out = new Float32Array(ow * oh);
  const at = (i: number, n: number, on: number) => Math.min(n - 1, Math.max(0, ((i + 0.5) * n) / on - 0.5));
  for (let y = 0; y < oh; y++)
    for (let x = 0; x < ow; x++) out[y * ow + x] = bilinear(g, w, h, at(x, w, ow), at(y, h, oh));
  return out;
}

/** Below this distance between the small face's eyes (pixels), there is too little picture to compare. */
const MIN_EYE_DISTANCE_PX = 4;
/** The region measured, in eye distances from the eyes' midpoint: above (hair), below (chin, shoulders), on each side. */
const ABOVE = 1.6;
const BELOW = 2.2;
const BESIDE = 1.6;
/** Tile side, in eye distances. */
const TILE_EYES = 0.8;
/** Smoothing at the small picture's scale (pixels). */
const SMOOTH_PX = 1;
/** Largest shift tried around the landmarks' alignment (small picture's pixels). */
const SHIFT_PX = 2;

/** Pearson correlation of a and b over `idx` (all points when undefined), skipping NaN in b; 0 when flat. */
function correlation(a: Float64Array, b: Float64Array, idx: number[] | undefined): number {
  let n = 0;
  let sa = 0;
  let sb = 0;
  let saa = 0;
  let sbb = 0;
  let sab = 0;
  const count = idx ? idx.length : a.length;
  for (let j = 0; j < count; j++) {
    const i = idx ? idx[j]! : j;
    const y = b[i]!;
    if (Number.isNaN(y)) continue;
    const x = a[i]!;
    n++;
    sa += x;
    sb += y;
    saa += x * x;
    sbb += y * y;
    sab += x * y;
  }
  if (n < 2) return 0;
  const va = saa - (sa * sa) / n;
  const vb = sbb - (sb * sb) / n;
  return va > 1e-6 && vb > 1e-6 ? (sab - (sa * sb) / n) / Math.sqrt(va * vb) : 0;
}

function bilinear(g: Float32Array, w: number, h: number, x: number, y: number): number {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const x1 = Math.min(w - 1, x0 + 1);
  const y1 = Math.min(h - 1, y0 + 1);
  const ax = x - x0;
  const ay = y - y0;
  const r0 = y0 * w;
  const r1 = y1 * w;
  return (
    (g[r0 + x0]! * (1 - ax) + g[r0 + x1]! * ax) * (1 - ay) + (g[r1 + x0]! * (1 - ax) + g[r1 + x1]! * ax) * ay
  );
}
