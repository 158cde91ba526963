"""`LlmGateway` over the LiteLLM proxy's HTTP API: chat, deployments and virtual keys."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Any

import httpx
import msgspec

from adapters.litellm import parsing, streaming
from adapters.litellm.errors import is_not_found, map_error
from adapters.litellm.retry import RetryPolicy, Sleep, send_with_retries
from adapters.litellm.tool_format import message_json, tools_json
from adapters.litellm.transport import KeepAliveTransport
from application.gateway_errors import GatewayError
from application.ports.llm_stream import ChatStreamItem
from application.ports.llm_types import ChatRequest, ChatResult, KeyInfo, VirtualKey

_json = msgspec.json.Encoder()


def _ok(response: httpx.Response) -> bool:
    return response.is_success


def _ok_or_gone(response: httpx.Response) -> bool:
    return response.is_success or is_not_found(response)


def default_transport(
    max_connections: int = 100, keepalive_expiry: float = 4.0
) -> httpx.AsyncBaseTransport:
    """Up to 100 keep-alive connections, each kept for at most 4 s idle (below uvicorn's,
    so LiteLLM's, 5 s idle close: a connection is never reused just as the proxy closes
    it), callers beyond them waiting in arrival order. No transport-level retries:
    `send_with_retries` decides what is safe to repeat. Hand-written, not httpcore's pool,
    for the measured reason in adapters/litellm/transport.py."""
    return KeepAliveTransport(max_connections, keepalive_expiry)


class LiteLlmGateway:
    """One pooled transport shared by every call, a per-call timeout, bounded retries.

    Admin calls, and chat billed to the platform, send `Bearer <master key>`; chat billed to
    a tenant sends `Bearer <virtual key>`. Keys are never logged nor put in error messages.
    Call `aclose` at shutdown (it closes the transport only if this gateway made it).

    Requests go to the transport (`default_transport`) directly, not through
    `httpx.AsyncClient`: the client's layers (auth and redirect flows, cookie jar, URL
    merging, event hooks) cost about half a millisecond of CPU per call and do nothing for
    a JSON API behind one base URL.
    """

    def __init__(
        self,
        base_url: str,
        master_key: str,
        timeout_s: float = 60.0,
        max_retries: int = 2,
        *,
        max_retry_wait_s: float = 5.0,
        sleep: Sleep = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._master_key = master_key
        self._timeout = {"timeout": httpx.Timeout(timeout_s).as_dict()}
        self._owns_transport = transport is None
        self._transport = transport or default_transport()
        self._urls: dict[str, httpx.URL] = {}  # parsed once per path
        self._policy = RetryPolicy(max_retries=max_retries, max_delay_s=max_retry_wait_s)
        self._sleep = sleep

    async def aclose(self) -> None:
        if self._owns_transport:
            await self._transport.aclose()

    def _url(self, path: str) -> httpx.URL:
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = httpx.URL(self._base_url + path)
        return url

    async def _send(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        params: dict[str, str] | None,
        bearer: str,
        *,
        stream: bool = False,
    ) -> httpx.Response:
        """`stream`: a successful response comes back unread; the caller closes it."""
        accept = "text/event-stream" if stream else "application/json"
        headers = {"Authorization": f"Bearer {bearer}", "Accept": accept}
        content = b""
        if body is not None:
            headers["Content-Type"] = "application/json"
            content = _json.encode(body)
        url = self._url(path)
        if params:
            url = url.copy_merge_params(params)
        request = httpx.Request(
            method, url, headers=headers, content=content, extensions=self._timeout
        )
        response = await self._transport.handle_async_request(request)
        if stream and response.is_success:
            return response
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    async def _call(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        bearer: str | None = None,
        classify: Callable[[httpx.Response], GatewayError] | None = None,
        accept: Callable[[httpx.Response], bool] = _ok,
    ) -> httpx.Response:
        what = f"{method} {path}"  # the key of /key/info travels in `params`, never in here
        send = partial(self._send, method, path, body, params, bearer or self._master_key)
        return await send_with_retries(
            send,
            classify=classify or partial(map_error, what=what),
            accept=accept,
            what=what,
            idempotent=method == "GET",
            policy=self._policy,
            sleep=self._sleep,
        )

    async def chat(self, request: ChatRequest) -> ChatResult:
        body: dict[str, Any] = {
            "model": request.model,
            "messages": [message_json(m) for m in request.messages],
            "temperature": request.temperature,
        }
        if request.tools:
            body["tools"] = tools_json(request.tools)
        if request.max_tokens is not None:
            body["max_tokens"] = request.max_tokens
        classify = partial(
            map_error,
            what="POST /chat/completions",
            chat=True,
            virtual_key=request.api_key is not None,
        )
        response = await self._call(
            "POST", "/chat/completions", body=body, bearer=request.api_key, classify=classify
        )
        return parsing.chat_result(response)

    def stream(self, request: ChatRequest) -> AsyncIterator[ChatStreamItem]:
        # The items are read from the response straight (no generator of ours re-yields
        # them here: each layer costs every delta of every stream), which opens it.
        return streaming.items(partial(self._open_stream, request))

    async def _open_stream(self, request: ChatRequest) -> httpx.Response:
        """The body `chat` sends, streamed, with the usage in the last chunk."""
        body: dict[str, Any] = {
            "model": request.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "temperature": request.temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.max_tokens is not None:
            body["max_tokens"] = request.max_tokens
        what = streaming.WHAT
        bearer = request.api_key or self._master_key
        return await send_with_retries(  # retried only before any chunk arrived
            partial(self._send, "POST", "/chat/completions", body, None, bearer, stream=True),
            classify=partial(map_error, what=what, chat=True, virtual_key=bool(request.api_key)),
            accept=_ok,
            what=what,
            idempotent=False,
            policy=self._policy,
            sleep=self._sleep,
        )

    async def register_deployment(
        self,
        model_name: str,
        litellm_model: str,
        provider_api_key: str,
        api_base: str | None = None,
    ) -> str:
        # We pin the id, so it is known whatever shape the answer has.
        model_id = str(uuid.uuid4())
        litellm_params = {"model": litellm_model, "api_key": provider_api_key}
        if api_base:
            litellm_params["api_base"] = api_base
        body = {
            "model_name": model_name,
            "litellm_params": litellm_params,
            "model_info": {"id": model_id},
        }
        response = await self._call("POST", "/model/new", body=body)
        return str(parsing.json_body(response, "POST /model/new").get("model_id") or model_id)

    async def remove_deployment(self, model_id: str) -> None:
        await self._call("POST", "/model/delete", body={"id": model_id}, accept=_ok_or_gone)

    async def create_virtual_key(
        self,
        models: list[str],
        alias: str,
        max_budget: float | None,
        metadata: dict[str, str],
    ) -> VirtualKey:
        body = {
            "models": models,
            "key_alias": alias,
            "max_budget": max_budget,
            "metadata": metadata,
        }
        return parsing.virtual_key(await self._call("POST", "/key/generate", body=body))

    async def key_info(self, key: str) -> KeyInfo:
        # By its hash, as LiteLLM's info_key_fn advises: the key stays out of URLs and the
        # access logs in front of the proxy (it hashes `sk-...` values and takes the rest
        # as hashes).
        params = {"key": parsing.key_hash(key)}
        response = await self._call("GET", "/key/info", params=params, accept=_ok_or_gone)
        if not response.is_success:  # never minted (deleted ones answer from the archive)
            return KeyInfo(status="invalid", spend=0.0, max_budget=None)
        return parsing.key_info(response)

    async def revoke_key(self, key: str) -> None:
        await self._call("POST", "/key/delete", body={"keys": [key]}, accept=_ok_or_gone)
