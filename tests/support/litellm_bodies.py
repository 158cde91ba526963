"""Response bodies shaped like a LiteLLM proxy's (v1.7x), for respx routes.

Chat answers are OpenAI `chat.completion` objects with LiteLLM's `x-litellm-*` headers;
errors are ProxyException bodies {"error": {"message", "type", "param", "code"}}, where
`code` is a string and `message` may quote keys (which is why adapters must not copy it).
"""

import hashlib
import json
import time
import uuid
from typing import Any

import httpx

STAMP = "2026-01-05T10:00:00.000000Z"


def error(status: int, message: str, kind: str | None, param: str | None = None) -> httpx.Response:
    body = {"error": {"message": message, "type": kind, "param": param, "code": str(status)}}
    return httpx.Response(status, json=body)


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
        "x-litellm-version": "1.74.9",
    }
    if cost is not None:
        headers["x-litellm-response-cost"] = str(cost)
    return httpx.Response(200, json=body, headers=headers)


def key_record(key: str, request: dict[str, Any]) -> dict[str, Any]:
    """The `info` object of /key/info (the stored LiteLLM_VerificationToken row)."""
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


def generated_key(key: str, record: dict[str, Any]) -> dict[str, Any]:
    """/key/generate's answer: the record plus the key, once, and its hash."""
    token_id = hashlib.sha256(key.encode()).hexdigest()
    extra = {"duration": None, "guardrails": None, "created_by": "default_user_id"}
    return {**record, **extra, "key": key, "token_id": token_id, "token": token_id}


def model_created(model_id: str, request: dict[str, Any]) -> dict[str, Any]:
    """/model/new's answer: the stored row, provider key encrypted with the salt key."""
    return {
        "model_id": model_id,
        "model_name": request["model_name"],
        "litellm_params": {**request["litellm_params"], "api_key": "gAAAAABn0W9Q-encrypted"},
        "model_info": {"id": model_id, "db_model": True},
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
