"""A streamed chat completion from the LiteLLM proxy: OpenAI `chat.completion.chunk` objects
as server-sent events (httpx-sse decodes them), `data: [DONE]` at the end.

The request asks for `stream_options.include_usage`, so the last chunk before `[DONE]`
carries the usage (and no choices). LiteLLM may report an error mid-stream as a
`data: {"error": {...}}` event; like other gateway errors, only its short `type` is kept.
LiteLLM sends no cost header on a stream (the cost is not known yet when headers go out):
it puts the cost in the usage chunk (`usage.cost`), which is where it is read from.
"""

import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import msgspec
from httpx_sse import EventSource, SSEError

from adapters.litellm import parsing
from adapters.litellm.errors import error_type_of
from application.gateway_errors import GatewayError, GatewayTimeout, GatewayUnavailable
from application.ports.llm_stream import ChatDelta, ChatStreamItem
from application.ports.llm_types import ChatResult, Usage

WHAT = "POST /chat/completions"
_decode = msgspec.json.Decoder()


def _malformed() -> GatewayError:
    return GatewayError(f"the LLM gateway sent a malformed stream ({WHAT})")


def _chunk(data: str) -> dict[str, Any]:
    try:
        chunk = _decode.decode(data)
    except msgspec.DecodeError:
        raise _malformed() from None
    if not isinstance(chunk, dict):
        raise _malformed()
    error = chunk.get("error")
    if isinstance(error, dict):
        kind = error_type_of(error)
        where = WHAT + (f": {kind}" if kind else "")
        raise GatewayUnavailable(f"the LLM gateway failed mid-stream ({where})")
    return chunk


def _delta(chunk: dict[str, Any]) -> str:
    choices = chunk.get("choices") or []
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return ""
    delta = choices[0].get("delta")
    content = delta.get("content") if isinstance(delta, dict) else None
    return content if isinstance(content, str) else ""


def _usage(raw: object) -> Usage:
    if not isinstance(raw, dict):
        raise _malformed()
    try:
        return Usage(
            int(raw["prompt_tokens"]), int(raw["completion_tokens"]), int(raw["total_tokens"])
        )
    except (KeyError, TypeError, ValueError):
        raise _malformed() from None


def _cost(raw: object, response: httpx.Response) -> float | None:
    value = raw.get("cost") if isinstance(raw, dict) else None
    if isinstance(value, int | float) and math.isfinite(value) and value >= 0:
        return float(value)
    return parsing.cost(response)


async def items(
    open_response: Callable[[], Awaitable[httpx.Response]],
) -> AsyncIterator[ChatStreamItem]:
    """Deltas as the proxy sends them, then the `ChatResult` (cost None when LiteLLM did
    not say). The response is opened at the first item (its errors are raised there) and
    closed however the items end: also when the consumer stops early, so the proxy sees
    the connection close."""
    response = await open_response()
    # An event stream is always UTF-8 (WHATWG HTML, "Parsing an event stream"), whatever
    # its Content-Type says: set, httpx skips parsing the header's charset for each run.
    response.encoding = "utf-8"
    parts: list[str] = []
    model, usage, done, cost = "", None, False, None
    try:
        async for event in EventSource(response).aiter_sse():
            if event.data == "[DONE]":
                done = True  # read on to the end of the body: the connection is reused
            if done or not event.data:
                continue
            chunk = _chunk(event.data)
            model = str(chunk.get("model") or model)
            if chunk.get("usage") is not None:
                usage = _usage(chunk["usage"])
                cost = _cost(chunk["usage"], response)
            if content := _delta(chunk):
                parts.append(content)
                yield ChatDelta(content)
    except SSEError:  # not text/event-stream (an httpx.TransportError subclass: first)
        raise _malformed() from None
    # Re-raised `from None`: transport texts may quote request details (see retry.py).
    except httpx.TimeoutException as exc:
        raise GatewayTimeout(f"the LLM gateway timed out ({WHAT}: {type(exc).__name__})") from None
    except httpx.TransportError as exc:
        message = f"the LLM gateway connection failed mid-stream ({WHAT}: {type(exc).__name__})"
        raise GatewayUnavailable(message) from None
    finally:
        await response.aclose()
    if not done:
        raise GatewayUnavailable(f"the LLM gateway's stream ended early ({WHAT})")
    if usage is None or not model:
        raise _malformed()
    yield ChatResult("".join(parts), model, usage, cost)
