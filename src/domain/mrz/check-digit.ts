/** ICAO 9303 check digits (Part 3): weights 7-3-1, `<` = 0, digits as themselves, A = 10 … Z = 35. */
const WEIGHTS = [7, 3, 1] as const;

/** The value of one MRZ character, or undefined when the character cannot appear in an MRZ. */
export function mrzCharValue(char: string): number | undefined {
  if (char.length !== 1) return undefined;
  if (char === '<') return 0;
  const code = char.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 90) return code - 55;
  return undefined;
}

/**
 * The check digit of `s`. Characters outside `0-9A-Z<` make it uncomputable; they count as a value that no
 * digit matches, so the result is `'?'` and every comparison with a printed digit fails.
 */
export function mrzCheckDigit(s: string): string {
  let sum = 0;
  for (let i = 0; i < s.length; i++) {
    const value = mrzCharValue(s.charAt(i));
    if (value === undefined) return '?';
    sum += value * WEIGHTS[i % 3]!;
  }
  return String(sum % 10);
}

export function isValidCheckDigit(s: string, checkDigit: string): boolean {
  return /^[0-9]$/.test(checkDigit) && mrzCheckDigit(s) === checkDigit;
}
