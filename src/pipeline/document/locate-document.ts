import { sampleBilinear, type RgbImage } from '../image/rgb-image.ts';
import { applyHomography, homographyFromQuad } from './rectify-document.ts';
import { gaussianBlur } from '../image/gaussian-blur.ts';

export interface Point {
  x: number;
  y: number;
}

export interface DocumentQuad {
  /** TL, TR, BR, BL as they appear in the image (clockwise), continuous input-image coordinates. */
  corners: [Point, Point, Point, Point];
  /** 0..1: fraction of the outline backed by image edges of the matching orientation. */
  score: number;
}

// Edge and line search happen on a copy of about this many pixels on the long side: enough to put a
// card seen from arm's length at 100+ px, small enough for the Hough transform to stay cheap.
const WORK_SIZE = 512;
const HOUGH_THETA_BINS = 360; // 0.5°
// A pixel votes only for lines within this many bins of its own gradient direction.
const VOTE_SPREAD = 8;
const MAX_LINES = 96;
const ORIENTATION_BUCKETS = 12;
const MAX_LINES_PER_BUCKET = 16;
/**
 * Lines kept within one degree of each other: a striped background (the planks of a wooden table, ruled
 * paper, blinds) yields dozens of strong, exactly parallel lines that would fill the bucket of a card's
 * edges tilted a few degrees from them (a generated card on planks was outlined by two planks and read a
 * line off). 10 keeps every DLC-2021 frame's outcome through the pipeline; 6 lost two of them.
 */
const MAX_LINES_PER_DEGREE = 10;
// Hand-held photos often show the card at 5–10 % of the frame area; smaller finds are unreliable.
const MIN_AREA_FRACTION = 0.03;
// Known document aspect ratios: ID-1 card, ID-2 / TD3 passport page (also an open booklet's two pages).
const ASPECTS = [85.6 / 53.98, 1.42];
const MIN_SCORE = 0.35;
/** Outlines whose corners are within this share of the frame of a better one's are the same outline. */
const NEAR_DUPLICATE = 0.02;
/** Distinct outlines given the interior check. */
const SCORED_CANDIDATES = 40;
// Sobel magnitude (on 0..255 grey, blurred) above which a gradient maximum is print rather than noise.
const DETAIL_THRESHOLD = 10;
/** Weight of the colour-difference gradients against the luma's. */
const CHROMA_GAIN = 2;
const FILL_MIN_DENSITY = 0.02;
const FILL_RELATIVE = 0.3;

interface Line {
  /** Unit normal angle in [0, π) and offset: x·cosθ + y·sinθ = rho (work-image continuous coords). */
  theta: number;
  rho: number;
  cos: number;
  sin: number;
  /** Prefix counts of supporting edge pixels along t = (−sinθ, cosθ)·p + dMax, per gradient polarity. */
  pos: Int32Array;
  neg: Int32Array;
}

interface Candidate {
  corners: Point[];
  /** Mean per-side edge support, 0..1 (reported as the quad's score). */
  edge: number;
  /** Geometry-and-edges ranking before the (costlier) interior check. */
  rank: number;
}

/**
 * Area-average downscale to sw×sh, converting to BT.601 luma and colour differences on the way (no
 * full-size copy: at 1600 px that allocation alone costs more than the edge detection).
 */
function downscaleYcc(img: RgbImage, sw: number, sh: number): [Float32Array, Float32Array, Float32Array] {
  const { width: w, height: h, data } = img;
  const luma = new Float32Array(sw * sh);
  const cb = new Float32Array(sw * sh);
  const cr = new Float32Array(sw * sh);
  const xs = new Int32Array(sw + 1);
  for (let i = 0; i <= sw; i++) xs[i] = Math.min(w, Math.round((i * w) / sw));
  for (let oy = 0; oy < sh; oy++) {
    const y0 = Math.round((oy * h) / sh);
    const y1 = Math.max(y0 + 1, Math.min(h, Math.round(((oy + 1) * h) / sh)));
    for (let ox = 0; ox < sw; ox++) {
      const x0 = xs[ox]!;
      const x1 = Math.max(x0 + 1, xs[ox + 1]!);
      let r = 0;
      let g = 0;
      let b = 0;
      for (let y = y0; y < y1; y++) {
        for (let j = (y * w + x0) * 3, end = (y * w + x1) * 3; j < end; j += 3) {
          r += data[j]!;
          g += data[j + 1]!;
          b += data[j + 2]!;
        }
      }
      const n = (x1 - x0) * (y1 - y0);
      const o = oy * sw + ox;
      // BT.601 luma and colour differences.
      luma[o] = (0.299 * r + 0.587 * g + 0.114 * b) / n;
      cb[o] = (-0.1687 * r - 0.3313 * g + 0.5 * b) / n;
      cr[o] = (0.5 * r - 0.4187 * g - 0.0813 * b) / n;
    }
  }
  return [luma, cb, cr];
}

/** q-quantile of non-negative values, from a unit-width histogram (exact enough for thresholds). */
function percentile(values: Float32Array, q: number): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!;
  const hist = new Int32Array(Math.ceil(max) + 2);
  for (let i = 0; i < values.length; i++) hist[Math.floor(values[i]!)]!++;
  const target = q * values.length;
  let acc = 0;
  for (let b = 0; b < hist.length; b++) {
    acc += hist[b]!;
    if (acc > target) return b;
  }
  return max;
}

interface EdgeMap {
  edge: Uint8Array;
  /** Any local gradient maximum above the noise floor, hysteresis or not: faint print counts too. */
  detail: Uint8Array;
  gx: Float32Array;
  gy: Float32Array;
}

/**
 * Canny: Sobel, non-maximum suppression, hysteresis with thresholds from the image's own statistics. The
 * gradient is the strongest of the luma's and the (amplified) colour differences': a white card on a
 * white table differs from it mostly by its tint.
 */
function detectEdges(channels: readonly Float32Array[], w: number, h: number): EdgeMap {
  const gx = new Float32Array(w * h);
  const gy = new Float32Array(w * h);
  const mag = new Float32Array(w * h);
  channels.forEach((img, ch) => {
    const gain = ch === 0 ? 1 : CHROMA_GAIN;
    for (let y = 1; y < h - 1; y++) {
      for (let x = 1; x < w - 1; x++) {
        const i = y * w + x;
        const a = img[i - w - 1]!,
          b = img[i - w]!,
          c = img[i - w + 1]!;
        const d = img[i - 1]!,
          f = img[i + 1]!;
        const g = img[i + w - 1]!,
          hh = img[i + w]!,
          k = img[i + w + 1]!;
        const sx = gain * (c + 2 * f + k - a - 2 * d - g);
        const sy = gain * (g + 2 * hh + k - a - 2 * b - c);
        const m = Math.sqrt(sx * sx + sy * sy);
        if (m <= mag[i]!) continue;
        gx[i] = sx;
        gy[i] = sy;
        mag[i] = m;
      }
    }
  });
  const nms = new Float32Array(w * h);
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const m = mag[i]!;
      if (m === 0) continue;
      const ax = Math.abs(gx[i]!);
      const ay = Math.abs(gy[i]!);
      let o: number;
      if (ay <= ax * 0.4142) o = 1;
      else if (ax <= ay * 0.4142) o = w;
      else o = gx[i]! * gy[i]! > 0 ? w + 1 : w - 1;
      if (m >= mag[i - o]! && m > mag[i + o]!) nms[i] = m;
    }
  }
  // Thresholds follow the frame's own gradient statistics (the top 30 % seed edges, hysteresis extends
  // them), so a faint printed outline on a busy background still comes through; the floors keep
  // sensor noise on a blank frame from becoming edges.
  const high = Math.max(24, percentile(mag, 0.7));
  const low = Math.max(10, 0.3 * high);
  const edge = new Uint8Array(w * h);
  const stack: number[] = [];
  for (let i = 0; i < w * h; i++) {
    if (nms[i]! < high || edge[i]) continue;
    edge[i] = 1;
    stack.push(i);
    while (stack.length) {
      const j = stack.pop()!;
      const jx = j % w;
      const jy = (j - jx) / w;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = jx + dx;
          const ny = jy + dy;
          if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
          const n = ny * w + nx;
          if (!edge[n] && nms[n]! >= low) {
            edge[n] = 1;
            stack.push(n);
          }
        }
      }
    }
  }
  const detail = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) detail[i] = nms[i]! >= DETAIL_THRESHOLD ? 1 : 0;
  return { edge, detail, gx, gy };
}

/** Hough transform restricted to each edge pixel's own gradient direction; returns distinct strong lines. */
function houghLines(em: EdgeMap, w: number, h: number): Line[] {
  const dMax = Math.ceil(Math.hypot(w, h));
  const nR = 2 * dMax + 1;
  const nT = HOUGH_THETA_BINS;
  const cosT = new Float64Array(nT);
  const sinT = new Float64Array(nT);
  for (let t = 0; t < nT; t++) {
    cosT[t] = Math.cos((t * Math.PI) / nT);
    sinT[t] = Math.sin((t * Math.PI) / nT);
  }
  const acc = new Int32Array(nT * nR);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (!em.edge[i]) continue;
      let a = Math.atan2(em.gy[i]!, em.gx[i]!);
      if (a < 0) a += Math.PI;
      const t0 = Math.round((a * nT) / Math.PI);
      const px = x + 0.5;
      const py = y + 0.5;
      for (let dt = -VOTE_SPREAD; dt <= VOTE_SPREAD; dt++) {
        // Directions wrap at π; the vote is still the point's own offset along that bin's normal.
        const t = (t0 + dt + nT) % nT;
        const r = Math.round(px * cosT[t]! + py * sinT[t]!) + dMax;
        acc[t * nR + r]!++;
      }
    }
  }
  const minVotes = Math.max(12, Math.round(0.06 * Math.min(w, h)));
  const peaks: { t: number; r: number; v: number }[] = [];
  for (let t = 0; t < nT; t++) {
    for (let r = 1; r < nR - 1; r++) {
      const v = acc[t * nR + r]!;
      if (v < minVotes) continue;
      let isMax = true;
      for (let dt = -2; dt <= 2 && isMax; dt++) {
        let tt = t + dt;
        let rr = r;
        if (tt < 0 || tt >= nT) {
          tt = (tt + nT) % nT;
          rr = nR - 1 - r;
        }
        for (let dr = -2; dr <= 2; dr++) {
          if (dt === 0 && dr === 0) continue;
          const q = rr + dr;
          if (q < 0 || q >= nR) continue;
          const u = acc[tt * nR + q]!;
          if (u > v || (u === v && (dt < 0 || (dt === 0 && dr < 0)))) {
            isMax = false;
            break;
          }
        }
      }
      if (isMax) peaks.push({ t, r, v });
    }
  }
  peaks.sort((a, b) => b.v - a.v);
  // Print (newspaper columns, text on the card) yields many strong parallel lines; capping each
  // orientation keeps the document's other two sides in the list.
  const perBucket = new Int32Array(ORIENTATION_BUCKETS);
  const perDegree = new Int32Array(180);
  const lines: Line[] = [];
  for (const p of peaks) {
    const bucket = Math.floor((p.t * ORIENTATION_BUCKETS) / nT);
    if (perBucket[bucket]! >= MAX_LINES_PER_BUCKET) continue;
    const degree = Math.floor((p.t * 180) / nT);
    if (perDegree[degree]! >= MAX_LINES_PER_DEGREE) continue;
    const theta = (p.t * Math.PI) / nT;
    const rho = p.r - dMax;
    // A line too close to one already taken is the same edge seen twice (blur, double contour).
    const dup = lines.some((l) => {
      let dt = Math.abs(l.theta - theta);
      let dr = Math.abs(l.rho - rho);
      if (dt > Math.PI / 2) {
        dt = Math.PI - dt;
        dr = Math.abs(l.rho + rho);
      }
      return dt < (2 * Math.PI) / 180 && dr < 4;
    });
    if (dup) continue;
    perBucket[bucket]!++;
    perDegree[degree]!++;
    lines.push(lineProfile(em, w, h, theta, rho, dMax));
    if (lines.length >= MAX_LINES) break;
  }
  return lines;
}

/**
 * Walk the line through the work image and record, per unit step, whether an edge pixel whose
 * gradient is (anti)parallel to the line normal lies within a pixel of it, split by polarity.
 */
function lineProfile(em: EdgeMap, w: number, h: number, theta: number, rho: number, dMax: number): Line {
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const n = 2 * dMax + 1;
  const pos = new Int32Array(n + 1);
  const neg = new Int32Array(n + 1);
  const cosTol = Math.cos((12 * Math.PI) / 180);
  for (let k = 0; k < n; k++) {
    const t = k - dMax;
    const x0 = rho * cos - t * sin;
    const y0 = rho * sin + t * cos;
    let p = 0;
    let q = 0;
    if (x0 > -1 && y0 > -1 && x0 < w + 1 && y0 < h + 1) {
      for (let o = -1; o <= 1 && !p && !q; o++) {
        const xi = Math.floor(x0 + o * cos);
        const yi = Math.floor(y0 + o * sin);
        if (xi < 0 || yi < 0 || xi >= w || yi >= h) continue;
        const i = yi * w + xi;
        if (!em.edge[i]) continue;
        const gx = em.gx[i]!;
        const gy = em.gy[i]!;
        const dot = (gx * cos + gy * sin) / Math.sqrt(gx * gx + gy * gy);
        if (dot >= cosTol) p = 1;
        else if (dot <= -cosTol) q = 1;
      }
    }
    pos[k + 1] = pos[k]! + p;
    neg[k + 1] = neg[k]! + q;
  }
  return { theta, rho, cos, sin, pos, neg };
}

function intersect(a: Line, b: Line): Point | undefined {
  const det = a.cos * b.sin - a.sin * b.cos;
  if (Math.abs(det) < 1e-6) return undefined;
  return { x: (a.rho * b.sin - b.rho * a.sin) / det, y: (b.rho * a.cos - a.rho * b.cos) / det };
}

/**
 * Edge counts along the segment p→q of line l, split into "brighter inside" and "darker inside" given
 * which side of the line the quad's interior lies on.
 */
function segmentCounts(l: Line, p: Point, q: Point, inside: Point, dMax: number): [number, number] {
  const tp = -p.x * l.sin + p.y * l.cos;
  const tq = -q.x * l.sin + q.y * l.cos;
  const n = l.pos.length - 1;
  const a = Math.max(0, Math.min(n, Math.round(Math.min(tp, tq) + dMax)));
  const b = Math.max(0, Math.min(n, Math.round(Math.max(tp, tq) + dMax)));
  const pos = l.pos[b]! - l.pos[a]!;
  const neg = l.neg[b]! - l.neg[a]!;
  // Gradients point from dark to bright: "pos" edges are brighter on the +normal side.
  return inside.x * l.cos + inside.y * l.sin > l.rho ? [pos, neg] : [neg, pos];
}

/** Acute angle between two line normals, 0..π/2. */
function angleBetween(a: number, b: number): number {
  const d = Math.abs(a - b) % Math.PI;
  return Math.min(d, Math.PI - d);
}

const dist = (a: Point, b: Point): number => Math.hypot(a.x - b.x, a.y - b.y);

function isConvex(c: Point[]): boolean {
  let sign = 0;
  for (let i = 0; i < 4; i++) {
    const a = c[i]!;
    const b = c[(i + 1) % 4]!;
    const d = c[(i + 2) % 4]!;
    const cross = (b.x - a.x) * (d.y - b.y) - (b.y - a.y) * (d.x - b.x);
    if (cross === 0) return false;
    if (sign === 0) sign = Math.sign(cross);
    else if (Math.sign(cross) !== sign) return false;
  }
  return true;
}

/** Soft prior on the side ratio (opposite sides averaged, which absorbs moderate perspective). */
function aspectPrior(c: Point[]): number {
  const a = (dist(c[0]!, c[1]!) + dist(c[2]!, c[3]!)) / 2;
  const b = (dist(c[1]!, c[2]!) + dist(c[3]!, c[0]!)) / 2;
  const r = Math.max(a, b) / Math.max(1e-6, Math.min(a, b));
  let best = 0;
  for (const t of ASPECTS) best = Math.max(best, Math.exp(-0.5 * (Math.log(r / t) / 0.2) ** 2));
  return best;
}

/**
 * Fraction of the quad's interior cells that carry texture. A document is print all over; a blank
 * sheet of paper or a table top framed by strong edges is not, which keeps the sheet a copy was printed
 * on from beating the copy itself.
 */
function interiorFill(c: Point[], integral: Int32Array, w: number, h: number): number {
  const hm = homographyFromQuad(
    [
      { x: 0, y: 0 },
      { x: 1, y: 0 },
      { x: 1, y: 1 },
      { x: 0, y: 1 },
    ],
    c,
  );
  const nx = 6;
  const ny = 4;
  const stride = w + 1;
  const density: number[] = [];
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const u0 = 0.06 + (0.88 * i) / nx;
      const v0 = 0.06 + (0.88 * j) / ny;
      const pts = [
        applyHomography(hm, u0, v0),
        applyHomography(hm, u0 + 0.88 / nx, v0),
        applyHomography(hm, u0, v0 + 0.88 / ny),
        applyHomography(hm, u0 + 0.88 / nx, v0 + 0.88 / ny),
      ];
      const xs = pts.map((p) => p.x);
      const ys = pts.map((p) => p.y);
      const cx = (Math.min(...xs) + Math.max(...xs)) / 2;
      const cy = (Math.min(...ys) + Math.max(...ys)) / 2;
      const hx = (Math.max(...xs) - Math.min(...xs)) / 3;
      const hy = (Math.max(...ys) - Math.min(...ys)) / 3;
      const x0 = Math.max(0, Math.min(w, Math.floor(cx - hx)));
      const x1 = Math.max(0, Math.min(w, Math.ceil(cx + hx)));
      const y0 = Math.max(0, Math.min(h, Math.floor(cy - hy)));
      const y1 = Math.max(0, Math.min(h, Math.ceil(cy + hy)));
      const area = (x1 - x0) * (y1 - y0);
      if (area <= 0) {
        density.push(0);
        continue;
      }
      const s =
        integral[y1 * stride + x1]! -
        integral[y0 * stride + x1]! -
        integral[y1 * stride + x0]! +
        integral[y0 * stride + x0]!;
      density.push(s / area);
    }
  }
  // Relative to the quad's own average, so faint print on a busy photo still counts as print while
  // the blank part of a sheet holding a small card does not.
  const mean = density.reduce((a, b) => a + b, 0) / density.length;
  const floor = Math.max(FILL_MIN_DENSITY, FILL_RELATIVE * mean);
  return density.filter((d) => d >= floor).length / density.length;
}

function edgeIntegral(edge: Uint8Array, w: number, h: number): Int32Array {
  const stride = w + 1;
  const out = new Int32Array(stride * (h + 1));
  for (let y = 0; y < h; y++) {
    let row = 0;
    for (let x = 0; x < w; x++) {
      row += edge[y * w + x]!;
      out[(y + 1) * stride + x + 1] = out[y * stride + x + 1]! + row;
    }
  }
  return out;
}

/** Enumerate quads from two pairs of roughly parallel lines whose directions differ by ≥ 45°. */
function candidates(lines: Line[], w: number, h: number, dMax: number): Candidate[] {
  const n = lines.length;
  const minSep = 0.08 * Math.min(w, h);
  const margin = 0.03 * Math.max(w, h);
  const imgArea = w * h;
  // Pairwise intersections and their arc position along each of the two lines, computed once.
  const px = new Float64Array(n * n);
  const py = new Float64Array(n * n);
  const along = new Float64Array(n * n); // along[i*n+j]: position of i∩j on line i
  const ok = new Uint8Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = lines[i]!;
      const b = lines[j]!;
      const p = intersect(a, b);
      if (!p || p.x < -margin || p.y < -margin || p.x > w + margin || p.y > h + margin) continue;
      px[i * n + j] = px[j * n + i] = p.x;
      py[i * n + j] = py[j * n + i] = p.y;
      along[i * n + j] = -p.x * a.sin + p.y * a.cos;
      along[j * n + i] = -p.x * b.sin + p.y * b.cos;
      ok[i * n + j] = ok[j * n + i] = 1;
    }
  }
  const at = (i: number, j: number): Point => ({ x: px[i * n + j]!, y: py[i * n + j]! });
  // Quick single-side test before a quad is assembled: enough edges of either polarity.
  const sideOk = (l: number, c: number, d: number): boolean => {
    const line = lines[l]!;
    const tc = along[l * n + c]!;
    const td = along[l * n + d]!;
    const last = line.pos.length - 1;
    const lo = Math.max(0, Math.min(last, Math.round(Math.min(tc, td) + dMax)));
    const hi = Math.max(0, Math.min(last, Math.round(Math.max(tc, td) + dMax)));
    const count = Math.max(line.pos[hi]! - line.pos[lo]!, line.neg[hi]! - line.neg[lo]!);
    return count >= 0.3 * Math.abs(td - tc);
  };
  const cx = w / 2;
  const cy = h / 2;
  const pairs: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = lines[i]!;
      const b = lines[j]!;
      if (angleBetween(a.theta, b.theta) > (30 * Math.PI) / 180) continue;
      // Separation measured at the point of `a` nearest the image centre.
      const t = -cx * a.sin + cy * a.cos;
      const qx = a.rho * a.cos - t * a.sin;
      const qy = a.rho * a.sin + t * a.cos;
      if (Math.abs(qx * b.cos + qy * b.sin - b.rho) < minSep) continue;
      pairs.push([i, j]);
    }
  }
  // Line directions within a pair are similar, so the pair's mean normal stands for both.
  const np = pairs.length;
  const pa = new Int32Array(np);
  const pb = new Int32Array(np);
  const pairCos = new Float64Array(np);
  const pairSin = new Float64Array(np);
  for (let k = 0; k < np; k++) {
    const [i, j] = pairs[k]!;
    pa[k] = i;
    pb[k] = j;
    // Doubled angles make θ and θ+π agree, so the mean of the two unit vectors is the pair's direction.
    const x = Math.cos(2 * lines[i]!.theta) + Math.cos(2 * lines[j]!.theta);
    const y = Math.sin(2 * lines[i]!.theta) + Math.sin(2 * lines[j]!.theta);
    const r = Math.hypot(x, y) || 1;
    pairCos[k] = x / r;
    pairSin[k] = y / r;
  }
  const out: Candidate[] = [];
  for (let p = 0; p < np; p++) {
    const ia = pa[p]!;
    const ib = pb[p]!;
    const a = lines[ia]!;
    const b = lines[ib]!;
    const pc = pairCos[p]!;
    const ps = pairSin[p]!;
    for (let q = p + 1; q < np; q++) {
      // cos(2Δ) ≤ 0 ⇔ the two families differ by at least 45°.
      if (pc * pairCos[q]! + ps * pairSin[q]! > 0) continue;
      const ic = pa[q]!;
      const id = pb[q]!;
      if (ic === ia || ic === ib || id === ia || id === ib) continue;
      if (!ok[ia * n + ic] || !ok[ia * n + id] || !ok[ib * n + id] || !ok[ib * n + ic]) continue;
      if (!sideOk(ia, ic, id) || !sideOk(ib, ic, id) || !sideOk(ic, ia, ib) || !sideOk(id, ia, ib)) continue;
      const c = lines[ic]!;
      const d = lines[id]!;
      if (!sideOk(ia, ic, id) || !sideOk(ib, ic, id) || !sideOk(ic, ia, ib) || !sideOk(id, ia, ib)) continue;
      // Shoelace area straight from the tables: most quads fail here, before anything is allocated.
      const k1 = ia * n + ic;
      const k2 = ia * n + id;
      const k3 = ib * n + id;
      const k4 = ib * n + ic;
      const area =
        Math.abs((px[k1]! - px[k3]!) * (py[k2]! - py[k4]!) - (px[k2]! - px[k4]!) * (py[k1]! - py[k3]!)) / 2;
      if (area < MIN_AREA_FRACTION * imgArea) continue;
      const p1 = at(ia, ic);
      const p2 = at(ia, id);
      const p3 = at(ib, id);
      const p4 = at(ib, ic);
      const corners = [p1, p2, p3, p4];
      if (!isConvex(corners)) continue;
      const mid = { x: (p1.x + p2.x + p3.x + p4.x) / 4, y: (p1.y + p2.y + p3.y + p4.y) / 4 };
      const counts = [
        segmentCounts(a, p1, p2, mid, dMax),
        segmentCounts(d, p2, p3, mid, dMax),
        segmentCounts(b, p3, p4, mid, dMax),
        segmentCounts(c, p4, p1, mid, dMax),
      ];
      const lens = [dist(p1, p2), dist(p2, p3), dist(p3, p4), dist(p4, p1)];
      // A document is mostly lighter (or darker) than its surroundings all round; an outline whose sides
      // disagree is usually stitched together from shadows, stripes or print. Edges of the other
      // polarity count half: a card's coloured band can be darker than the table its white is lighter than.
      const bright = counts.reduce((s, k) => s + k[0], 0);
      const dark = counts.reduce((s, k) => s + k[1], 0);
      const pol = bright >= dark ? 0 : 1;
      const support = counts.map((k, i) =>
        Math.min(1, (k[pol]! + 0.5 * k[1 - pol]!) / Math.max(1, lens[i]!)),
      );
      if (Math.min(...support) < 0.3) continue;
      const edge = support.reduce((s, v) => s + v, 0) / 4;
      // The weakest side counts extra: a quad closed by one stray line (a text row, a photo frame) is
      // the usual wrong answer, whereas a real outline is backed all round.
      const rank =
        edge *
        edge *
        Math.min(...support) *
        (0.1 + 0.9 * aspectPrior(corners)) *
        Math.pow(area / imgArea, 0.15);
      out.push({ corners, edge, rank });
    }
  }
  return out;
}

/**
 * Locate the document: returns its outline in input-image pixels, or undefined when no plausible
 * quadrilateral stands out (no document, or one that already fills the frame) — then callers use the
 * whole image.
 */
export function locateDocument(img: RgbImage): DocumentQuad | undefined {
  return locateDocumentOutlines(img, 1)[0]?.refine();
}

export interface DocumentOutline extends DocumentQuad {
  /** The outline fitted to the full-resolution edges (the corners above come from the working copy). */
  refine(): DocumentQuad;
}

/**
 * The photo's distinct document-like outlines, best first (at most `max`, each backed by edges well
 * enough to be the document). The best is not always the document: a card's printed portrait frame
 * outlines better than its own rounded, low-contrast or partly covered edges, so a caller that can tell
 * (by where the photo's text lies) looks further down the list.
 */
export function locateDocumentOutlines(img: RgbImage, max: number): DocumentOutline[] {
  const { width: W, height: H } = img;
  const s = Math.min(1, WORK_SIZE / Math.max(W, H));
  const w = Math.max(8, Math.round(W * s));
  const h = Math.max(8, Math.round(H * s));
  const em = detectEdges(
    downscaleYcc(img, w, h).map((c) => gaussianBlur(c, w, h, 1.2)),
    w,
    h,
  );
  const lines = houghLines(em, w, h);
  const dMax = Math.ceil(Math.hypot(w, h));
  const cands = candidates(lines, w, h, dMax);
  cands.sort((a, b) => b.rank - a.rank);
  const integral = edgeIntegral(em.detail, w, h);
  // The same outline is found many times over from near-parallel lines (a double contour, blur): only
  // the best of each is kept, so that the few distinct outlines of the photo all reach the interior check.
  const near = NEAR_DUPLICATE * Math.max(w, h);
  const distinct: Candidate[] = [];
  for (const c of cands) {
    if (distinct.some((d) => quadDistance(d.corners, c.corners) < near)) continue;
    distinct.push(c);
    if (distinct.length >= SCORED_CANDIDATES) break;
  }
  const scored = distinct
    .map((c) => ({ c, score: c.rank * (0.1 + 0.9 * interiorFill(c.corners, integral, w, h)) }))
    .sort((a, b) => b.score - a.score);
  const sx = W / w;
  const sy = H / h;
  return scored
    .filter(({ c }) => c.edge >= MIN_SCORE)
    .slice(0, max)
    .map(({ c }) => {
      const coarse = c.corners.map((p) => ({ x: p.x * sx, y: p.y * sy }));
      const score = Math.min(1, c.edge);
      return {
        corners: clockwiseFromTopLeft(coarse),
        score,
        refine: () => ({
          corners: clockwiseFromTopLeft(refineCorners(img, coarse, Math.max(3, 2.5 * Math.max(sx, sy)))),
          score,
        }),
      };
    });
}

/** Mean corner distance under the best matching of corners (either direction, any starting corner). */
function quadDistance(a: readonly Point[], b: readonly Point[]): number {
  let best = Infinity;
  for (const dir of [1, -1])
    for (let shift = 0; shift < 4; shift++) {
      let s = 0;
      for (let i = 0; i < 4; i++) s += dist(a[i]!, b[(((shift + dir * i) % 4) + 4) % 4]!);
      best = Math.min(best, s / 4);
    }
  return best;
}

/** Bilinear luma sample in continuous coordinates (pixel centres at i + 0.5), clamped at the border. */
function sampleLuma(img: RgbImage, x: number, y: number): number {
  // Bilinear interpolation is linear: the luma of the interpolated channels is the interpolated luma.
  return (
    0.299 * sampleBilinear(img, x - 0.5, y - 0.5, 0) +
    0.587 * sampleBilinear(img, x - 0.5, y - 0.5, 1) +
    0.114 * sampleBilinear(img, x - 0.5, y - 0.5, 2)
  );
}

interface FitLine {
  /** Unit normal and offset: nx·x + ny·y = c. */
  nx: number;
  ny: number;
  c: number;
}

/**
 * Re-fit each side at full resolution: sample across the coarse side for the strongest step of one
 * polarity, then a trimmed total-least-squares line through those points. Corners are the
 * intersections of neighbouring sides; a side that cannot be re-fitted keeps its coarse position.
 */
function refineCorners(img: RgbImage, c: Point[], reach: number): Point[] {
  const fits: FitLine[] = [];
  for (let s = 0; s < 4; s++) {
    const a = c[s]!;
    const b = c[(s + 1) % 4]!;
    const len = dist(a, b);
    const dx = (b.x - a.x) / len;
    const dy = (b.y - a.y) / len;
    const nx = -dy;
    const ny = dx;
    const coarse: FitLine = { nx, ny, c: nx * a.x + ny * a.y };
    const samples = Math.max(16, Math.min(80, Math.round(len / 4)));
    const step = 0.5;
    const nk = Math.round((2 * reach) / step) + 1;
    const found: { pts: Point[]; strength: number }[] = [
      { pts: [], strength: 0 },
      { pts: [], strength: 0 },
    ];
    const prof = new Float64Array(nk);
    for (let i = 0; i < samples; i++) {
      const f = 0.1 + (0.8 * i) / (samples - 1);
      const px = a.x + (b.x - a.x) * f;
      const py = a.y + (b.y - a.y) * f;
      for (let k = 0; k < nk; k++) {
        const o = -reach + k * step;
        let d = 0;
        for (let tt = -1.5; tt <= 1.5; tt += 1.5) {
          const qx = px + o * nx + tt * dx;
          const qy = py + o * ny + tt * dy;
          d += sampleLuma(img, qx + nx * 1.5, qy + ny * 1.5) - sampleLuma(img, qx - nx * 1.5, qy - ny * 1.5);
        }
        prof[k] = d / 3;
      }
      for (let pol = 0; pol < 2; pol++) {
        const sgn = pol === 0 ? 1 : -1;
        let bk = 0;
        for (let k = 1; k < nk; k++) if (sgn * prof[k]! > sgn * prof[bk]!) bk = k;
        const peak = sgn * prof[bk]!;
        if (peak < 6 || bk === 0 || bk === nk - 1) continue;
        // Parabolic sub-sample peak.
        const l = sgn * prof[bk - 1]!;
        const r = sgn * prof[bk + 1]!;
        const den = l - 2 * peak + r;
        const sub = den < 0 ? (0.5 * (l - r)) / den : 0;
        const o = -reach + (bk + sub) * step;
        found[pol]!.pts.push({ x: px + o * nx, y: py + o * ny });
        found[pol]!.strength += peak;
      }
    }
    const pick = found[0]!.strength >= found[1]!.strength ? found[0]! : found[1]!;
    const fit = pick.pts.length >= 0.4 * samples ? fitLine(pick.pts) : undefined;
    fits.push(fit ?? coarse);
  }
  const out: Point[] = [];
  for (let s = 0; s < 4; s++) {
    const l1 = fits[(s + 3) % 4]!;
    const l2 = fits[s]!;
    const det = l1.nx * l2.ny - l1.ny * l2.nx;
    const p =
      Math.abs(det) < 1e-9
        ? undefined
        : { x: (l1.c * l2.ny - l2.c * l1.ny) / det, y: (l2.c * l1.nx - l1.c * l2.nx) / det };
    // A corner that wandered far from the coarse one means a side locked onto something else.
    out.push(p && dist(p, c[s]!) < 3 * reach ? p : c[s]!);
  }
  return out;
}

/** Total least squares with two rounds of dropping the worst-fitting points. */
function fitLine(pts: Point[]): FitLine | undefined {
  let cur = pts;
  let line: FitLine | undefined;
  for (let round = 0; round < 3; round++) {
    if (cur.length < 5) return line;
    let mx = 0;
    let my = 0;
    for (const p of cur) {
      mx += p.x;
      my += p.y;
    }
    mx /= cur.length;
    my /= cur.length;
    let sxx = 0;
    let sxy = 0;
    let syy = 0;
    for (const p of cur) {
      const ex = p.x - mx;
      const ey = p.y - my;
      sxx += ex * ex;
      sxy += ex * ey;
      syy += ey * ey;
    }
    // Direction of largest spread; the normal is perpendicular to it.
    const ang = 0.5 * Math.atan2(2 * sxy, sxx - syy);
    const nx = -Math.sin(ang);
    const ny = Math.cos(ang);
    line = { nx, ny, c: nx * mx + ny * my };
    const l = line;
    const res = cur.map((p) => Math.abs(p.x * l.nx + p.y * l.ny - l.c));
    const sorted = [...res].sort((a, b) => a - b);
    const cut = Math.max(1, 2.5 * sorted[Math.floor(sorted.length / 2)]!);
    cur = cur.filter((_, i) => res[i]! <= cut);
  }
  return line;
}

/**
 * Order corners clockwise on screen (y down) and start at the one whose outgoing side points most
 * nearly rightwards: that side is the top edge, so the start is the top-left corner.
 */
function clockwiseFromTopLeft(c: Point[]): [Point, Point, Point, Point] {
  const mx = c.reduce((s, p) => s + p.x, 0) / 4;
  const my = c.reduce((s, p) => s + p.y, 0) / 4;
  const sorted = [...c].sort((a, b) => Math.atan2(a.y - my, a.x - mx) - Math.atan2(b.y - my, b.x - mx));
  let start = 0;
  let bestCos = -2;
  for (let i = 0; i < 4; i++) {
    const a = sorted[i]!;
    const b = sorted[(i + 1) % 4]!;
    const cos = (b.x - a.x) / Math.max(1e-9, dist(a, b));
    if (cos > bestCos) {
      bestCos = cos;
      start = i;
    }
  }
  return [0, 1, 2, 3].map((k) => sorted[(start + k) % 4]!) as [Point, Point, Point, Point];
}
