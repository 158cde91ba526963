"""Inbound signature checks, on the raw body, before anything is parsed.

Every failure is the same `InvalidSignature`: which check failed is never told."""

import hashlib
import hmac
from collections.abc import Mapping

from standardwebhooks.webhooks import Webhook

from domain.errors import InvalidSignature

MAX_DELIVERY_ID = 255
JIRA_SIGNATURE = "x-hub-signature"
JIRA_DELIVERY_ID = "x-atlassian-webhook-identifier"


def _lowered(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


class StandardWebhookVerifier:
    """The Standard Webhooks scheme, with the `standardwebhooks` package: webhook-id,
    webhook-timestamp (300 s tolerance both ways), webhook-signature `v1,<base64>` list;
    HMAC-SHA256 keyed with the secret's decoded bytes over "{id}.{timestamp}.{body}"."""

    def verify(self, body: bytes, headers: Mapping[str, str], secrets: list[str]) -> list[str]:
        wanted = _lowered(headers)
        names = ("webhook-id", "webhook-timestamp", "webhook-signature")
        relevant = {name: wanted[name] for name in names if name in wanted}
        delivery_id = relevant.get("webhook-id", "")
        if not 0 < len(delivery_id) <= MAX_DELIVERY_ID:
            _check_all(secrets, body, relevant)  # the same work as a real check
            raise InvalidSignature()
        if not _check_all(secrets, body, relevant):
            raise InvalidSignature()
        return [delivery_id]


def _check_all(secrets: list[str], body: bytes, headers: dict[str, str]) -> bool:
    # Every secret is tried (no early exit), so the time does not tell which one matched.
    matched = False
    for secret in secrets:
        try:
            Webhook(secret).verify(body, headers, json_parse=False)
            matched = True
        except Exception:  # noqa: S112 - any malformed header or body is just "no match"
            continue
    return matched


class JiraWebhookVerifier:
    """Jira Cloud's own scheme: `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>`
    keyed with the secret as typed into Jira (the whole `whsec_...` string). Jira signs no
    timestamp and not its delivery id, so a delivery is known by both its
    `X-Atlassian-Webhook-Identifier` and the body's hash: a replay is caught either way."""

    def verify(self, body: bytes, headers: Mapping[str, str], secrets: list[str]) -> list[str]:
        wanted = _lowered(headers)
        scheme, _, given = wanted.get(JIRA_SIGNATURE, "").partition("=")
        delivery_id = wanted.get(JIRA_DELIVERY_ID, "")
        matched = False
        for secret in secrets:
            expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            presented = given.strip().lower().encode("utf-8", "replace")
            matched |= hmac.compare_digest(expected.encode(), presented)
        if scheme.strip().lower() != "sha256" or not matched:
            raise InvalidSignature()
        if not 0 < len(delivery_id) <= MAX_DELIVERY_ID:
            raise InvalidSignature()
        return [f"id:{delivery_id}", f"sha256:{hashlib.sha256(body).hexdigest()}"]
