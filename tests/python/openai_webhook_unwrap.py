"""Verifies Sailfin webhook deliveries with the official `openai` Python SDK's `webhooks.unwrap`.

Reads a JSON list of {"body": str, "headers": {name: value}} on stdin and the webhook secret as
argv[1]; prints one JSON line per delivery: the unwrapped event (type, id, data.id) or the error.
Used by tests/src/openai-webhooks.test.ts; the client never makes a request (no base URL needed).
"""

import json
import sys

from openai import InvalidWebhookSignatureError, OpenAI


def main() -> None:
    secret = sys.argv[1]
    client = OpenAI(api_key="unused", webhook_secret=secret)
    for delivery in json.load(sys.stdin):
        try:
            event = client.webhooks.unwrap(delivery["body"], delivery["headers"])
            print(json.dumps({"ok": True, "type": event.type, "id": event.id, "job": event.data.id,
                              "created_at": event.created_at}))
        except InvalidWebhookSignatureError as error:
            print(json.dumps({"ok": False, "error": str(error)}))


if __name__ == "__main__":
    main()
