/**
 * A document template: where a country's document carries each visual-zone field, in which script and
 * format, described as data so that adding a document is adding an entry (the registry lists it in
 * `/v1/identity/supported-documents` and `/v1/identity/countries`).
 *
 * Boxes are `[x, y, width, height]` as shares of the rectified side (0..1, origin top-left), so they hold
 * at any resolution. They are generous on purpose: the reader looks for the text line inside the box.
 */
export type Box = readonly [x: number, y: number, width: number, height: number];

export type DocumentFamily = 'passport' | 'national_id' | 'residence_permit' | 'driving_license';

export type Script = 'latin' | 'arabic';

/** How a field's text is normalised and validated. */
export type FieldFormat =
  | 'name' // letters, spaces, hyphens, apostrophes → upper case
  | 'date_dmy' // DD/MM/YYYY, DD.MM.YYYY, DD MM YYYY → ISO 8601
  | 'document_number' // upper-case letters and digits
  | 'sex' // M / F (or their Arabic and French forms)
  | 'text'; // free text (addresses, places)

export type VisualField =
  | 'last_name'
  | 'first_name'
  | 'last_name_arabic'
  | 'first_name_arabic'
  | 'date_of_birth'
  | 'place_of_birth'
  | 'place_of_birth_arabic'
  | 'document_number'
  | 'expiry_date'
  | 'issue_date'
  | 'gender'
  | 'address'
  | 'address_arabic'
  | 'father_name'
  | 'mother_name';

export interface FieldRegion {
  field: VisualField;
  side: 'front' | 'back';
  box: Box;
  script: Script;
  format: FieldFormat;
  /** Printed words that may precede the value on the same line (a label or a preposition), stripped. */
  prefixes?: readonly string[];
  /** A pattern the normalised value must match (e.g. the CIN number's shape). */
  pattern?: string;
}

/**
 * A field found by its printed caption rather than by its place: the generic templates cannot know where
 * an issuer prints it, but ICAO 9303 has every zone II field captioned, in the issuer's language and in
 * English, French or Spanish. The value is the line under the caption.
 */
export interface CaptionedField {
  field: VisualField;
  side: 'front' | 'back';
  format: FieldFormat;
  /** Captions in upper case, accents and spaces removed ("PLACEOFBIRTH"), any of which heads the value. */
  captions: readonly string[];
}

export interface DocumentTemplate {
  /** Stable id, `<alpha-3>_<document>_<version>` in lower case; `icao_*` for the generic templates. */
  id: string;
  /** ISO 3166-1 alpha-3 of the issuing state; undefined for the generic ICAO templates. */
  country?: string;
  family: DocumentFamily;
  name: string;
  /** ICAO 9303 size: ID-1 cards (TD1, 85.60 × 53.98 mm), TD2 (105 × 74), TD3 passport page (125 × 88). */
  size: 'ID1' | 'ID2' | 'ID3';
  sides: readonly ('front' | 'back')[];
  /** MRZ formats the document carries and on which side. */
  mrz?: { side: 'front' | 'back'; formats: readonly string[] };
  /** Words printed on every copy (upper case, accents removed); two found on a side identify it. */
  anchors: readonly { side: 'front' | 'back'; words: readonly string[] }[];
  portrait?: { side: 'front' | 'back'; box: Box };
  /**
   * The small secondary ("ghost") portrait some cards print beside the main one: it must show the same
   * person (a replaced main portrait keeps the holder's ghost).
   */
  ghostPortrait?: { side: 'front' | 'back'; box: Box };
  /**
   * Sides printed in colour over most of their surface (tinted backgrounds, coloured emblems): a
   * greyscale photocopy of them has lost it, which the `printed_copy` signal measures. Sides left out are
   * not judged by colour (a passport's grey laser-engraved page, a card's nearly colourless back).
   */
  colourPrinted?: readonly ('front' | 'back')[];
  fields: readonly FieldRegion[];
  /** Fields found by their caption, wherever the issuer prints them (generic templates). */
  captioned?: readonly CaptionedField[];
  /**
   * The MRZ field that holds the number printed as `document_number`, when it is not the MRZ's document
   * number: the Moroccan CNIE's MRZ carries the card's serial there and the CIN in its optional data.
   */
  documentNumberInMrz?: 'personal_number';
  /** Since when the issuer has produced it (ISO date), for the documentation. */
  issuedSince?: string;
  /** Where the layout comes from, so a reviewer can check it. */
  layoutSource: string;
}

/** Width and height in mm of each ICAO size (9303 part 2). */
export const SIZE_MM: Record<DocumentTemplate['size'], readonly [number, number]> = {
  ID1: [85.6, 53.98],
  ID2: [105, 74],
  ID3: [125, 88],
};

/** Width / height of each ICAO size. */
export const ASPECT_BY_SIZE = Object.fromEntries(
  Object.entries(SIZE_MM).map(([k, [w, h]]) => [k, w / h]),
) as Record<DocumentTemplate['size'], number>;

/** Resolution of a rectified side: about 300 dpi, an ID-1 card 1011 px wide, enough for 8-pt print. */
export const RECTIFIED_PX_PER_MM = 1011 / 85.6;
