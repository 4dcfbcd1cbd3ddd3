import { domainToASCII, domainToUnicode } from 'node:url';
import { validationError } from './errors.ts';
import { LONE_SURROGATE } from './validation.ts';
import { EMAIL_MAX_LENGTH, EMAIL_PATTERN } from './vocabulary.ts';

const EMAIL = new RegExp(EMAIL_PATTERN, 'u');
const ASCII = /^[\x20-\x7E]*$/;
/** Combining marks, format characters (zero-width joiners, bidirectional controls), private use, unassigned. */
const UNSAFE = /[\p{M}\p{Cf}\p{Co}\p{Cn}\p{Z}]/u;
const ASCII_LETTER = /[A-Za-z]/;

export function explainEmail(field: string): string {
  return `${field} must be an email address like alice@example.com`;
}

function codePoint(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The first character of `value` that the rule refuses, named for the error message. */
function firstWhere(value: string, refused: (char: string) => boolean): string | undefined {
  for (const char of value) if (refused(char)) return `${JSON.stringify(char)} (${codePoint(char)})`;
  return undefined;
}

/**
 * The one form of an email address that Kupe stores, compares and shows: every path that takes an email (the
 * API, access tokens, console sign-in, invites, the operator CLI) goes through here, so that two distinct
 * addresses never name one account. The rules (docs/security.md, "One person, one account"):
 *
 * - ASCII letters are folded to lowercase (`Kate@Acme.com` is `kate@acme.com`); nothing else is folded.
 *   JavaScript's toLowerCase would also fold the KELVIN SIGN to `k` and `İ` to `i` plus a combining dot,
 *   which made `\u212Aate@acme.com` a second name of `kate@acme.com`.
 * - Text that Unicode's compatibility normalization (NFKC) would change is refused rather than mapped: the
 *   Kelvin sign, the long s, fullwidth letters, ligatures and decomposed accents each have another form that
 *   is the "real" letter, and picking one for the caller would merge addresses.
 * - Outside ASCII: no capital letters (`É`: write `é`; only ASCII case is folded, so a capital would be an
 *   account of its own), no letter whose other case is an ASCII letter (the dotless `ı` upper-cases to `I`),
 *   no combining marks, format characters, spaces or unassigned code points.
 * - A non-ASCII domain is kept in its Unicode form; its punycode form (`xn--...`) is read as the same domain.
 */
export function canonicalEmail(field: string, value: string): string {
  if ([...value].length > EMAIL_MAX_LENGTH || !EMAIL.test(value)) throw validationError(explainEmail(field));
  if (ASCII.test(value)) return canonicalAscii(field, value);
  if (LONE_SURROGATE.test(value)) {
    throw validationError(`${field} must be valid Unicode text (it has a lone surrogate)`);
  }
  const compatibility = firstWhere(value, (char) => char.normalize('NFKC') !== char);
  if (compatibility !== undefined || value.normalize('NFKC') !== value) {
    throw validationError(`${field} must be written in its plain (NFKC) form: ` + (compatibility === undefined
      ? 'it has a letter and an accent written apart; type the accented letter'
      : `${compatibility} stands for another character; type the address with ordinary letters`));
  }
  const unsafe = firstWhere(value, (char) => UNSAFE.test(char));
  if (unsafe !== undefined) throw validationError(`${field} must not contain combining marks, invisible or unassigned characters: ${unsafe}`);
  const capital = firstWhere(value, (char) => !ASCII.test(char) && char.toLowerCase() !== char);
  if (capital !== undefined) throw validationError(`${field} must be written in lowercase outside A-Z: ${capital}`);
  const crossing = firstWhere(value, (char) => !ASCII.test(char) && ASCII_LETTER.test(char.toUpperCase() + char.toLowerCase()));
  if (crossing !== undefined) throw validationError(`${field} must not contain a letter whose other case is an ASCII letter: ${crossing}`);
  const at = value.lastIndexOf('@');
  return `${foldAscii(value.slice(0, at))}@${canonicalDomain(field, foldAscii(value.slice(at + 1)))}`;
}

function foldAscii(text: string): string {
  return text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

function canonicalAscii(field: string, value: string): string {
  const folded = foldAscii(value);
  const at = folded.lastIndexOf('@');
  const domain = folded.slice(at + 1);
  if (!domain.includes('xn--')) return folded;
  // A punycode label is read as the Unicode domain it encodes, so both spellings name one account; that
  // domain must pass the same rules as one typed in Unicode (the canonical form is a fixed point).
  const decoded = `${folded.slice(0, at)}@${canonicalDomain(field, domain)}`;
  return ASCII.test(decoded) ? decoded : canonicalEmail(field, decoded);
}

/** A domain in its Unicode form, when IDNA accepts it unchanged (apart from decoding punycode labels). */
function canonicalDomain(field: string, domain: string): string {
  const ascii = domainToASCII(domain);
  const unicode = ascii === '' ? '' : domainToUnicode(ascii);
  // A punycode label that does not decode is refused on every Node version (20 answers '', 24 keeps the label).
  const undecoded = unicode.split('.').some((label) => label.startsWith('xn--'));
  const accepted = unicode !== '' && !undecoded && (ASCII.test(domain) ? domainToASCII(unicode) === domain : unicode === domain);
  if (!accepted) throw validationError(`${field} has a domain that is not a valid internationalized domain name: ${JSON.stringify(domain)}`);
  return unicode;
}
