import countries from 'i18n-iso-countries';
import type { DocumentTemplate } from '../domain/documents/document-template.ts';
import { DOCUMENT_TEMPLATES } from '../domain/documents/templates.ts';

import englishLocale from 'i18n-iso-countries/langs/en.json' with { type: 'json' };

// English names only, registered when first needed (no work at import time).
let namesLoaded = false;
function countryName(alpha2: string): string {
  if (!namesLoaded) {
    countries.registerLocale(englishLocale);
    namesLoaded = true;
  }
  return countries.getName(alpha2, 'en') ?? alpha2;
}

const alpha2 = (alpha3: string) => countries.alpha3ToAlpha2(alpha3) ?? alpha3;

function sidesRequired(t: DocumentTemplate): string[] {
  return [...t.sides];
}

/**
 * GET /v1/identity/supported-documents: one entry per template of the registry. A country-specific
 * template reads the visual zone; a generic ICAO template reads the MRZ of any issuing state.
 */
export function supportedDocuments(country?: string) {
  const wanted = country
    ? country.length === 3
      ? country.toUpperCase()
      : countries.alpha2ToAlpha3(country.toUpperCase())
    : undefined;
  const data = DOCUMENT_TEMPLATES.filter((t) => !wanted || !t.country || t.country === wanted).map((t) => ({
    type: t.family,
    name: t.name,
    countries: t.country ? [alpha2(t.country)] : ['*'],
    sides_required: sidesRequired(t),
    template_id: t.id,
    size: t.size,
    mrz_formats: t.mrz ? [...t.mrz.formats] : [],
    visual_zone_fields: [...new Set(t.fields.map((f) => f.field))],
    scripts: [...new Set(t.fields.map((f) => f.script))],
    layout_source: t.layoutSource,
  }));
  return { object: 'list' as const, data };
}

/**
 * GET /v1/identity/countries: every ISO 3166 country. Those with their own template are `full_support`
 * (MRZ and visual zone); the others are `beta`: their ICAO passports and cards are read from the MRZ.
 */
export function supportedCountries() {
  const byCountry = new Map<string, Set<string>>();
  for (const t of DOCUMENT_TEMPLATES) {
    if (!t.country) continue;
    const set = byCountry.get(t.country) ?? new Set<string>();
    set.add(t.family);
    byCountry.set(t.country, set);
  }
  const generic = [...new Set(DOCUMENT_TEMPLATES.filter((t) => !t.country).map((t) => t.family))];
  const data = Object.keys(countries.getAlpha2Codes())
    .map((code) => {
      const a3 = countries.alpha2ToAlpha3(code) ?? code;
      const own = byCountry.get(a3);
      return {
        code,
        alpha3: a3,
        name: countryName(code),
        status: own ? ('full_support' as const) : ('beta' as const),
        document_types: [...new Set([...(own ?? []), ...generic])].sort(),
        templates: DOCUMENT_TEMPLATES.filter((t) => t.country === a3).map((t) => t.id),
      };
    })
    .sort((a, b) =>
      a.status === b.status ? a.code.localeCompare(b.code) : a.status === 'full_support' ? -1 : 1,
    );
  return { object: 'list' as const, data };
}
