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

/** Consonant classes without Y: ي is written for a long I and left out for a short one. */
function consonants(classes: string): string {
  return classes.replace(/Y/g, '').replace(/(.)\1+/g, '$1');
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
  const own = consonants(arabicClasses([...restoreDots(arabic, latin)]));
  return own.length >= 2 && own === consonants(target);
}

/** The letters' shapes alone: each dotted letter as the first of its group, hamza carriers as alif. */
function rasm(word: string): string {
  return [...word.replace(/[أإآ]/g, 'ا')].map((c) => SHAPE_OF.get(c)?.[0] ?? c).join('');
}

/**
 * Words of Moroccan addresses that are translated, not transliterated (RUE is زنقة, HAY is حي): a word
 * of the same shape is that word, its dots whatever OCR made of them.
 */
const ADDRESS_WORDS = [
  'زنقة',
  'شارع',
  'حي',
  'الحي',
  'زقاق',
  'درب',
  'ممر',
  'تجزئة',
  'إقامة',
  'عمارة',
  'رقم',
  'شقة',
];

/**
 * `arabic` (an address, several words) with each word's dots chosen from the Latin words it
 * transliterates: the one or two consecutive Latin words whose consonants the restored word spells within
 * one edit (IBN KHALDOUN ↔ ابن خلدون, KENITRA ↔ القنيطرة); address words translated rather than
 * transliterated take the dots of the same-shaped word of ADDRESS_WORDS. Other words are left as read.
 */
export function restoreDotsByWords(arabic: string, latin: string): string {
  const latinWords = latin.split(/\s+/).filter((w) => /[A-Za-z]/.test(w));
  // Long vowels are written or not: words are compared on their other consonants.
  // Both lines give the address in the same order: a word is looked for among the next few Latin words
  // after those the previous word matched; the span it spells best wins, the earliest on a tie. Short
  // words must spell it exactly (ابن is IBN, and one edit from AVENUE).
  let from = 0;
  return arabic
    .split(' ')
    .map((word) => {
      if (!/[\u0621-\u064a]/.test(word)) return word;
      const known = ADDRESS_WORDS.find((w) => rasm(w) === rasm(word));
      if (known) return known;
      let best: { word: string; distance: number; end: number } | undefined;
      for (let i = from; i < Math.min(latinWords.length, from + 3); i++)
        for (let n = 1; n <= 2 && i + n <= latinWords.length; n++) {
          const span = latinWords.slice(i, i + n).join(' ');
          const target = consonants(latinClasses(span));
          if (target.length < 2) continue;
          const restored = restoreDots(word, span);
          const distance = editDistance(consonants(arabicClasses([...restored])), target);
          if (distance > (target.length >= 4 ? 1 : 0)) continue;
          if (!best || distance < best.distance) best = { word: restored, distance, end: i + n };
        }
      if (!best) return word;
      from = best.end;
      return best.word;
    })
    .join(' ');
}
