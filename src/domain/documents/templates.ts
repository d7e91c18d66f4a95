import type { CaptionedField, DocumentTemplate, FieldRegion } from './document-template.ts';

// Moroccan CIN numbers: one or two letters (the issuing region) then digits, 7-8 characters in all.
const MAR_CIN = '^[A-Z]{1,2}[0-9]{4,7}$';
const DATE = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$';

/**
 * Moroccan CNIE, 2020 model. Front measured on the DGSN specimen (`shared/data/documents/morocco`, the
 * EL ALAMI ZAINEB card): Latin fields in the middle column, their Arabic originals on the right, CIN
 * number bottom left, expiry bottom middle. Back: parents, address and sex above the TD1 MRZ.
 */
const MAR_CNIE_2020: DocumentTemplate = {
  id: 'mar_cnie_2020',
  country: 'MAR',
  family: 'national_id',
  name: "Carte nationale d'identité électronique (CNIE), 2020 model",
  size: 'ID1',
  sides: ['front', 'back'],
  mrz: { side: 'back', formats: ['TD1'] },
  anchors: [
    { side: 'front', words: ['ROYAUME', 'MAROC', 'CARTE', 'NATIONALE', 'IDENTITE'] },
    { side: 'back', words: ['ADRESSE', 'FILS', 'FILLE', 'SEXE', 'ETAT', 'CIVIL'] },
  ],
  portrait: { side: 'front', box: [0.045, 0.27, 0.3, 0.6] },
  // The DGSN specimen's ghost portrait: right of the flag, above the CAN (its box with room for the
  // rectification's error).
  ghostPortrait: { side: 'front', box: [0.735, 0.52, 0.15, 0.3] },
  // Pink and green tinted guilloche, the gold seal, the flag and the colour portrait; the back is nearly
  // colourless (grey text on a pale ground).
  colourPrinted: ['front'],
  // shared/data/mrz/morocco_cnie_mrz.json: card number in positions 6-14, CIN in optional data 1.
  documentNumberInMrz: 'personal_number',
  fields: [
    { field: 'last_name', side: 'front', box: [0.36, 0.2, 0.4, 0.1], script: 'latin', format: 'name' },
    { field: 'first_name', side: 'front', box: [0.36, 0.31, 0.2, 0.1], script: 'latin', format: 'name' },
    {
      field: 'date_of_birth',
      side: 'front',
      box: [0.55, 0.32, 0.22, 0.12],
      script: 'latin',
      format: 'date_dmy',
      pattern: DATE,
    },
    {
      field: 'place_of_birth',
      side: 'front',
      box: [0.36, 0.46, 0.4, 0.11],
      script: 'latin',
      format: 'text',
      prefixes: ['A', 'À'],
    },
    {
      field: 'last_name_arabic',
      side: 'front',
      box: [0.76, 0.16, 0.23, 0.1],
      script: 'arabic',
      format: 'name',
    },
    {
      field: 'first_name_arabic',
      side: 'front',
      box: [0.76, 0.25, 0.23, 0.1],
      script: 'arabic',
      format: 'name',
    },
    {
      field: 'place_of_birth_arabic',
      side: 'front',
      box: [0.7, 0.42, 0.29, 0.11],
      script: 'arabic',
      format: 'text',
      prefixes: ['ب', 'ب.'],
    },
    {
      field: 'document_number',
      side: 'front',
      box: [0.14, 0.86, 0.25, 0.12],
      script: 'latin',
      format: 'document_number',
      pattern: MAR_CIN,
    },
    {
      field: 'expiry_date',
      side: 'front',
      box: [0.62, 0.85, 0.2, 0.11],
      script: 'latin',
      format: 'date_dmy',
      pattern: DATE,
    },
    {
      field: 'father_name',
      side: 'back',
      box: [0.03, 0.05, 0.55, 0.1],
      script: 'latin',
      format: 'name',
      prefixes: ['FILS DE', 'FILLE DE'],
    },
    {
      field: 'mother_name',
      side: 'back',
      box: [0.03, 0.15, 0.55, 0.1],
      script: 'latin',
      format: 'name',
      prefixes: ['ET DE'],
    },
    {
      field: 'address',
      side: 'back',
      box: [0.03, 0.27, 0.6, 0.1],
      script: 'latin',
      format: 'text',
      prefixes: ['ADRESSE'],
    },
    {
      field: 'address_arabic',
      side: 'back',
      box: [0.55, 0.38, 0.42, 0.1],
      script: 'arabic',
      format: 'text',
      prefixes: ['العنوان'],
    },
    {
      field: 'gender',
      side: 'back',
      box: [0.03, 0.48, 0.25, 0.1],
      script: 'latin',
      format: 'sex',
      prefixes: ['SEXE'],
    },
  ],
  issuedSince: '2020-01-01',
  layoutSource:
    'front: measured on the DGSN specimen image; back: arranged from public descriptions of the card (parents, address, sex above a TD1 MRZ), not yet checked against a specimen image',
};

/** A TD3 passport data page laid out as ICAO 9303 part 4 suggests (portrait left, zone II right). */
function passportFields(arabic: boolean): FieldRegion[] {
  const f: FieldRegion[] = [
    {
      field: 'document_number',
      side: 'front',
      box: [0.66, 0.15, 0.32, 0.08],
      script: 'latin',
      format: 'document_number',
    },
    { field: 'last_name', side: 'front', box: [0.33, 0.23, 0.4, 0.08], script: 'latin', format: 'name' },
    { field: 'first_name', side: 'front', box: [0.33, 0.32, 0.4, 0.08], script: 'latin', format: 'name' },
    {
      field: 'date_of_birth',
      side: 'front',
      box: [0.33, 0.42, 0.3, 0.08],
      script: 'latin',
      format: 'date_dmy',
      pattern: DATE,
    },
    { field: 'gender', side: 'front', box: [0.66, 0.42, 0.12, 0.08], script: 'latin', format: 'sex' },
    { field: 'place_of_birth', side: 'front', box: [0.33, 0.51, 0.4, 0.08], script: 'latin', format: 'text' },
    {
      field: 'issue_date',
      side: 'front',
      box: [0.33, 0.6, 0.3, 0.08],
      script: 'latin',
      format: 'date_dmy',
      pattern: DATE,
    },
    {
      field: 'expiry_date',
      side: 'front',
      box: [0.66, 0.6, 0.3, 0.08],
      script: 'latin',
      format: 'date_dmy',
      pattern: DATE,
    },
  ];
  if (arabic)
    f.push(
      {
        field: 'last_name_arabic',
        side: 'front',
        box: [0.74, 0.23, 0.25, 0.08],
        script: 'arabic',
        format: 'name',
        // The caption sits in the box's top band, above the value.
        prefixes: ['الاسم العائلي'],
      },
      {
        field: 'first_name_arabic',
        side: 'front',
        box: [0.74, 0.32, 0.25, 0.08],
        script: 'arabic',
        format: 'name',
        prefixes: ['الاسم الشخصي'],
      },
    );
  return f;
}

const PASSPORT_PORTRAIT = { side: 'front', box: [0.03, 0.2, 0.28, 0.54] } as const;

const MAR_PASSPORT: DocumentTemplate = {
  id: 'mar_passport_biometric',
  country: 'MAR',
  family: 'passport',
  name: 'Passeport biométrique',
  size: 'ID3',
  sides: ['front'],
  mrz: { side: 'front', formats: ['TD3'] },
  anchors: [{ side: 'front', words: ['ROYAUME', 'MAROC', 'PASSEPORT', 'PASSPORT'] }],
  portrait: PASSPORT_PORTRAIT,
  fields: passportFields(true),
  issuedSince: '2008-01-01',
  layoutSource:
    'ICAO 9303 part 4 zone layout with Arabic names beside the Latin ones; not checked against a specimen image',
};

const FRA_CNI_2021: DocumentTemplate = {
  id: 'fra_cni_2021',
  country: 'FRA',
  family: 'national_id',
  name: "Carte nationale d'identité, 2021 model (ID-1, TD1 MRZ)",
  size: 'ID1',
  sides: ['front', 'back'],
  mrz: { side: 'back', formats: ['TD1'] },
  anchors: [
    { side: 'front', words: ['REPUBLIQUE', 'FRANCAISE', 'CARTE', 'NATIONALE', 'IDENTITE', 'IDENTITY'] },
    { side: 'back', words: ['ADRESSE', 'ADDRESS', 'DELIVRANCE'] },
  ],
  portrait: { side: 'front', box: [0.03, 0.22, 0.3, 0.62] },
  fields: [
    { field: 'last_name', side: 'front', box: [0.35, 0.27, 0.45, 0.09], script: 'latin', format: 'name' },
    { field: 'first_name', side: 'front', box: [0.35, 0.38, 0.5, 0.09], script: 'latin', format: 'name' },
    { field: 'gender', side: 'front', box: [0.35, 0.5, 0.1, 0.08], script: 'latin', format: 'sex' },
    {
      field: 'date_of_birth',
      side: 'front',
      box: [0.66, 0.5, 0.3, 0.08],
      script: 'latin',
      format: 'date_dmy',
      pattern: DATE,
    },
    {
      field: 'place_of_birth',
      side: 'front',
      box: [0.35, 0.61, 0.45, 0.08],
      script: 'latin',
      format: 'text',
    },
    {
      field: 'document_number',
      side: 'front',
      box: [0.35, 0.72, 0.3, 0.08],
      script: 'latin',
      format: 'document_number',
    },
    {
      field: 'expiry_date',
      side: 'front',
      box: [0.66, 0.72, 0.3, 0.08],
      script: 'latin',
      format: 'date_dmy',
      pattern: DATE,
    },
    { field: 'address', side: 'back', box: [0.03, 0.1, 0.6, 0.1], script: 'latin', format: 'text' },
    {
      field: 'issue_date',
      side: 'back',
      box: [0.03, 0.3, 0.3, 0.1],
      script: 'latin',
      format: 'date_dmy',
      pattern: DATE,
    },
  ],
  issuedSince: '2021-08-02',
  layoutSource:
    'arranged from the public description of the 2021 card (bilingual labels); not checked against a specimen image',
};

const FRA_CNI_1994: DocumentTemplate = {
  id: 'fra_cni_1994',
  country: 'FRA',
  family: 'national_id',
  name: "Carte nationale d'identité, 1994-2021 model (French two-line MRZ)",
  size: 'ID2',
  sides: ['front', 'back'],
  mrz: { side: 'front', formats: ['FRENCH_NATIONAL_ID'] },
  anchors: [
    { side: 'front', words: ['REPUBLIQUE', 'FRANCAISE', 'CARTE', 'NATIONALE', 'IDENTITE'] },
    { side: 'back', words: ['ADRESSE', 'DELIVREE', 'VALABLE'] },
  ],
  portrait: { side: 'front', box: [0.03, 0.15, 0.28, 0.55] },
  fields: [
    {
      field: 'document_number',
      side: 'front',
      box: [0.55, 0.06, 0.4, 0.09],
      script: 'latin',
      format: 'document_number',
    },
    {
      field: 'last_name',
      side: 'front',
      box: [0.33, 0.18, 0.6, 0.09],
      script: 'latin',
      format: 'name',
      prefixes: ['NOM'],
    },
    {
      field: 'first_name',
      side: 'front',
      box: [0.33, 0.3, 0.6, 0.09],
      script: 'latin',
      format: 'name',
      prefixes: ['PRENOM(S)', 'PRENOMS'],
    },
    {
      field: 'gender',
      side: 'front',
      box: [0.33, 0.41, 0.2, 0.09],
      script: 'latin',
      format: 'sex',
      prefixes: ['SEXE'],
    },
    {
      field: 'date_of_birth',
      side: 'front',
      box: [0.55, 0.41, 0.4, 0.09],
      script: 'latin',
      format: 'date_dmy',
      pattern: DATE,
      prefixes: ['NE(E) LE'],
    },
    {
      field: 'place_of_birth',
      side: 'front',
      box: [0.33, 0.51, 0.6, 0.09],
      script: 'latin',
      format: 'text',
      prefixes: ['A'],
    },
    {
      field: 'address',
      side: 'back',
      box: [0.05, 0.1, 0.9, 0.12],
      script: 'latin',
      format: 'text',
      prefixes: ['ADRESSE'],
    },
    {
      field: 'expiry_date',
      side: 'back',
      box: [0.05, 0.3, 0.6, 0.1],
      script: 'latin',
      format: 'date_dmy',
      pattern: DATE,
      prefixes: ["CARTE VALABLE JUSQU'AU"],
    },
    {
      field: 'issue_date',
      side: 'back',
      box: [0.05, 0.42, 0.6, 0.1],
      script: 'latin',
      format: 'date_dmy',
      pattern: DATE,
      prefixes: ['DELIVREE LE'],
    },
  ],
  issuedSince: '1994-01-01',
  layoutSource:
    'arranged from the public description of the laminated card; not checked against a specimen image',
};

/**
 * Zone II fields of any ICAO document that the MRZ does not carry, by their captions in English, French,
 * Spanish, German, Italian and Portuguese (ICAO 9303-3 §4: the issuer's language plus English, French or
 * Spanish).
 */
function captionedZoneII(side: 'front' | 'back'): CaptionedField[] {
  return [
    {
      field: 'place_of_birth',
      side,
      format: 'text',
      captions: [
        'PLACEOFBIRTH',
        'LIEUDENAISSANCE',
        'LUGARDENACIMIENTO',
        'GEBURTSORT',
        'LUOGODINASCITA',
        'LOCALDENASCIMENTO',
      ],
    },
    {
      field: 'issue_date',
      side,
      format: 'date_dmy',
      captions: [
        'DATEOFISSUE',
        'ISSUEDATE',
        'DATEDEDELIVRANCE',
        'FECHADEEXPEDICION',
        'FECHADEEMISION',
        'AUSSTELLUNGSDATUM',
        'DATADIRILASCIO',
        'DATADEEMISSAO',
      ],
    },
  ];
}

/**
 * Captions of the other zone II fields (those the MRZ carries), in the same languages: a blurred caption
 * is the field whose caption it reads nearest, and "Date de naissance" must not pass for "Lieu de
 * naissance" only because the date's own caption was not on the list. Captions shorter than five letters
 * (NOM, SEX, TYPE) are left out: as approximate substrings they match nearly anything.
 */
export const OTHER_ZONE_II_CAPTIONS: readonly string[] = [
  'SURNAME',
  'APELLIDOS',
  'COGNOME',
  'GIVENNAMES',
  'PRENOMS',
  'NOMBRES',
  'VORNAMEN',
  'DATEOFBIRTH',
  'DATEDENAISSANCE',
  'FECHADENACIMIENTO',
  'GEBURTSTAG',
  'DATADINASCITA',
  'DATADENASCIMENTO',
  'DATEOFEXPIRY',
  'DATEOFEXPIRATION',
  'DATEDEXPIRATION',
  'FECHADECADUCIDAD',
  'FECHADEVENCIMIENTO',
  'GULTIGBIS',
  'SCADENZA',
  'DATADEVALIDADE',
  'NATIONALITY',
  'NATIONALITE',
  'NACIONALIDAD',
  'STAATSANGEHORIGKEIT',
  'CITTADINANZA',
  'NACIONALIDADE',
  'AUTHORITY',
  'AUTORITE',
  'AUTORIDAD',
  'BEHORDE',
  'AUTORITA',
  'AUTORIDADE',
  'PASSPORTNO',
  'PASSEPORTN',
  'PASAPORTEN',
  'PERSONALNO',
  'HOLDERSSIGNATURE',
  'SIGNATUREDUTITULAIRE',
];

/** Any ICAO passport: the MRZ is the source, the visual zone only confirms it. */
const ICAO_TD3: DocumentTemplate = {
  id: 'icao_td3_passport',
  family: 'passport',
  name: 'Any ICAO 9303 passport (TD3)',
  size: 'ID3',
  sides: ['front'],
  mrz: { side: 'front', formats: ['TD3'] },
  anchors: [{ side: 'front', words: ['PASSPORT', 'PASSEPORT', 'PASAPORTE', 'REISEPASS'] }],
  portrait: PASSPORT_PORTRAIT,
  // Every issuer places its zone II fields differently: fixed boxes would read the wrong lines, captions
  // say which line is which.
  fields: [],
  captioned: captionedZoneII('front'),
  layoutSource: 'ICAO 9303 part 4',
};

const ICAO_TD1: DocumentTemplate = {
  id: 'icao_td1_id_card',
  family: 'national_id',
  name: 'Any ICAO 9303 identity card (TD1)',
  size: 'ID1',
  sides: ['front', 'back'],
  mrz: { side: 'back', formats: ['TD1'] },
  anchors: [{ side: 'front', words: ['IDENTITY', 'IDENTITE', 'CARD', 'CARTE'] }],
  portrait: { side: 'front', box: [0.03, 0.2, 0.3, 0.65] },
  fields: [],
  captioned: [...captionedZoneII('front'), ...captionedZoneII('back')],
  layoutSource: 'ICAO 9303 part 5',
};

const ICAO_TD2: DocumentTemplate = {
  ...ICAO_TD1,
  id: 'icao_td2_id_card',
  name: 'Any ICAO 9303 identity card or permit (TD2)',
  size: 'ID2',
  mrz: { side: 'back', formats: ['TD2'] },
  layoutSource: 'ICAO 9303 part 6',
};

/** Every template, specific ones first (the generic ICAO ones match any country). */
export const DOCUMENT_TEMPLATES: readonly DocumentTemplate[] = [
  MAR_CNIE_2020,
  MAR_PASSPORT,
  FRA_CNI_2021,
  FRA_CNI_1994,
  ICAO_TD3,
  ICAO_TD1,
  ICAO_TD2,
];

export function templateById(id: string): DocumentTemplate | undefined {
  return DOCUMENT_TEMPLATES.find((t) => t.id === id);
}
