/**
 * Editing software named in a photo's metadata (read at decoding: src/pipeline/image/metadata.ts). A phone
 * camera writes its firmware there ("HDR+ 1.0", "iOS 17.1"), which is not an editor; an ID photo saved by
 * Photoshop, GIMP or a retouching app has been through an editor. Metadata is easily stripped, so its
 * absence proves nothing (not assessed); its presence with an editor's name is a reason to look.
 */
export const EDITORS: readonly RegExp[] = [
  /photoshop/i,
  /\bgimp\b/i,
  /lightroom/i,
  /snapseed/i,
  /picsart/i,
  /pixelmator/i,
  /affinity photo/i,
  /paint\.net/i,
  /photopea/i,
  /facetune/i,
  /\bcanva\b/i,
  /\bfotor\b/i,
  /corel/i,
  /\bkrita\b/i,
  /photoscape/i,
  /photodirector/i,
];

/** The first of the software names that names an image editor. */
export function editorIn(software: readonly string[]): string | undefined {
  return software.find((s) => EDITORS.some((r) => r.test(s)));
}
