"""LiteLLM proxy answers -> the port's value types; a malformed answer is a GatewayError."""

import hashlib
import math
from datetime import UTC, datetime
from typing import Any

import httpx

from adapters.litellm.tool_format import tool_calls_of
from application.gateway_errors import GatewayError
from application.ports.llm_types import ChatResult, KeyInfo, KeyStatus, Usage, VirtualKey

COST_HEADER = "x-litellm-response-cost"


def _malformed(what: str) -> GatewayError:
    return GatewayError(f"the LLM gateway sent a malformed answer ({what})")


def json_body(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise _malformed(what)
    return body


def cost(response: httpx.Response) -> float | None:
    try:
        value = float(response.headers.get(COST_HEADER, ""))
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def chat_result(response: httpx.Response) -> ChatResult:
    """An OpenAI `chat.completion` object; the cost comes from LiteLLM's response header."""
    data = json_body(response, "POST /chat/completions")
    try:
        usage = data["usage"]
        return ChatResult(
            content=data["choices"][0]["message"].get("content") or "",
            model=str(data["model"]),
            usage=Usage(
                int(usage["prompt_tokens"]),
                int(usage["completion_tokens"]),
                int(usage["total_tokens"]),
            ),
            cost=cost(response),
            tool_calls=tool_calls_of(data["choices"][0]["message"]),
        )
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise _malformed("POST /chat/completions") from exc


def virtual_key(response: httpx.Response) -> VirtualKey:
    data = json_body(response, "POST /key/generate")
    key = data.get("key")
    if not isinstance(key, str) or not key.startswith("sk-"):
        raise _malformed("POST /key/generate")
    # Versions differ: `token_id` is the hash; `token` is the hash or the key itself.
    token = data.get("token_id") or data.get("token")
    if not isinstance(token, str) or not token or token == key:
        token = key_hash(key)
    return VirtualKey(key=key, token_id=token)


def key_hash(key: str) -> str:
    """How LiteLLM stores and names a key (litellm.proxy.utils.hash_token)."""
    return hashlib.sha256(key.encode()).hexdigest()


# info_key_fn's `status` (LiteLLM >= 1.10x): "deleted" keys answer from the archive.
_STATUS: dict[str, KeyStatus] = {
    "active": "active",
    "revoked": "revoked",
    "expired": "invalid",
    "deleted": "invalid",
}


def key_info(response: httpx.Response) -> KeyInfo:
    """`{"key": ..., "info": {"status", "spend", "max_budget", "blocked", "expires", ...}}`;
    older versions send no `status`, which is then derived as LiteLLM does."""
    info = json_body(response, "GET /key/info").get("info")
    if not isinstance(info, dict):
        raise _malformed("GET /key/info")
    status: KeyStatus = "revoked" if info.get("blocked") else "active"
    if status == "active" and _expired(info.get("expires")):
        status = "invalid"
    reported = info.get("status")
    if isinstance(reported, str):  # a status this code does not know keeps the derived one
        status = _STATUS.get(reported, status)
    try:
        spend = float(info.get("spend") or 0.0)
        max_budget = info.get("max_budget")
        return KeyInfo(status, spend, None if max_budget is None else float(max_budget))
    except (TypeError, ValueError) as exc:
        raise _malformed("GET /key/info") from exc


def _expired(expires: object) -> bool:
    if not isinstance(expires, str) or not expires:
        return False
    try:
        when = datetime.fromisoformat(expires.replace("Z", "+00:00"))
    except ValueError:
        return False
    return (when if when.tzinfo else when.replace(tzinfo=UTC)) <= datetime.now(UTC)
