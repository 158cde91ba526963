"""Outbound execution callbacks: signed on the Standard Webhooks scheme, sent through the
SSRF-guarded client, redirects not followed, only a short excerpt of the answer kept."""

from datetime import UTC, datetime

import httpx
from standardwebhooks.webhooks import Webhook

from adapters.net.ssrf import guarded_client
from domain.delivery import MAX_EXCERPT, AttemptOutcome

USER_AGENT = "agentkeel-webhooks/1"


def signed_headers(secret: str, message_id: str, body: bytes, now: datetime) -> dict[str, str]:
    signature = Webhook(secret).sign(message_id, now, body.decode())
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }


async def read_excerpt(response: httpx.Response) -> str:
    """At most MAX_EXCERPT bytes of the body are read (a huge answer is not downloaded)."""
    taken = b""
    async for chunk in response.aiter_bytes():
        taken += chunk
        if len(taken) >= MAX_EXCERPT:
            break
    return taken[:MAX_EXCERPT].decode("utf-8", "replace")


def outcome_of(status: int, excerpt: str) -> AttemptOutcome:
    """2xx delivered; 408, 429 and 5xx worth another try; anything else (a redirect
    included: it is not followed) refused for good."""
    if 200 <= status < 300:
        return AttemptOutcome(True, status_code=status, response_excerpt=excerpt)
    transient = status in (408, 425, 429) or status >= 500
    return AttemptOutcome(False, transient, status, f"the receiver answered HTTP {status}", excerpt)


class HttpCallbackSender:
    def __init__(self, *, allow_private: bool, timeout_s: float = 10.0) -> None:
        self._client = guarded_client(allow_private=allow_private, timeout_s=timeout_s)

    async def post(self, url: str, body: bytes, message_id: str, secret: str) -> AttemptOutcome:
        headers = signed_headers(secret, message_id, body, datetime.now(UTC))
        try:
            async with self._client.stream("POST", url, content=body, headers=headers) as answer:
                return outcome_of(answer.status_code, await read_excerpt(answer))
        except httpx.HTTPError as exc:  # refused address, DNS, connect, timeout, protocol
            return AttemptOutcome(False, True, None, f"{type(exc).__name__}: {exc}"[:MAX_EXCERPT])

    async def aclose(self) -> None:
        await self._client.aclose()
