import { editDistance } from './normalise-field.ts';

/**
 * Arabic OCR (Tesseract `ara`) reads the letters' shapes well and their dots badly: ب ت ث ن ي share one
 * shape and differ only by dots, as do ج ح خ, د ذ, ر ز, س ش, ص ض, ط ظ, ع غ, ف ق and final ه ة, ي ى.
 * A document prints the same name in Latin letters (and the MRZ confirms them), and the Latin spelling
 * tells the dots: "BENSAID" has an N where the reading "بتسعيد" has a ت. Each dotted letter of the
 * reading may be swapped for another of its shape when that brings the reading's consonants closer to
 * the Latin spelling's; the shapes themselves are never changed.
 */

/** Letters that share a shape (rasm) and differ only by their dots. */
const SAME_SHAPE: readonly string[] = ['بتثنيى', 'جحخ', 'دذ', 'رز', 'سش', 'صض', 'طظ', 'عغ', 'فق', 'هة'];

const SHAPE_OF = new Map<string, string>();
for (const group of SAME_SHAPE) for (const c of group) SHAPE_OF.set(c, group);

/**
 * The consonant each Arabic letter is usually written with in Maghrebi (French-style) transliteration,
 * as one class letter: X for خ (KH), C for ش (CH), G for غ (GH); vowels and letters Latin spelling
 * drops (ا ع ء و ة ى) have none.
 */
const ARABIC_CLASS: Record<string, string> = {
  ب: 'B',
  ت: 'T',
  ث: 'T',
  ن: 'N',
  ي: 'Y',
  ج: 'J',
  ح: 'H',
  خ: 'X',
  د: 'D',
  ذ: 'D',
  ر: 'R',
  ز: 'Z',
  س: 'S',
  ش: 'C',
  ص: 'S',
  ض: 'D',
  ط: 'T',
  ظ: 'D',
  غ: 'G',
  ف: 'F',
  ق: 'K',
  ك: 'K',
  ل: 'L',
  م: 'M',
  ه: 'H',
};

/** Latin spelling → consonant classes (digraphs first; vowels dropped except I/Y, often a ي). */
function latinClasses(latin: string): string {
  const s = latin
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toUpperCase()
    .replace(/[^A-Z]/g, '')
    .replace(/KH/g, 'X')
    .replace(/GH/g, 'G')
    .replace(/(CH|SH)/g, 'C')
    .replace(/DJ/g, 'J')
    .replace(/TH/g, 'T')
    .replace(/OU/g, '')
    .replace(/Q/g, 'K')
    .replace(/P/g, 'B')
    .replace(/V/g, 'F')
    .replace(/[IY]+/g, 'Y')
    .replace(/[AEOUW]/g, '');
  // Doubled consonants (SS between vowels, LL for a shadda) are one letter in Arabic script.
  return s.replace(/(.)\1+/g, '$1');
}

function arabicClasses(chars: readonly string[]): string {
  return chars
    .map((c) => ARABIC_CLASS[c] ?? '')
    .join('')
    .replace(/(.)\1+/g, '$1');
}

/**
 * `arabic` with its dotted letters chosen to agree with the `latin` spelling of the same name (one
 * letter at a time, while a swap brings the consonants strictly closer); unchanged when nothing does.
 */
export function restoreDots(arabic: string, latin: string): string {
  const target = latinClasses(latin);
  if (!target) return arabic;
  const chars = [...arabic];
  let best = editDistance(arabicClasses(chars), target);
  // Only a transliteration says which dots: a translated name (الدار البيضاء, CASABLANCA) does not.
  if (best > Math.ceil(target.length / 2) + 1) return arabic;
  for (let improved = true; improved && best > 0;) {
    improved = false;
    for (let i = 0; i < chars.length; i++) {
      const shape = SHAPE_OF.get(chars[i]!);
      if (!shape) continue;
      const own = chars[i]!;
      let choice = own;
      for (const alt of shape) {
        if (alt === own) continue;
        // The final-only forms stay final: ى and ة end a word.
        if ((alt === 'ى' || alt === 'ة') && chars[i + 1] !== undefined && chars[i + 1] !== ' ') continue;
        chars[i] = alt;
        const d = editDistance(arabicClasses(chars), target);
        if (d < best) {
          best = d;
          choice = alt;
          improved = true;
        }
      }
      chars[i] = choice;
    }
  }
  return chars.join('');
}

/**
 * Whether an Arabic reading spells the same name as the Latin one: the same consonants (dots restored,
 * at least two), in no more words. A low-confidence reading that agrees is confirmed.
 */
export function spellsSameName(arabic: string, latin: string): boolean {
  const target = latinClasses(latin);
  if (target.length < 2) return false;
  // No more words than the Latin spelling: a stray mark read as a word must not hide in a doubled letter.
  const words = (s: string) => s.trim().split(/\s+/).length;
  if (words(arabic) > words(latin)) return false;
  // ي is written for a long I and left out for a short one: the other consonants must all agree.
  const consonants = (classes: string) => classes.replace(/Y/g, '').replace(/(.)\1+/g, '$1');
  const own = consonants(arabicClasses([...restoreDots(arabic, latin)]));
  return own.length >= 2 && own === consonants(target);
}
