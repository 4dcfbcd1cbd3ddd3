"""Verifies one Kupe webhook delivery with the Python reference library of Standard Webhooks, as
docs/notifications.md shows: reads {"secret", "body", "headers"} as JSON on standard input, prints the event's
type when it is genuine, and exits 1 with the library's error when it is not
(test/clients/webhook-verifiers.test.ts)."""
import json
import sys

from standardwebhooks.webhooks import Webhook

delivery = json.load(sys.stdin)
try:
    event = Webhook(delivery["secret"]).verify(delivery["body"], delivery["headers"])
except Exception as error:  # the library's refusal: a forged or stale delivery
    print(f"refused: {error}", file=sys.stderr)
    sys.exit(1)
print(event["type"])
