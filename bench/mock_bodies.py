"""The mock upstream's unstreamed answers (bench/mock_upstream.py), shaped like a LiteLLM
v1.7x proxy's (tests/support/litellm_bodies.py): the fixed chat completion with its cost
header, built once, and the key records of /key/generate and /key/info."""

import json
import time
import uuid
from typing import Any

STAMP = "2026-01-05T10:00:00.000000Z"
CONTENT = (
    "Unit tests catch regressions early, document the intended behaviour of the code and "
    "make refactoring safe, so a team can change things quickly without fear of breaking "
    "what already works."
)


def _completion_body() -> bytes:
    completion_tokens = len(CONTENT.split())
    prompt_tokens = 31
    body = {
        "id": "chatcmpl-" + uuid.uuid4().hex[:29],
        "created": int(time.time()),
        "model": "gpt-4o-mini-2024-07-18",
        "object": "chat.completion",
        "system_fingerprint": "fp_560af6e559",
        "choices": [
            {
                "finish_reason": "stop",
                "index": 0,
                "message": {
                    "content": CONTENT,
                    "role": "assistant",
                    "tool_calls": None,
                    "function_call": None,
                },
            }
        ],
        "usage": {
            "completion_tokens": completion_tokens,
            "prompt_tokens": prompt_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "completion_tokens_details": None,
            "prompt_tokens_details": {"audio_tokens": None, "cached_tokens": 0},
        },
        "service_tier": "default",
    }
    return json.dumps(body, separators=(",", ":")).encode()


CHAT_BODY = _completion_body()
CHAT_COST = "0.00000465"
_CHAT_HEADERS = (
    b"x-litellm-call-id: 6b0f7c2e-9a51-4b8e-a0d4-3f1f2c8e9d10\r\n"
    b"x-litellm-model-api-base: https://api.openai.com\r\n"
    b"x-litellm-version: 1.74.9\r\n"
    b"x-litellm-response-cost: " + CHAT_COST.encode() + b"\r\n"
)
_REASONS = {200: b"OK", 400: b"Bad Request", 404: b"Not Found", 405: b"Method Not Allowed"}


def _response(status: int, body: bytes, extra: bytes = b"", close: bool = False) -> bytes:
    return (
        b"HTTP/1.1 %d %s\r\n" % (status, _REASONS.get(status, b"OK"))
        + b"content-type: application/json\r\n"
        + b"content-length: %d\r\n" % len(body)
        + extra
        + (b"connection: close\r\n" if close else b"")
        + b"\r\n"
        + body
    )


# The hot path's whole answer, built once.
CHAT_RESPONSE = _response(200, CHAT_BODY, _CHAT_HEADERS)
CHAT_RESPONSE_CLOSING = _response(200, CHAT_BODY, _CHAT_HEADERS, close=True)


def json_response(status: int, data: Any, close: bool) -> bytes:
    return _response(status, json.dumps(data, separators=(",", ":")).encode(), close=close)


def key_record(key: str, request: dict[str, Any]) -> dict[str, Any]:
    return {
        "key_name": f"sk-...{key[-4:]}",
        "key_alias": request.get("key_alias"),
        "spend": 0.0,
        "max_budget": request.get("max_budget"),
        "expires": None,
        "models": request.get("models", []),
        "aliases": {},
        "config": {},
        "user_id": None,
        "team_id": None,
        "permissions": {},
        "max_parallel_requests": None,
        "metadata": request.get("metadata", {}),
        "blocked": None,
        "tpm_limit": None,
        "rpm_limit": None,
        "budget_duration": None,
        "budget_reset_at": None,
        "allowed_cache_controls": [],
        "model_spend": {},
        "model_max_budget": {},
        "soft_budget_cooldown": False,
        "litellm_budget_table": None,
        "created_at": STAMP,
        "updated_at": STAMP,
    }
