"""Reading server-sent events in tests (httpx-sse, the maintained decoder)."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import EventSource


@dataclass(frozen=True)
class Event:
    event: str
    data: Any
    id: str = ""


async def events_of(response: httpx.Response) -> AsyncIterator[Event]:
    async for sse in EventSource(response).aiter_sse():
        data = json.loads(sse.data) if sse.data and sse.data != "[DONE]" else sse.data
        yield Event(sse.event, data, sse.id)


async def all_events(response: httpx.Response) -> list[Event]:
    return [e async for e in events_of(response)]
