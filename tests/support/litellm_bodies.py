"""Response bodies shaped like the LiteLLM proxy's (the version the Makefile pins,
LITELLM_VERSION), for the respx emulator. docs/litellm-emulation.md says which source
function each shape comes from.

Errors are ProxyException bodies {"error": {"message", "type", "param", "code"}} with
`code` a string (ProxyException.to_dict via openai_exception_handler). A FastAPI
HTTPException raised inside a handler is turned into one by the handler's own `except`:
`message` is then str(detail), a Python repr when the detail is a dict, which is why
adapters must never copy messages (they may quote keys too).
"""

import hashlib
import json
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

STAMP = "2026-01-05T10:00:00.000000Z"
LITELLM_VERSION = "1.108.7"


def hash_token(token: str) -> str:
    """litellm.proxy.utils.hash_token."""
    return hashlib.sha256(token.encode()).hexdigest()


def hash_token_if_needed(token: str) -> str:
    """litellm.proxy.utils.hash_token_if_needed: `sk-...` is a key, anything else a hash."""
    return hash_token(token) if token.startswith("sk-") else token


def new_key() -> str:
    """generate_key_helper_fn: f"sk-{secrets.token_urlsafe(LENGTH_OF_LITELLM_GENERATED_KEY)}"."""
    return f"sk-{secrets.token_urlsafe(16)}"


def error(status: int, message: str, kind: str | None, param: str | None = None) -> httpx.Response:
    body = {"error": {"message": message, "type": kind, "param": param, "code": str(status)}}
    return httpx.Response(status, json=body)


def key_route_http_error(status: int, detail: dict[str, str]) -> httpx.Response:
    """An HTTPException in a /key/* handler, through handle_exception_on_proxy."""
    return error(status, str(detail), "internal_server_error", None)


def model_route_http_error(status: int, detail: dict[str, str]) -> httpx.Response:
    """An HTTPException in add_new_model / delete_model, through their own `except`."""
    return error(status, str(detail), "auth_error", "None")


def validation_error(loc: list[str]) -> httpx.Response:
    """FastAPI's RequestValidationError for a pydantic request model."""
    detail = [{"type": "missing", "loc": ["body", *loc], "msg": "Field required", "input": {}}]
    return httpx.Response(422, json={"detail": detail})


def completion(
    content: str, model: str, prompt_tokens: int, cost: float | None, *, truncated: bool = False
) -> httpx.Response:
    completion_tokens = len(content.split())
    message = {"content": content, "role": "assistant", "tool_calls": None, "function_call": None}
    body = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:29]}",
        "created": int(time.time()),
        "model": model,
        "object": "chat.completion",
        "system_fingerprint": "fp_560af6e559",
        "choices": [
            {"finish_reason": "length" if truncated else "stop", "index": 0, "message": message}
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
    headers = {
        "x-litellm-call-id": str(uuid.uuid4()),
        "x-litellm-model-api-base": "https://api.openai.com",
        "x-litellm-version": LITELLM_VERSION,
    }
    if cost is not None:
        headers["x-litellm-response-cost"] = str(cost)
    return httpx.Response(200, json=body, headers=headers)


def key_record(key: str, request: dict[str, Any]) -> dict[str, Any]:
    """The stored LiteLLM_VerificationToken row (generate_key_helper_fn's key_data), with
    its hash in `token`; /key/info answers it without `token`."""
    return {
        "token": hash_token(key),
        "key_name": f"sk-...{key[-4:]}",  # abbreviate_api_key
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
        "litellm_budget_table": None,
        "created_at": STAMP,
        "updated_at": STAMP,
    }


def generated_key(key: str, record: dict[str, Any]) -> dict[str, Any]:
    """/key/generate's answer: the row plus the key, once; `token` remapped to the hash."""
    extra = {"duration": None, "guardrails": None, "created_by": "default_user_id"}
    return {**record, **extra, "key": key, "token_id": record["token"], "soft_budget": None}


def key_info(passed: str, record: dict[str, Any], status: str) -> dict[str, Any]:
    """info_key_fn: the key echoed as passed in, the row minus its hash, a derived status."""
    info = {k: v for k, v in record.items() if k != "token"}
    return {"key": passed, "info": {**info, "status": status}}


def archived(record: dict[str, Any]) -> dict[str, Any]:
    """persist_deleted_verification_tokens: the row kept in LiteLLM_DeletedVerificationToken."""
    deleted_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return {**record, "deleted_at": deleted_at, "deleted_by": "default_user_id"}


def model_created(model_id: str, request: dict[str, Any]) -> dict[str, Any]:
    """add_model_to_db's row: the provider key encrypted with the salt key."""
    return {
        "model_id": model_id,
        "model_name": request["model_name"],
        "litellm_params": {**request["litellm_params"], "api_key": "gAAAAABn0W9Q-encrypted"},
        "model_info": {**(request.get("model_info") or {}), "id": model_id, "db_model": True},
        "created_at": STAMP,
        "created_by": "default_user_id",
        "updated_at": STAMP,
        "updated_by": "default_user_id",
    }


def stream(
    pieces: list[str], model: str, prompt_tokens: int, cost: float | None, *, done: bool = True
) -> httpx.Response:
    """A streamed `chat.completion.chunk` answer as LiteLLM 1.108 sends it: a role chunk,
    content chunks, a finish chunk, the usage chunk (cost inside, no cost header), [DONE]."""
    base: dict[str, Any] = {
        "id": f"chatcmpl-{uuid.uuid4()}",
        "object": "chat.completion.chunk",
        "model": model,
        "created": int(time.time()),
    }
    chunks = [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": piece}}]}
        if index == 0
        else {**base, "choices": [{"index": 0, "delta": {"content": piece}}]}
        for index, piece in enumerate(pieces)
    ]
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    completion_tokens = len("".join(pieces).split())
    usage: dict[str, Any] = {
        "completion_tokens": completion_tokens,
        "prompt_tokens": prompt_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    if cost is not None:
        usage["cost"] = cost
    chunks.append({**base, "choices": [{"index": 0, "delta": {}}], "usage": usage})
    lines = [f"data: {json.dumps(chunk)}\n\n" for chunk in chunks]
    if done:
        lines.append("data: [DONE]\n\n")
    headers = {"content-type": "text/event-stream; charset=utf-8", "x-litellm-version": "1.108.7"}
    return httpx.Response(200, content="".join(lines).encode(), headers=headers)
