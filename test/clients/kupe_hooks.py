"""Schemathesis hooks for Kupe's run (npm run test:clients; test/clients/schemathesis.test.ts)."""
import re
from datetime import datetime, timezone

import schemathesis

# The shape the API schema states for expiresAt (TIMESTAMP_PATTERN in src/domain/validation.ts).
SHAPE = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
                   r"(\.[0-9]{1,9})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$")


@schemathesis.hook
def filter_body(ctx, body):
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
