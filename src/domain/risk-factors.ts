import type { CheckName } from './verification.ts';

/**
 * Every risk factor the policy can name (`risk_factors[].code`), with the most it can weigh, what it does
 * to the decision, what it means and what the user can do about it. The policy (`risk-policy.ts`) takes
 * its weights from here; `docs/risk-factors.md` documents the same table, and a test holds the three
 * together both ways.
 *
 * Effects: `rejects` (on its own), `rejects_when_strong` (a clear signal rejects, a weak one reviews),
 * `reviews` (a person decides), `adds` (raises the score; reviews only together with others).
 */
export type RiskEffect = 'rejects' | 'rejects_when_strong' | 'reviews' | 'adds';

export interface RiskFactorSpec {
  weight: number;
  effect: RiskEffect;
  meaning: string;
  action: string;
}

/** A requested check that could not run (an unread document is `document_unreadable` instead). */
const notRun = (name: CheckName): RiskFactorSpec => ({
  weight: 300,
  effect: 'reviews',
  meaning: `The ${name} check was requested but could not run on this input.`,
  action: 'Send the images that check needs (see the check result’s reason), or stop requesting it.',
});
const errored = (name: CheckName): RiskFactorSpec => ({
  weight: 200,
  effect: 'reviews',
  meaning: `The ${name} check failed with an internal error.`,
  action: 'Retry the verification; report it if it persists (the audit log has the request id).',
});
const recapture = (what: string): RiskFactorSpec => ({
  weight: 800,
  effect: 'rejects_when_strong',
  meaning: what,
  action: 'Photograph the original document itself, not a copy or a screen.',
});

export const RISK_FACTORS = {
  face_mismatch: {
    weight: 800,
    effect: 'rejects_when_strong',
    meaning: 'The selfie and the document portrait show different people.',
    action: 'Retake the selfie facing the camera in even light, with the document of the same person.',
  },
  face_match_margin: {
    weight: 300,
    effect: 'adds',
    meaning: 'The selfie matches the portrait; the closer its similarity to the threshold, the more it adds.',
    action: 'Nothing is wrong; a sharper selfie and document photo raise the similarity.',
  },
  no_face_in_selfie: {
    weight: 450,
    effect: 'reviews',
    meaning: 'No face was found in the selfie.',
    action: 'Retake the selfie with the whole face in the frame, in focus.',
  },
  no_face_in_document: {
    weight: 450,
    effect: 'reviews',
    meaning: 'No portrait was found on the document.',
    action: 'Photograph the side with the portrait, whole and flat, without glare on the photo.',
  },
  liveness_no_face: {
    weight: 300,
    effect: 'reviews',
    meaning: 'Liveness could not be judged: no face in the selfie.',
    action: 'Retake the selfie with the whole face in the frame.',
  },
  liveness_spoof: {
    weight: 750,
    effect: 'rejects_when_strong',
    meaning: 'The selfie looks like a presentation attack (a printed photo, a screen, a mask).',
    action: 'Take the selfie live with the phone’s camera, not a picture of a picture.',
  },
  liveness_challenge_failed: {
    weight: 450,
    effect: 'reviews',
    meaning:
      'The head-turn challenge of the capture page was not passed: the head did not turn as asked, other turns were seen, or the face filmed was not the selfie’s.',
    action: 'Start a new session and turn the head slowly each way the page asks, face in the frame.',
  },
  liveness_uncertain: {
    weight: 350,
    effect: 'reviews',
    meaning:
      'The liveness model is unsure about the selfie (its live probability is above the threshold but in the band where prints and screens also land) and no head-turn challenge confirmed it.',
    action:
      'Verify through a session’s capture page (its head-turn challenge settles it), or retake the selfie facing the camera in even light.',
  },
  liveness_challenge_missing: {
    weight: 400,
    effect: 'reviews',
    meaning: 'The tenant requires the head-turn challenge and the verification has none.',
    action: 'Verify through a session’s capture page, which runs the challenge.',
  },
  liveness_margin: {
    weight: 100,
    effect: 'adds',
    meaning: 'The selfie looks live; the closer its spoof probability to 0.5, the more it adds.',
    action: 'Nothing is wrong; even light and a steady camera lower it.',
  },
  selfie_missing: {
    weight: 400,
    effect: 'reviews',
    meaning: 'No selfie was sent, so the face checks requested could not run.',
    action: 'Send a selfie, or request only document checks.',
  },
  document_unreadable: {
    weight: 300,
    effect: 'reviews',
    meaning: 'The document could not be read (no machine-readable zone, identity fields missing).',
    action: 'Photograph the whole document flat, in focus, without glare; send the side with the MRZ.',
  },
  fraud_not_assessed: {
    weight: 50,
    effect: 'adds',
    meaning: 'No document-fraud signal applies to this document (not found in the photo, no template).',
    action: 'Photograph the whole document so that its edges are visible.',
  },
  face_match_not_run: notRun('face_match'),
  liveness_not_run: notRun('liveness'),
  fraud_not_run: notRun('fraud'),
  duplicate_not_run: notRun('duplicate'),
  ocr_error: errored('ocr'),
  face_match_error: errored('face_match'),
  liveness_error: errored('liveness'),
  fraud_error: errored('fraud'),
  duplicate_error: errored('duplicate'),
  document_expired: {
    weight: 600,
    effect: 'rejects',
    meaning: 'The document has expired.',
    action: 'Verify with a valid document.',
  },
  mrz_check_digits_invalid: {
    weight: 300,
    effect: 'reviews',
    meaning: 'The machine-readable zone does not pass its check digits (misread or altered).',
    action: 'Retake the photo of the MRZ side, sharp and without glare on the bottom lines.',
  },
  document_country_mismatch: {
    weight: 300,
    effect: 'reviews',
    meaning: 'The document was issued by another country than the one declared.',
    action: 'Declare the country that issued the document (or leave it to the MRZ).',
  },
  mrz_visual_zone_mismatch: {
    weight: 250,
    effect: 'reviews',
    meaning: 'The machine-readable zone and the printed fields disagree.',
    action: 'Retake a sharper photo; if it persists, a person compares the two fields.',
  },
  mrz_not_read: {
    weight: 250,
    effect: 'reviews',
    meaning:
      "The document's machine-readable zone was not read (its side not sent or unreadable), so its printed data could not be checked against it.",
    action: 'Send the side with the MRZ (the back of an ID card), flat, sharp and without glare.',
  },
  visual_zone_not_read: {
    weight: 250,
    effect: 'reviews',
    meaning:
      "The MRZ was read but the card's printed number, name or birth date was not (its side not found, blurred or under glare), so an edit to that printed field could not be seen.",
    action: 'Retake the side that prints the holder’s data, flat, sharp and without glare.',
  },
  document_type_mismatch: {
    weight: 150,
    effect: 'adds',
    meaning: 'The document is of another type than the one declared.',
    action: 'Declare the type of document sent.',
  },
  under_minimum_age: {
    weight: 800,
    effect: 'rejects',
    meaning: 'The holder is younger than the minimum age (HUWIYA_MIN_AGE, 18 by default).',
    action: 'Nothing: the service is not open to this holder.',
  },
  impossible_dates: {
    weight: 400,
    effect: 'reviews',
    meaning: 'The document’s dates cannot be right (born or issued in the future, expiring before issue).',
    action: 'Retake the photo; if the dates are printed so, the document is not genuine.',
  },
  printed_copy: recapture(
    'The document looks like a printed copy photographed again (no card colours, paper).',
  ),
  screen_replay: recapture('The document looks like a picture shown on a screen and photographed again.'),
  square_corners: {
    weight: 450,
    effect: 'reviews',
    meaning:
      "The card's corners are square where an ID card's are rounded (ISO/IEC 7810): a paper copy cut out, or a picture on a screen.",
    action: 'Photograph the original card itself, all four corners in view.',
  },
  editing_software: {
    weight: 450,
    effect: 'reviews',
    meaning: "The document photo's metadata names an image editor (Photoshop, GIMP, a retouching app).",
    action: 'Send the photo as the camera took it, not edited or re-saved.',
  },
  portrait_substitution: {
    weight: 800,
    effect: 'rejects_when_strong',
    meaning:
      "The document's secondary (ghost) portrait shows another person than its main portrait and is not the main portrait's picture printed again.",
    action: 'Nothing: a replaced portrait is an altered document.',
  },
  duplicate_face_other_identity: {
    weight: 450,
    effect: 'reviews',
    meaning: 'The same face was verified before for this account under another name or birth date.',
    action: 'A person compares the verifications listed in the duplicate check’s face_matches.',
  },
  duplicate_document_number: {
    weight: 300,
    effect: 'reviews',
    meaning: 'This document number was verified before for this account.',
    action: 'A person checks it is the same customer returning (the matches are listed).',
  },
} as const satisfies Record<string, RiskFactorSpec>;

export type RiskFactorCode = keyof typeof RISK_FACTORS;
