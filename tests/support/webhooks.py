"""Signing test webhooks the way senders do (the `standardwebhooks` package, Jira's HMAC)."""

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

TICKET = {"ticket_id": "T-1", "title": "Printer jammed", "description": "Floor 3, again."}


def ticket_body(**fields: Any) -> bytes:
    return json.dumps({**TICKET, **fields}).encode()


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    to_sign = f"{msg_id}.{timestamp}.".encode() + body
    # Written out (not the package's sign()) so that the scheme itself is pinned.
    key = base64.b64decode(secret.removeprefix("whsec_"))
    return "v1," + base64.b64encode(hmac.new(key, to_sign, hashlib.sha256).digest()).decode()


def signed(
    secret: str,
    body: bytes,
    *,
    msg_id: str | None = None,
    timestamp: int | None = None,
) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": signature(secret, msg_id, ts, body),
        "content-type": "application/json",
    }


def jira_signed(secret: str, body: bytes, delivery_id: str | None = None) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-Hub-Signature": f"sha256={digest}",
        "X-Atlassian-Webhook-Identifier": delivery_id or str(uuid.uuid4()),
        "content-type": "application/json",
    }


def jira_issue(key: str = "OPS-7", summary: str = "VPN down") -> bytes:
    return json.dumps(
        {
            "timestamp": int(time.time() * 1000),
            "webhookEvent": "jira:issue_created",
            "issue": {
                "id": "10001",
                "key": key,
                "fields": {
                    "summary": summary,
                    "description": {
                        "type": "doc",
                        "version": 1,
                        "content": [
                            {"type": "paragraph", "content": [{"type": "text", "text": "Since 9"}]}
                        ],
                    },
                    "priority": {"name": "High"},
                    "issuetype": {"name": "Incident"},
                },
            },
        }
    ).encode()
