import type { Metadata } from 'sharp';

/**
 * The software names a photo's metadata carries: the EXIF `Software` and `ProcessingSoftware` tags and
 * the XMP `CreatorTool` and history `softwareAgent` entries, which cameras and image editors write when
 * they save. Read once, where the photo is decoded; nothing else of the metadata is kept (it may hold a
 * place or a name).
 */
export interface SoftwareMetadata {
  /** Whether the file carries EXIF or XMP metadata at all. */
  present: boolean;
  /** The software names written in it (EXIF and XMP), in the order found. */
  software: string[];
}

const SOFTWARE_TAGS = new Set([0x0131, 0x000b]);

/** ASCII values of IFD0's software tags, from sharp's EXIF block ("Exif\0\0" then a TIFF header). */
export function exifSoftware(exif: Buffer): string[] {
  const out: string[] = [];
  const base = exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? 6 : 0;
  const t = exif.subarray(base);
  if (t.length < 8) return out;
  const little = t.toString('latin1', 0, 2) === 'II';
  if (!little && t.toString('latin1', 0, 2) !== 'MM') return out;
  const u16 = (o: number) => (little ? t.readUInt16LE(o) : t.readUInt16BE(o));
  const u32 = (o: number) => (little ? t.readUInt32LE(o) : t.readUInt32BE(o));
  const ifd = u32(4);
  if (ifd + 2 > t.length) return out;
  const n = u16(ifd);
  for (let i = 0; i < n; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > t.length) break;
    const tag = u16(e);
    // Type 2: ASCII, `count` bytes with the NUL; inline when 4 bytes or fewer, else at the offset.
    if (!SOFTWARE_TAGS.has(tag) || u16(e + 2) !== 2) continue;
    const count = u32(e + 4);
    const at = count <= 4 ? e + 8 : u32(e + 8);
    if (at + count > t.length) continue;
    const value = t
      .toString('latin1', at, at + count)
      .replace(/\0.*$/s, '')
      .trim();
    if (value) out.push(value);
  }
  return out;
}

/** CreatorTool and softwareAgent values of an XMP packet (attribute or element form). */
export function xmpSoftware(xmp: Buffer): string[] {
  const text = xmp.toString('utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:CreatorTool|softwareAgent)(?:="([^"]*)"|>([^<]*)<)/g)) {
    const value = (m[1] ?? m[2] ?? '').trim();
    if (value && !out.includes(value)) out.push(value);
  }
  return out;
}

/** The software metadata of a file sharp has read the header of; never throws (a malformed block reads empty). */
export function softwareMetadata(meta: Pick<Metadata, 'exif' | 'xmp'>): SoftwareMetadata {
  const software: string[] = [];
  try {
    if (meta.exif) software.push(...exifSoftware(meta.exif));
  } catch {
    // A truncated EXIF block says nothing.
  }
  if (meta.xmp) software.push(...xmpSoftware(meta.xmp));
  return { present: Boolean(meta.exif || meta.xmp), software };
}
