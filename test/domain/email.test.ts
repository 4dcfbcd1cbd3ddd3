import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { canonicalEmail } from '../../src/domain/email.ts';
import { AppError } from '../../src/domain/errors.ts';

const refusedFor = (value: string, words: RegExp) => () =>
  assert.throws(() => canonicalEmail('email', value), (e: unknown) => e instanceof AppError && e.code === 'validation_failed' && words.test(e.message),
    `${JSON.stringify(value)} refused, naming the rule (${words})`);

test('ASCII letters fold to lowercase; junk is refused', () => {
  assert.equal(canonicalEmail('email', 'Bob+CI@Acme.COM'), 'bob+ci@acme.com');
  for (const bad of ['bob', 'bob@', '@acme.com', 'bob@acme', 'b ob@acme.com', `${'x'.repeat(250)}@a.io`, 'a\nb@acme.com']) {
    assert.throws(() => canonicalEmail('email', bad), AppError, bad);
  }
});

test('compatibility and case tricks never name an existing address: each is refused with its rule', () => {
  // Each of these was, through toLowerCase, a second spelling of an ASCII address (or a lookalike of one).
  refusedFor('\u212Aate@acme.com', /NFKC.*U\+212A/)();            // KELVIN SIGN -> k
  refusedFor('\u017Fam@acme.com', /NFKC.*U\+017F/)();             // LONG S -> s
  refusedFor('\uFF4Bate@acme.com', /NFKC.*U\+FF4B/)();            // FULLWIDTH k
  refusedFor('kate@\uFF41cme.com', /NFKC.*U\+FF41/)();            // fullwidth in the domain
  refusedFor('\uFB01nance@acme.com', /NFKC.*U\+FB01/)();          // LIGATURE fi
  refusedFor('k\u0131te@acme.com', /other case is an ASCII letter.*U\+0131/)(); // dotless i upper-cases to I
  refusedFor('K\u0130TE@acme.com', /lowercase outside A-Z.*U\+0130/)(); // dotted capital I lower-cases to i + U+0307
  refusedFor('ki\u0307te@acme.com', /combining marks.*U\+0307/)();   // i + COMBINING DOT ABOVE
  refusedFor('ke\u0301@acme.com', /accent written apart/)();        // e + COMBINING ACUTE (NFKC composes it)
  refusedFor('ka\u200Bte@acme.com', /invisible.*U\+200B/)();        // ZERO WIDTH SPACE
  refusedFor('kate\u202E@acme.com', /invisible.*U\+202E/)();        // RIGHT-TO-LEFT OVERRIDE
  refusedFor('stra\u00DFe@acme.com', /other case is an ASCII letter.*U\+00DF/)(); // sharp s upper-cases to SS
  refusedFor('K\u00C9@acme.com', /lowercase outside A-Z/)();
  refusedFor('kate@xn--zz.de', /internationalized domain/)();
});

test('addresses outside ASCII that have one spelling are kept as written', () => {
  assert.equal(canonicalEmail('email', 'k\u00E9@acme.com'), 'k\u00E9@acme.com');
  assert.equal(canonicalEmail('email', '\u674E@\u4F8B\u5B50.\u4E2D\u56FD'), '\u674E@\u4F8B\u5B50.\u4E2D\u56FD');
  assert.equal(canonicalEmail('email', '\u03C3@x.gr'), '\u03C3@x.gr');
  // A domain's punycode form is the same domain.
  assert.equal(canonicalEmail('email', 'Bob@XN--BCHER-KVA.de'), 'bob@b\u00FCcher.de');
  assert.equal(canonicalEmail('email', 'bob@b\u00FCcher.de'), 'bob@b\u00FCcher.de');
});

test('property: the canonical form is a fixed point, and two inputs share one only when they differ in ASCII case', () => {
  const chars = fc.constantFrom(...'aAkKsSiI\u00E9\u00C9\u212A\u017F\u0131\u0130\u0307\u0301\uFF4B\uFB01\u00DF\u03C3\u03A3-+.'.split(''));
  const local = fc.array(chars, { minLength: 1, maxLength: 6 }).map((a) => a.join(''));
  const canonical = (value: string) => {
    try {
      return canonicalEmail('email', value);
    } catch {
      return undefined;
    }
  };
  fc.assert(fc.property(local, local, (a, b) => {
    const x = canonical(`${a}@acme.com`);
    const y = canonical(`${b}@acme.com`);
    if (x !== undefined) assert.equal(canonical(x), x, 'fixed point');
    if (x !== undefined && x === y) assert.equal(a.replace(/[A-Z]/g, (c) => c.toLowerCase()), b.replace(/[A-Z]/g, (c) => c.toLowerCase()));
  }), { numRuns: 2000 });
});

test('a punycode domain decodes to a form that passes the same rules, on every Node version', () => {
  assert.equal(canonicalEmail('email', 'bob@xn--bcher-kva.de'), 'bob@b\u00FCcher.de');
  // xn--fa-hia is "faß": the sharp s is refused typed in Unicode, so it is refused through punycode too.
  assert.throws(() => canonicalEmail('email', 'bob@xn--fa-hia.de'), /other case is an ASCII letter/);
  // Node 20 answers '' for a label that does not decode, Node 24 keeps it: refused either way.
  for (const bad of ['bob@xn--zz.de', 'bob@xn--a.com', 'bob@xn--.com']) assert.throws(() => canonicalEmail('email', bad), /internationalized domain/, bad);
});
