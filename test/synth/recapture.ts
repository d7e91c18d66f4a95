/**
 * Presentation attacks on a document, made from its flat rendering before it is "photographed":
 *
 * - `printCopy`: the card printed on office paper (colour or greyscale, laser or inkjet texture), either
 *   cut out along its outline (square corners, a white paper rim) or left on a white sheet;
 * - `screenReplay`: the card shown on a phone, tablet or monitor (the display's pixel grid, its white
 *   point and black level, a bezel around the picture and a reflection on the glass).
 *
 * Each returns a flat RGB PNG that `photograph()` then places in a scene like a genuine card. Parameters
 * come in two families (`variant`): `tune` for anything a threshold may be chosen on, `heldout` for the
 * split no tuning may touch (other halftone screens, other display geometries and tints).
 */
import sharp from 'sharp';
import type { Rng } from './identities.ts';

export type AttackVariant = 'tune' | 'heldout';

interface Raw {
  data: Buffer;
  width: number;
  height: number;
}

async function raw(png: Buffer): Promise<Raw> {
  const { data, info } = await sharp(png).removeAlpha().toColourspace('srgb').raw().toBuffer({
    resolveWithObject: true,
  });
  return { data, width: info.width, height: info.height };
}

const clamp = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

function toPng(img: Raw): Promise<Buffer> {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .png({ compressionLevel: 3 })
    .toBuffer();
}

/**
 * The card as an office printer puts it on paper: the gamut shrinks (saturation, black ink never black,
 * the paper's white for white), ink spreads (blur), and the tone is rendered by a screen of dots
 * (laser: clustered dots on a rotated grid) or scattered droplets (inkjet: blue-noise-like dither).
 */
export async function printCopy(
  card: Buffer,
  rng: Rng,
  variant: AttackVariant,
): Promise<{ image: Buffer; layout: 'cut' | 'sheet'; greyscale: boolean }> {
  const src = await raw(card);
  const greyscale = rng.chance(0.5);
  const saturation = greyscale ? 0 : rng.float(0.45, 0.85);
  const paper: [number, number, number] = [rng.float(236, 250), rng.float(236, 248), rng.float(226, 244)];
  const black = rng.float(25, 60);
  const laser = variant === 'tune' ? rng.chance(0.7) : rng.chance(0.3);
  // Laser screens: 100-150 lines per inch on a 300 dpi rendering is a 2-3 px period.
  const period = variant === 'tune' ? rng.float(2.2, 3.2) : rng.float(3.2, 4.5);
  const angle = ((variant === 'tune' ? rng.pick([15, 45, 75]) : rng.pick([0, 30, 60])) * Math.PI) / 180;
  const [ca, sa] = [Math.cos(angle), Math.sin(angle)];
  const dotGain = rng.float(0.35, 0.7);
  const out = Buffer.alloc(src.data.length);
  for (let y = 0, p = 0; y < src.height; y++) {
    for (let x = 0; x < src.width; x++, p += 3) {
      const r = src.data[p]!;
      const g = src.data[p + 1]!;
      const b = src.data[p + 2]!;
      const l = 0.299 * r + 0.587 * g + 0.114 * b;
      // Coverage of ink at this pixel from the tone, then the screen's threshold pattern.
      const u = (x * ca + y * sa) / period;
      const v = (-x * sa + y * ca) / period;
      const screen = laser
        ? 0.5 + 0.25 * (Math.cos(2 * Math.PI * u) + Math.cos(2 * Math.PI * v))
        : (((x * 0.754877666 + y * 0.569840291) % 1) + rng.next()) / 2;
      const ink = 1 - l / 255;
      // A dot prints where the ink coverage beats the screen.
      const cover = ink > screen ? 1 : 0;
      for (let k = 0; k < 3; k++) {
        const c = src.data[p + k]!;
        const chroma = l + (c - l) * saturation;
        // The continuous tone in the printer's gamut (ink never black, white is the paper's), modulated
        // by the screen: the area mean stays the tone, the texture is the dots.
        const tone = black + (chroma / 255) * (paper[k]! - black);
        out[p + k] = clamp(tone + (1 - dotGain) * (cover - ink) * (black - paper[k]!) * 0.8);
      }
    }
  }
  const spread = rng.float(0.5, 1.1);
  let printed = await sharp(out, { raw: { width: src.width, height: src.height, channels: 3 } })
    .blur(spread)
    .raw()
    .toBuffer();
  // Paper fibres: a faint low-contrast texture.
  const fibre = await sharp(
    Buffer.from(
      Array.from({ length: Math.ceil(src.width / 3) * Math.ceil(src.height / 3) }, () => rng.int(0, 255)),
    ),
    { raw: { width: Math.ceil(src.width / 3), height: Math.ceil(src.height / 3), channels: 1 } },
  )
    .resize(src.width, src.height, { fit: 'fill', kernel: 'cubic' })
    .raw()
    .toBuffer();
  for (let i = 0; i < src.width * src.height; i++) {
    const d = (fibre[i]! - 128) * 0.03;
    for (let k = 0; k < 3; k++) printed[i * 3 + k] = clamp(printed[i * 3 + k]! + d);
  }
  const layout = rng.chance(0.5) ? 'cut' : 'sheet';
  const margin = layout === 'cut' ? rng.float(0.0, 0.04) : 0;
  let img: Raw = { data: printed, width: src.width, height: src.height };
  if (layout === 'cut') {
    // Cut with scissors: square corners, a thin uneven paper rim around the printed card.
    const mx = Math.round(margin * src.width);
    img = await extend(img, mx, mx, mx, mx, paper);
  } else {
    // On a sheet (A4, 210 mm wide against the card's 85.6): the card somewhere in its upper half.
    const sheetW = Math.round((src.width * 210) / 85.6);
    const sheetH = Math.round((sheetW * 297) / 210);
    const left = rng.int(Math.round(sheetW * 0.08), sheetW - src.width - Math.round(sheetW * 0.08));
    const top = rng.int(Math.round(sheetH * 0.06), Math.round(sheetH * 0.45));
    img = await extend(img, top, sheetH - src.height - top, left, sheetW - src.width - left, paper);
    // The whole sheet is shown smaller: keep it at a size a phone photo would resolve.
    const scale = 1800 / Math.max(sheetW, sheetH);
    printed = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
      .resize(Math.round(img.width * scale), Math.round(img.height * scale), { kernel: 'lanczos3' })
      .raw()
      .toBuffer();
    img = { data: printed, width: Math.round(img.width * scale), height: Math.round(img.height * scale) };
  }
  return { image: await toPng(img), layout, greyscale };
}

async function extend(
  img: Raw,
  top: number,
  bottom: number,
  left: number,
  right: number,
  colour: readonly number[],
): Promise<Raw> {
  const { data, info } = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .extend({
      top,
      bottom,
      left,
      right,
      background: { r: clamp(colour[0]!), g: clamp(colour[1]!), b: clamp(colour[2]!) },
    })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/**
 * The card shown on a display: each display pixel is three vertical stripes (red, green, blue) with a
 * dark gap between pixels, rendered at several output pixels per display pixel so the photograph's
 * resampling makes moiré; the display's tone curve (raised black, bluish or warm white), a bezel around
 * the lit area (phone, tablet or monitor) and a soft reflection on the glass.
 */
export async function screenReplay(
  card: Buffer,
  rng: Rng,
  variant: AttackVariant,
): Promise<{ image: Buffer; device: 'phone' | 'tablet' | 'monitor' }> {
  const device = rng.pick(['phone', 'tablet', 'monitor'] as const);
  const meta = await sharp(card).metadata();
  const cw = meta.width ?? 1011;
  const ch = meta.height ?? 638;
  // Display pixels across the card's width: phones show it small (the whole screen ~1080 px wide).
  const across =
    device === 'phone' ? rng.int(380, 900) : device === 'tablet' ? rng.int(500, 1000) : rng.int(300, 700);
  // Output pixels per display pixel: the subpixel stripes need three.
  const k = variant === 'tune' ? 3 : rng.pick([4, 5]);
  const dispW = across;
  const dispH = Math.round((across * ch) / cw);
  // Lit area around the card (app chrome, letterboxing), in display pixels.
  const padX = Math.round(dispW * rng.float(0.02, 0.15));
  const padY = Math.round(dispH * rng.float(0.05, device === 'phone' ? 0.8 : 0.3));
  const lit = await sharp(card)
    .resize(dispW, dispH, { fit: 'fill', kernel: 'lanczos3' })
    .extend({
      top: padY,
      bottom: padY,
      left: padX,
      right: padX,
      background: rng.chance(0.6) ? { r: 0, g: 0, b: 0 } : { r: 245, g: 245, b: 245 },
    })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const W = lit.info.width;
  const H = lit.info.height;
  const tint =
    variant === 'tune'
      ? [rng.float(0.9, 0.97), rng.float(0.95, 1), 1]
      : [1, rng.float(0.95, 1), rng.float(0.86, 0.95)];
  const blackLevel = rng.float(6, 22);
  const gamma = rng.float(0.85, 1.15);
  const gap = rng.float(0.15, 0.35); // dark share of each pixel's height (the grid between rows)
  const ow = W * k;
  const oh = H * k;
  const out = Buffer.alloc(ow * oh * 3);
  // Bright stripe for one channel, dim for the others (subpixel mask), rows separated by the gap.
  for (let y = 0; y < oh; y++) {
    const sy = Math.floor(y / k);
    const rowDark = (y % k) / k >= 1 - gap ? 0.35 : 1;
    for (let x = 0; x < ow; x++) {
      const sx = Math.floor(x / k);
      const sub = Math.min(2, Math.floor(((x % k) / k) * 3));
      const p = (sy * W + sx) * 3;
      const o = (y * ow + x) * 3;
      for (let c = 0; c < 3; c++) {
        const v = 255 * Math.pow(lit.data[p + c]! / 255, gamma) * tint[c]!;
        const mask = (c === sub ? 1 : 0.18) * rowDark;
        out[o + c] = clamp(blackLevel + v * mask * 1.9);
      }
    }
  }
  // Bezel: a dark frame with rounded feel (phone/tablet thick, monitor thin), then a reflection.
  const bezel = Math.round(
    Math.min(ow, oh) * (device === 'monitor' ? rng.float(0.015, 0.03) : rng.float(0.03, 0.07)),
  );
  const colour = rng.pick([
    [12, 12, 14],
    [30, 30, 34],
    [210, 210, 214],
  ]);
  const framed = await extend({ data: out, width: ow, height: oh }, bezel, bezel, bezel, bezel, colour);
  const fw = framed.width;
  const fh = framed.height;
  const gx = rng.float(0.2, 0.8) * fw;
  const gy = rng.float(0.2, 0.8) * fh;
  const gs = rng.float(0.15, 0.35) * Math.max(fw, fh);
  const strength = rng.float(0.05, 0.3);
  for (let y = 0; y < fh; y++) {
    for (let x = 0; x < fw; x++) {
      const g = strength * Math.exp(-((x - gx) ** 2 + (y - gy) ** 2) / (2 * gs * gs));
      const o = (y * fw + x) * 3;
      for (let c = 0; c < 3; c++)
        framed.data[o + c] = clamp(framed.data[o + c]! + (255 - framed.data[o + c]!) * g);
    }
  }
  // Keep the whole at a size a photograph resolves (the moiré comes from this resampling too).
  const scale = Math.min(1, 2400 / Math.max(fw, fh));
  const image = await sharp(framed.data, { raw: { width: fw, height: fh, channels: 3 } })
    .resize(Math.round(fw * scale), Math.round(fh * scale), { kernel: 'linear' })
    .png({ compressionLevel: 3 })
    .toBuffer();
  return { image, device };
}
