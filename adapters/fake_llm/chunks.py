"""How the offline gateways (fake and sandbox) cut an answer into stream deltas."""

import asyncio
import re
from collections.abc import AsyncIterator

from application.ports.llm_stream import ChatDelta, ChatStreamItem
from application.ports.llm_types import ChatResult

_PIECE = re.compile(r"\s*\S+\s*|\s+")


def pieces(content: str) -> list[str]:
    """A word with the whitespace around it per piece; joined, they are `content` again."""
    return _PIECE.findall(content)


async def stream_of(result: ChatResult) -> AsyncIterator[ChatStreamItem]:
    for piece in pieces(result.content):
        yield ChatDelta(piece)
        await asyncio.sleep(0)  # a real stream yields to the loop between chunks
    yield result
