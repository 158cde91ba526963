"""LiteLLM proxy error responses -> the port's `GatewayError` family.

LiteLLM answers errors as {"error": {"message", "type", "param", "code"}}. Its `message` may
quote keys (provider keys, virtual keys, key hashes), so it never reaches our messages; only
the HTTP status and LiteLLM's short machine-readable `type` do.
"""

import re
from typing import Any

import httpx

from adapters.litellm.retry import parse_retry_after
from application.gateway_errors import (
    BudgetExceeded,
    GatewayError,
    GatewayTimeout,
    GatewayUnavailable,
    InvalidProviderKey,
    RateLimited,
    UnknownVirtualKey,
)

# How LiteLLM says "I do not accept the key you called me with" (a provider refusing the
# tenant's provider key arrives as 401 without these types). LiteLLM also labels any
# HTTPException of its admin routes "auth_error", hence the status check.
_CALLER_KEY_REJECTED = frozenset({"auth_error", "token_not_found_in_db"})
_SAFE_TYPE = re.compile(r"[a-z_]{1,40}")


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def error_type(response: httpx.Response) -> str | None:
    return error_type_of(_error_body(response))


def error_type_of(error: dict[str, Any]) -> str | None:
    """The `type` of a LiteLLM error object, if it is a short machine-readable word."""
    kind = error.get("type")
    return kind if isinstance(kind, str) and _SAFE_TYPE.fullmatch(kind) else None


def is_not_found(response: httpx.Response) -> bool:
    """Missing key or model: 404 in current LiteLLM, 400 "... not found ..." in older ones."""
    if response.status_code == 404:
        return True
    return response.status_code == 400 and "not found" in response.text.lower()


def map_error(
    response: httpx.Response, what: str, *, chat: bool = False, virtual_key: bool = False
) -> GatewayError:
    status, kind = response.status_code, error_type(response)
    where = f"{what}: HTTP {status}" + (f", {kind}" if kind else "")
    if kind == "budget_exceeded":
        return BudgetExceeded(f"the virtual key has spent its budget ({where})")
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return RateLimited(retry_after, f"the LLM gateway is rate limiting ({where})")
    if kind == "expired_key" or (status in (401, 403) and kind in _CALLER_KEY_REJECTED):
        if virtual_key:
            return UnknownVirtualKey(f"the virtual key is unknown, revoked or expired ({where})")
        return GatewayError(f"the LLM gateway refused the master key ({where})")
    if chat and status in (401, 403) and not (kind or "").endswith("model_access_denied"):
        return InvalidProviderKey(f"the LLM provider rejected the API key ({where})")
    if status in (408, 504):
        return GatewayTimeout(f"the LLM gateway timed out ({where})")
    if status >= 500:
        return GatewayUnavailable(f"the LLM gateway failed ({where})")
    return GatewayError(f"the LLM gateway refused the request ({where})")
