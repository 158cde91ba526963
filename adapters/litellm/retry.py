"""Bounded retries for gateway calls, only where a second attempt is safe and may help.

Retried: connect errors (the request never left), 429 and 502/503 (refused before any work
was done) and read timeouts of idempotent calls. Never retried: other statuses, and
timeouts of calls that may have run (a chat completion that timed out may be billed).
"""

import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from application.gateway_errors import (
    BudgetExceeded,
    GatewayError,
    GatewayTimeout,
    GatewayUnavailable,
)

RETRYABLE_STATUSES = frozenset({429, 502, 503})
Sleep = Callable[[float], Awaitable[None]]
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = 2
    base_delay_s: float = 0.2
    max_delay_s: float = 5.0  # also the longest Retry-After worth waiting for

    def backoff(self, attempt: int) -> float:
        # Full jitter, so callers that failed together do not retry together.
        ceiling = min(self.max_delay_s, self.base_delay_s * 2**attempt)
        return random.uniform(0.0, ceiling)  # noqa: S311 - jitter, not a secret


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date); None if absent/bad."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


async def send_with_retries(
    send: Callable[[], Awaitable[httpx.Response]],
    *,
    classify: Callable[[httpx.Response], GatewayError],
    accept: Callable[[httpx.Response], bool],
    what: str,
    idempotent: bool,
    policy: RetryPolicy,
    sleep: Sleep,
) -> httpx.Response:
    """`accept` says which responses are answers; `classify` turns the others into errors.
    `what` ("POST /key/delete") is the only request detail that reaches logs and messages."""
    attempt = 0
    while True:
        # Transport errors are re-raised `from None`: their texts may quote request details
        # (h11 quotes bad header values, i.e. keys); the type name is what diagnoses them.
        try:
            response = await send()
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            failure: GatewayError = GatewayUnavailable(
                f"cannot reach the LLM gateway ({what}: {type(exc).__name__})"
            )
            wait = policy.backoff(attempt)
        except httpx.TimeoutException as exc:
            failure = GatewayTimeout(f"the LLM gateway timed out ({what}: {type(exc).__name__})")
            if not (idempotent and isinstance(exc, httpx.ReadTimeout)):
                raise failure from None
            wait = policy.backoff(attempt)
        except httpx.TransportError as exc:
            message = f"the LLM gateway connection failed ({what}: {type(exc).__name__})"
            raise GatewayUnavailable(message) from None
        else:
            if accept(response):
                return response
            failure = classify(response)
            if response.status_code not in RETRYABLE_STATUSES or isinstance(
                failure, BudgetExceeded
            ):
                raise failure
            hint = parse_retry_after(response.headers.get("retry-after"))
            if hint is not None and hint > policy.max_delay_s:
                raise failure  # waiting less than asked would only fail again
            wait = hint if hint is not None else policy.backoff(attempt)
        if attempt >= policy.max_retries:
            raise failure from None
        attempt += 1
        log.warning(
            "LLM gateway %s failed (%s); retry %d/%d in %.2fs",
            what,
            type(failure).__name__,
            attempt,
            policy.max_retries,
            wait,
        )
        await sleep(wait)
