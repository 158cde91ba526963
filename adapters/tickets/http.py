"""What both ticket adapters share: one POST through the SSRF-guarded client, and the
outcome it had."""

from typing import Any

import httpx

from adapters.webhooks.callbacks import outcome_of, read_excerpt
from domain.delivery import MAX_EXCERPT, AttemptOutcome


async def post_once(client: httpx.AsyncClient, url: str, **request: Any) -> AttemptOutcome:
    try:
        async with client.stream("POST", url, **request) as answer:
            return outcome_of(answer.status_code, await read_excerpt(answer))
    except httpx.HTTPError as exc:
        return AttemptOutcome(False, True, None, f"{type(exc).__name__}: {exc}"[:MAX_EXCERPT])
