"""Schemathesis hooks for Kupe's run (npm run test:clients; test/clients/schemathesis.test.ts)."""
import re
import unicodedata
from datetime import datetime, timezone

import schemathesis

# The shape the API schema states for expiresAt (TIMESTAMP_PATTERN in src/domain/validation.ts).
SHAPE = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
                   r"(\.[0-9]{1,9})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$")


@schemathesis.hook
def filter_body(ctx, body):
    """Bodies whose values are of the documented shape but break a rule no pattern can state: see below."""
    return keeps_expiry(body) and (not isinstance(body, dict) or _keeps_email(body.get("email")))


def keeps_expiry(body):
    """Keep an expiresAt of the documented shape only when it names a real instant in the future.

    "In the future" is a rule of time and "a real date" (no 30 February) a rule of the calendar: neither fits
    in a JSON Schema pattern, and the API answers both with 400 as documented. Values of another shape are
    kept: they test the schema's own rule.
    """
    if not isinstance(body, dict) or not isinstance(body.get("expiresAt"), str):
        return True
    text = body["expiresAt"]
    if not SHAPE.match(text):
        return True
    try:
        instant = datetime.fromisoformat(re.sub(r"(\.[0-9]{6})[0-9]+", r"\1", text.upper()))
    except ValueError:
        return False
    return instant > datetime.now(timezone.utc)


# The shape the API schema states for emails (EMAIL_PATTERN in src/domain/vocabulary.ts).
EMAIL_SHAPE = re.compile(r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s\x00-\x1f\x7f-\x9f]+\.[^@\s\x00-\x1f\x7f-\x9f]+$")


def canonical_email(text):
    """Whether an email of the documented shape is in the one canonical form Kupe accepts.

    The rules of src/domain/email.ts (docs/security.md, "One person, one account"): Unicode compatibility
    normalization, letter case and character categories do not fit in a JSON Schema pattern, and the API
    answers them with 400 as documented. This is kept conservative: a non-ASCII domain or a punycode label
    (whose validity is IDNA's, which Python's codec reads differently from Node's) is not generated.
    """
    local, _, domain = text.rpartition("@")
    if not domain.isascii() or "xn--" in domain.lower():
        return False
    if text.isascii():
        return True
    if unicodedata.normalize("NFKC", text) != text:
        return False
    for char in text:
        if char.isascii():
            continue
        if unicodedata.normalize("NFKC", char) != char or unicodedata.category(char)[0] in "MZ" \
                or unicodedata.category(char) in ("Cf", "Co", "Cn", "Cs"):
            return False
        if char.lower() != char or any(c.isascii() and c.isalpha() for c in char.upper() + char.lower()):
            return False
    return True


def _keeps_email(value):
    """An email of the documented shape is kept only in canonical form; other shapes test the schema's rule."""
    return not isinstance(value, str) or not EMAIL_SHAPE.match(value) or canonical_email(value)


@schemathesis.hook
def filter_path_parameters(ctx, path_parameters):
    """The same for an email in the path (members/{email}); the fuzzing phase draws path parameters without it
    (test/clients/schemathesis.test.ts takes a 400 there)."""
    return not isinstance(path_parameters, dict) or _keeps_email(path_parameters.get("email"))
