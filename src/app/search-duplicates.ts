import countries from 'i18n-iso-countries';
import { HuwiyaError } from '../domain/errors.ts';
import { decodeImage } from '../pipeline/image/decode.ts';
import type { AppDeps, Caller } from './deps.ts';
import { analyzeSelfie } from './face-checks.ts';
import { tenantConfig } from './tenant-settings.ts';
import { documentNumberIndex, searchFaces, type FaceMatch } from './duplicate-check.ts';
import { runAdmitted } from './admission.ts';

export interface DuplicateSearchInput {
  /** A document number, with the country that issued it (alpha-2 or alpha-3). */
  documentNumber?: string;
  country?: string;
  /** A photo of a face (a selfie): compared with the selfies indexed by the duplicate check. */
  image?: Uint8Array;
}

/** Earlier verifications listed at most per search (newest first for numbers, nearest first for faces). */
const MAX_RESULTS = 20;

/**
 * `POST /v1/identity/duplicates/search`: the caller's verifications with this document number and/or
 * this face, through the same keyed indexes as the `duplicate` check (ADR 0009, ADR 0010): nothing is
 * stored, the number is hashed before it is looked up, the face's embedding never leaves the process.
 */
export async function searchDuplicates(deps: AppDeps, caller: Caller, input: DuplicateSearchInput) {
  if (input.documentNumber === undefined && input.image === undefined)
    throw new HuwiyaError('missing_parameter', 'Send document_number (with country) and/or image.', {
      param: 'document_number',
    });
  let numberMatches: { verification_id: string; created_at: string; status: string }[] | null = null;
  if (input.documentNumber !== undefined) {
    const country = (input.country ?? '').toUpperCase();
    const alpha3 = country.length === 3 ? country : countries.alpha2ToAlpha3(country);
    if (!alpha3 || !countries.isValid(alpha3))
      throw new HuwiyaError(
        'invalid_parameter',
        'country (alpha-2 or alpha-3) must name the issuing country.',
        {
          param: 'country',
        },
      );
    const hash = documentNumberIndex(deps, {
      document_number: input.documentNumber.replace(/[\s-]/g, ''),
      issuing_country: alpha3,
    });
    if (!hash)
      throw new HuwiyaError('invalid_parameter', 'document_number must have at least 4 characters.', {
        param: 'document_number',
      });
    const { rows } = await deps.store.listVerifications(caller.tenantId, {
      tagHashes: [hash],
      limit: MAX_RESULTS,
    });
    numberMatches = rows.map((r) => ({ verification_id: r.id, created_at: r.createdAt, status: r.status }));
  }
  let faceMatches: FaceMatch[] | null = null;
  if (input.image !== undefined) {
    if (!(await tenantConfig(deps, caller.tenantId)).faceIndex)
      throw new HuwiyaError(
        'invalid_state',
        'The face index is off for this account (duplicate.face_index).',
        {
          param: 'image',
        },
      );
    const image = input.image;
    const face = await runAdmitted(deps, async () => {
      const d = await decodeImage(image, 'image', deps.limits);
      return analyzeSelfie(deps, d.image, { liveness: false });
    });
    if (!face) throw new HuwiyaError('face_not_found', 'No face was found in image.', { param: 'image' });
    faceMatches = (await searchFaces(deps, caller.tenantId, face.embedding, null)).slice(0, MAX_RESULTS);
  }
  return {
    object: 'duplicate_search',
    document_number: numberMatches ? { matches: numberMatches } : null,
    face: faceMatches
      ? {
          matches: faceMatches.map(({ same_identity: _s, ...m }) => m),
          threshold: deps.manifest.thresholds.duplicate_face_cosine,
          model_version: deps.manifest.models.face_embed.version,
        }
      : null,
  };
}
