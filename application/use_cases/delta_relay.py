"""A queued run's deltas, published to its event log in order without holding up the
gateway's stream.

The first delta goes out at once; deltas that come while a publish is still out wait and
go together, joined into one `delta` event, in the next. A gateway that streams faster
than the log takes events (the offline gateways cut an answer into words, all at once)
then costs a few publishes per run, not one per word, and a slow one loses nothing: each
delta still goes out as soon as the one before it is published.
"""

import asyncio
import uuid

from application.ports.execution_events import ExecutionEventLog


class DeltaRelay:
    def __init__(self, events: ExecutionEventLog, execution_id: uuid.UUID) -> None:
        self._events, self._id = events, execution_id
        self._pending: list[str] = []
        self._sending: asyncio.Task[None] | None = None

    def add(self, content: str) -> None:
        self._pending.append(content)
        if self._sending is None:
            self._sending = asyncio.ensure_future(self._send_pending())

    async def _send_pending(self) -> None:
        try:
            while self._pending:
                content, self._pending = "".join(self._pending), []
                await self._events.publish(self._id, "delta", {"content": content})
        finally:
            self._sending = None

    async def flush(self) -> None:
        """Returns once every delta added so far is published."""
        if self._sending is not None:
            await asyncio.shield(self._sending)

    def cancel(self) -> None:
        """The run is over without an answer: what is not published yet is dropped."""
        self._pending = []
        if self._sending is not None:
            self._sending.cancel()
