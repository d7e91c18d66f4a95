/**
 * Longest validity looked for: ten years (and a month), the most passports get (ICAO 9303 leaves it to
 * issuers). A document valid longer gets no issue date this way, not a wrong one.
 */
const MAX_VALIDITY_MS = (10 * 365.25 + 31) * 86_400_000;

/**
 * A data page prints three dates: birth, issue and expiry (ICAO 9303-4 zone II). With the other two known
 * from a valid MRZ, the one other date printed between them, at most ten years before expiry, is the
 * date of issue, when its caption could not be read (blurred small print). Undefined unless exactly one
 * date qualifies.
 */
export function issueDateByElimination(
  dates: readonly string[],
  birth: string | undefined,
  expiry: string | undefined,
): string | undefined {
  if (!birth || !expiry) return undefined;
  const others = new Set(
    dates.filter((d) => d > birth && d < expiry && Date.parse(expiry) - Date.parse(d) <= MAX_VALIDITY_MS),
  );
  return others.size === 1 ? [...others][0] : undefined;
}
