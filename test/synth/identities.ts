/**
 * Made-up Moroccan identities for synthetic documents: common surnames, given names and cities with their
 * Arabic spellings, combined at random from a seeded PRNG, so that a seed always gives the same people.
 * No combination is meant to be a real person.
 */

/** A seeded PRNG (mulberry32) with the few draws the generators need. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** Uniform in [min, max). */
  float(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  /** Standard normal (Box-Muller). */
  gauss(): number;
}

export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rng: Rng = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    float: (min, max) => min + next() * (max - min),
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[Math.floor(next() * items.length)]!;
    },
    chance: (p) => next() < p,
    gauss: () => {
      const u = Math.max(next(), 1e-12);
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
  };
  return rng;
}

export interface Identity {
  lastName: string;
  firstName: string;
  lastNameArabic: string;
  firstNameArabic: string;
  sex: 'M' | 'F';
  /** ISO 8601 (YYYY-MM-DD). */
  dateOfBirth: string;
  placeOfBirth: string;
  placeOfBirthArabic: string;
  /** The national number (CIN): one or two letters then digits, 7-8 characters. */
  cin: string;
  /** The CNIE card's own number, which the TD1 MRZ carries in its document-number field. */
  cardNumber: string;
  /** Card access number printed on the CNIE front (6 digits). */
  can: string;
  issueDate: string;
  /** Ten years after `issueDate`. */
  expiryDate: string;
  /** The father's given name, as the CNIE back prints it ("Fils de MOHAMED"). */
  fatherName: string;
  fatherNameArabic: string;
  /** The mother's given name and surname ("et de FATIMA BENANI"). */
  motherName: string;
  motherNameArabic: string;
  address: string;
  addressArabic: string;
  /** Civil registry act number printed on the CNIE back, e.g. `123/1983`. */
  civilStatusNumber: string;
  /** Passport number: two letters and seven digits. */
  documentNumber: string;
}

type Pair = readonly [latin: string, arabic: string];

export const SURNAMES: readonly Pair[] = [
  ['EL ALAMI', 'العلمي'],
  ['BENANI', 'بناني'],
  ['EL IDRISSI', 'الإدريسي'],
  ['TAZI', 'التازي'],
  ['FASSI', 'الفاسي'],
  ['BERRADA', 'برادة'],
  ['CHRAIBI', 'الشرايبي'],
  ['AMRANI', 'العمراني'],
  ['ALAOUI', 'العلوي'],
  ['TAHIRI', 'الطاهري'],
  ['BENJELLOUN', 'بنجلون'],
  ['SQALLI', 'الصقلي'],
  ['LAHLOU', 'لحلو'],
  ['OUAZZANI', 'الوزاني'],
  ['SENHAJI', 'الصنهاجي'],
  ['NACIRI', 'الناصري'],
  ['KETTANI', 'الكتاني'],
  ['SLAOUI', 'السلاوي'],
  ['MANSOURI', 'المنصوري'],
  ['BENSAID', 'بنسعيد'],
  ['BAKKALI', 'البقالي'],
  ['MOUSSAOUI', 'الموساوي'],
  ['CHERKAOUI', 'الشرقاوي'],
  ['HASSANI', 'الحسني'],
  ['BELHAJ', 'بلحاج'],
  ['KABBAJ', 'القباج'],
  ['TOUZANI', 'التوزاني'],
  ['SOUSSI', 'السوسي'],
  ['RIFFI', 'الريفي'],
  ['DOUKKALI', 'الدكالي'],
  ['JAMAI', 'الجامعي'],
  ['TEMSAMANI', 'التمسماني'],
  ['SAIDI', 'السعيدي'],
  ['KARIMI', 'الكريمي'],
  ['ZERHOUNI', 'الزرهوني'],
  ['FILALI', 'الفيلالي'],
  ['BOUZIDI', 'البوزيدي'],
  ['ZIANI', 'الزياني'],
  ['OUHADDOU', 'أوحدو'],
  ['AIT SAID', 'آيت سعيد'],
  ['EL OUARDI', 'الوردي'],
  ['BENKIRANE', 'بنكيران'],
];

export const MALE_NAMES: readonly Pair[] = [
  ['MOHAMED', 'محمد'],
  ['YOUSSEF', 'يوسف'],
  ['AHMED', 'أحمد'],
  ['HASSAN', 'حسن'],
  ['OMAR', 'عمر'],
  ['KARIM', 'كريم'],
  ['RACHID', 'رشيد'],
  ['SAID', 'سعيد'],
  ['MEHDI', 'مهدي'],
  ['HAMZA', 'حمزة'],
  ['AYOUB', 'أيوب'],
  ['ANAS', 'أنس'],
  ['ADIL', 'عادل'],
  ['KHALID', 'خالد'],
  ['MUSTAPHA', 'مصطفى'],
  ['ABDELLAH', 'عبد الله'],
  ['IDRISS', 'إدريس'],
  ['HICHAM', 'هشام'],
  ['NABIL', 'نبيل'],
  ['TARIK', 'طارق'],
  ['OTHMANE', 'عثمان'],
  ['ISMAIL', 'إسماعيل'],
];

export const FEMALE_NAMES: readonly Pair[] = [
  ['FATIMA', 'فاطمة'],
  ['KHADIJA', 'خديجة'],
  ['ZAINEB', 'زينب'],
  ['AICHA', 'عائشة'],
  ['MERYEM', 'مريم'],
  ['SALMA', 'سلمى'],
  ['NADIA', 'نادية'],
  ['LATIFA', 'لطيفة'],
  ['SOUAD', 'سعاد'],
  ['HOUDA', 'هدى'],
  ['SANAE', 'سناء'],
  ['IMANE', 'إيمان'],
  ['HAJAR', 'هاجر'],
  ['NAJAT', 'نجاة'],
  ['ASMAE', 'أسماء'],
  ['KAWTAR', 'كوثر'],
  ['RIM', 'ريم'],
  ['GHIZLANE', 'غزلان'],
  ['LAMIAE', 'لمياء'],
  ['NOUHA', 'نهى'],
];

export const CITIES: readonly Pair[] = [
  ['CASABLANCA', 'الدار البيضاء'],
  ['RABAT', 'الرباط'],
  ['FES', 'فاس'],
  ['MARRAKECH', 'مراكش'],
  ['OUARZAZATE', 'ورزازات'],
  ['TANGER', 'طنجة'],
  ['AGADIR', 'أكادير'],
  ['OUJDA', 'وجدة'],
  ['MEKNES', 'مكناس'],
  ['TETOUAN', 'تطوان'],
  ['KENITRA', 'القنيطرة'],
  ['SAFI', 'آسفي'],
  ['EL JADIDA', 'الجديدة'],
  ['NADOR', 'الناظور'],
  ['BENI MELLAL', 'بني ملال'],
  ['TAZA', 'تازة'],
  ['ERRACHIDIA', 'الرشيدية'],
  ['LAAYOUNE', 'العيون'],
  ['ESSAOUIRA', 'الصويرة'],
  ['KHOURIBGA', 'خريبكة'],
  ['SETTAT', 'سطات'],
  ['LARACHE', 'العرائش'],
  ['TIZNIT', 'تيزنيت'],
  ['SALE', 'سلا'],
];

const STREET_TYPES: readonly Pair[] = [
  ['RUE', 'زنقة'],
  ['AVENUE', 'شارع'],
  ['BD', 'شارع'],
];

const STREETS: readonly Pair[] = [
  ['IBN BATOUTA', 'ابن بطوطة'],
  ['IBN SINA', 'ابن سينا'],
  ['IBN KHALDOUN', 'ابن خلدون'],
  ['AL MASSIRA', 'المسيرة'],
  ['AL QODS', 'القدس'],
  ['ALLAL EL FASSI', 'علال الفاسي'],
  ['AL ANDALOUS', 'الأندلس'],
  ['ZERKTOUNI', 'الزرقطوني'],
  ['AL WAHDA', 'الوحدة'],
  ['AL AMAL', 'الأمل'],
  ['AL FIDA', 'الفداء'],
  ['AL MOUKAWAMA', 'المقاومة'],
];

const QUARTERS: readonly Pair[] = [
  ['HAY RIAD', 'حي الرياض'],
  ['HAY SALAM', 'حي السلام'],
  ['HAY NAHDA', 'حي النهضة'],
  ['MAARIF', 'المعاريف'],
  ['AGDAL', 'أكدال'],
  ['HAY HASSANI', 'الحي الحسني'],
  ['HAY EL FATH', 'حي الفتح'],
  ['TABRIQUET', 'تابريكت'],
];

/** Region prefixes seen on CIN numbers. */
const CIN_PREFIXES = ['A', 'B', 'BE', 'BH', 'BJ', 'BK', 'C', 'CD', 'D', 'E', 'EE', 'F', 'G', 'H', 'I', 'J'];
const CIN_PREFIXES_2 = ['JA', 'JB', 'K', 'L', 'M', 'N', 'P', 'PA', 'Q', 'R', 'S', 'T', 'U', 'W', 'X', 'Z'];
const LETTERS = 'ABCDEFGHJKLMNPRSTUVWXYZ';

const iso = (d: Date): string => d.toISOString().slice(0, 10);
const dayMs = 86_400_000;

function digits(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String(rng.int(0, 9));
  return s;
}

function letters(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += LETTERS.charAt(rng.int(0, LETTERS.length - 1));
  return s;
}

function randomDate(rng: Rng, from: string, to: string): Date {
  const a = Date.parse(`${from}T00:00:00Z`);
  const b = Date.parse(`${to}T00:00:00Z`);
  return new Date(a + rng.int(0, Math.max(0, Math.round((b - a) / dayMs))) * dayMs);
}

/** The same day `years` later (29 February becomes 1 March). */
function addYears(date: Date, years: number): Date {
  return new Date(Date.UTC(date.getUTCFullYear() + years, date.getUTCMonth(), date.getUTCDate()));
}

export function randomIdentity(rng: Rng): Identity {
  const sex = rng.chance(0.5) ? 'M' : 'F';
  const [lastName, lastNameArabic] = rng.pick(SURNAMES);
  const [firstName, firstNameArabic] = rng.pick(sex === 'M' ? MALE_NAMES : FEMALE_NAMES);
  const [placeOfBirth, placeOfBirthArabic] = rng.pick(CITIES);
  const [fatherName, fatherNameArabic] = rng.pick(MALE_NAMES);
  const [motherFirst, motherFirstArabic] = rng.pick(FEMALE_NAMES);
  let mother = rng.pick(SURNAMES);
  if (mother[0] === lastName) mother = rng.pick(SURNAMES);

  // About one card in six has expired: issued 2008-2015 (ten-year validity).
  const expired = rng.chance(0.17);
  const birth = randomDate(rng, '1950-01-01', expired ? '1996-12-31' : '2005-12-31');
  const adult = addYears(birth, 18);
  const [from, to] = expired ? ['2008-01-01', '2015-12-31'] : ['2016-06-01', '2025-12-31'];
  const earliest = adult.getTime() > Date.parse(from) ? iso(adult) : from;
  const issue = randomDate(rng, earliest, earliest > to ? earliest : to);
  const expiry = addYears(issue, 10);

  const prefix = rng.pick(rng.chance(0.5) ? CIN_PREFIXES : CIN_PREFIXES_2);
  const cin = prefix + digits(rng, rng.int(7, 8) - prefix.length);

  const [city, cityArabic] = rng.chance(0.6) ? [placeOfBirth, placeOfBirthArabic] : rng.pick(CITIES);
  const number = rng.int(1, 180);
  const [streetType, streetTypeArabic] = rng.pick(STREET_TYPES);
  const [street, streetArabic] = rng.pick(STREETS);
  const [quarter, quarterArabic] = rng.pick(QUARTERS);

  return {
    lastName,
    firstName,
    lastNameArabic,
    firstNameArabic,
    sex,
    dateOfBirth: iso(birth),
    placeOfBirth,
    placeOfBirthArabic,
    cin,
    cardNumber: letters(rng, 3) + digits(rng, 5),
    can: digits(rng, 6),
    issueDate: iso(issue),
    expiryDate: iso(expiry),
    fatherName,
    fatherNameArabic,
    motherName: `${motherFirst} ${mother[0]}`,
    motherNameArabic: `${motherFirstArabic} ${mother[1]}`,
    address: `${number} ${streetType} ${street} ${quarter} ${city}`,
    addressArabic: `${number} ${streetTypeArabic} ${streetArabic} ${quarterArabic} ${cityArabic}`,
    civilStatusNumber: `${rng.int(1, 999)}/${birth.getUTCFullYear()}`,
    documentNumber: letters(rng, 2) + digits(rng, 7),
  };
}

/** `YYYY-MM-DD` → `DD/MM/YYYY`, as the documents print dates. */
export function dmy(isoDate: string): string {
  const [y, m, d] = isoDate.split('-');
  return `${d}/${m}/${y}`;
}
