import sharp, { type Metadata } from 'sharp';
import { HuwiyaError } from '../../domain/errors.ts';
import { softwareMetadata, type SoftwareMetadata } from './metadata.ts';
import type { RgbImage } from './rgb-image.ts';

export type ImageFormat = 'jpeg' | 'png' | 'webp';

export interface DecodedImage {
  format: ImageFormat;
  /** Size of the upright original (after EXIF orientation). */
  originalWidth: number;
  originalHeight: number;
  /** Working copy, downscaled so its longest side is at most `maxSide`. */
  image: RgbImage;
  /** working pixels per original pixel (≤ 1). */
  scale: number;
  byteLength: number;
  /** The bytes decoded (not copied), for stages that need the original's detail (rectifyDetail). */
  bytes: Uint8Array;
  /** The software its metadata names (the editing-software signal), read from the header decoded. */
  metadata: SoftwareMetadata;
}

export interface DecodeLimits {
  maxImageBytes: number;
  maxImagePixels: number;
  /** Longest side of the working copy; face and quality stages need no more. */
  maxSide?: number;
}

/** Sniff the container from its magic bytes; the name or declared type is never trusted (API.md "Inputs"). */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (
    bytes.length >= 8 &&
    bytes[0] === 0x89 &&
    bytes[1] === 0x50 &&
    bytes[2] === 0x4e &&
    bytes[3] === 0x47 &&
    bytes[4] === 0x0d &&
    bytes[5] === 0x0a &&
    bytes[6] === 0x1a &&
    bytes[7] === 0x0a
  )
    return 'png';
  if (
    bytes.length >= 12 &&
    Buffer.from(bytes.subarray(0, 4)).toString('latin1') === 'RIFF' &&
    Buffer.from(bytes.subarray(8, 12)).toString('latin1') === 'WEBP'
  )
    return 'webp';
  return undefined;
}

export const MIME_BY_FORMAT: Record<ImageFormat, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
};

/** Minimum size for any analysis: a face detector at 320×240 needs a few dozen pixels of face. */
const MIN_SIDE_PX = 32;

/**
 * Decode JPEG/PNG/WebP bytes into an upright RGB working copy. Rejects non-images, oversize files,
 * decompression bombs (pixel count read from the header before any pixel is decoded) and corrupt data,
 * each with its own code and the caller's parameter name.
 */
export async function decodeImage(
  bytes: Uint8Array,
  param: string,
  limits: DecodeLimits,
): Promise<DecodedImage> {
  if (bytes.length > limits.maxImageBytes) {
    throw new HuwiyaError(
      'image_too_large',
      `${param} is ${bytes.length} bytes; the limit is ${limits.maxImageBytes}.`,
      {
        param,
      },
    );
  }
  const format = sniffImageFormat(bytes);
  if (!format) {
    const pdf = Buffer.from(bytes.subarray(0, 5)).toString('latin1') === '%PDF-';
    throw new HuwiyaError(
      'unsupported_media_type',
      pdf
        ? `${param} is a PDF document; send the page as a JPEG, PNG or WebP image.`
        : `${param} is not a JPEG, PNG or WebP image.`,
      { param },
    );
  }
  const maxSide = limits.maxSide ?? 1600;
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch {
    throw new HuwiyaError('image_corrupt', `${param} could not be decoded as ${format}.`, { param });
  }
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  if (w * h > limits.maxImagePixels || (meta.pages ?? 1) > 1) {
    throw new HuwiyaError(
      'image_dimensions_exceeded',
      `${param} declares ${w}×${h} pixels; the limit is ${limits.maxImagePixels} pixels.`,
      { param },
    );
  }
  if (w < MIN_SIDE_PX || h < MIN_SIDE_PX) {
    throw new HuwiyaError(
      'image_too_small',
      `${param} is ${w}×${h}; at least ${MIN_SIDE_PX}×${MIN_SIDE_PX} is needed.`,
      {
        param,
      },
    );
  }
  // EXIF orientations 5-8 swap the axes.
  const swap = (meta.orientation ?? 1) >= 5;
  const originalWidth = swap ? h : w;
  const originalHeight = swap ? w : h;
  const scale = Math.min(1, maxSide / Math.max(originalWidth, originalHeight));
  try {
    // ignoreIcc: the models were trained on pixel values as stored (OpenCV never applies ICC profiles), and
    // the colour transform costs ~40 ms per photo. A bilinear reduce is enough below 2× (larger factors
    // use the JPEG decoder's own shrink-on-load first).
    const { data, info } = await sharp(bytes, {
      limitInputPixels: limits.maxImagePixels,
      failOn: 'error',
      ignoreIcc: true,
    })
      .rotate()
      .resize({
        width: Math.max(1, Math.round(originalWidth * scale)),
        height: Math.max(1, Math.round(originalHeight * scale)),
        fit: 'fill',
        kernel: 'linear',
      })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`unexpected channel count ${info.channels}`);
    return {
      format,
      originalWidth,
      originalHeight,
      image: {
        width: info.width,
        height: info.height,
        data: new Uint8Array(data.buffer, data.byteOffset, data.length),
      },
      scale: info.width / originalWidth,
      byteLength: bytes.length,
      bytes,
      metadata: softwareMetadata(meta),
    };
  } catch (e) {
    if (e instanceof HuwiyaError) throw e;
    throw new HuwiyaError('image_corrupt', `${param} is truncated or corrupt and could not be decoded.`, {
      param,
    });
  }
}
