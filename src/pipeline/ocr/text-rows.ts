import type { Rect } from '../image/rgb-image.ts';
import type { TextBox } from './detect-text.ts';

/**
 * Group detected boxes into rows: a box belongs to a row when their vertical extents overlap by more than
 * half of the smaller height and their heights are alike. The detector often splits one long line (an MRZ line, 30-44 characters)
 * at wide gaps of fillers; the row is the union of its pieces, read as one line.
 */
export function groupRows(boxes: readonly TextBox[]): Rect[] {
  const rows: { rect: Rect; boxes: TextBox[] }[] = [];
  for (const b of [...boxes].sort((a, c) => a.y + a.height / 2 - (c.y + c.height / 2))) {
    const row = rows.find((r) => {
      // Same line: similar heights (a text line never joins a photo or a paragraph block) and overlap.
      const ratio = Math.max(r.rect.height, b.height) / Math.max(1, Math.min(r.rect.height, b.height));
      if (ratio > 1.8) return false;
      const top = Math.max(r.rect.y, b.y);
      const bottom = Math.min(r.rect.y + r.rect.height, b.y + b.height);
      return bottom - top > 0.5 * Math.min(r.rect.height, b.height);
    });
    if (!row) {
      rows.push({ rect: { x: b.x, y: b.y, width: b.width, height: b.height }, boxes: [b] });
      continue;
    }
    row.boxes.push(b);
    const x0 = Math.min(row.rect.x, b.x);
    const y0 = Math.min(row.rect.y, b.y);
    const x1 = Math.max(row.rect.x + row.rect.width, b.x + b.width);
    const y1 = Math.max(row.rect.y + row.rect.height, b.y + b.height);
    row.rect = { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
  }
  return rows.map((r) => r.rect).sort((a, b) => a.y - b.y);
}
