"""The client's hang-up, watched by one task for a streamed answer's whole life: while the
first event is awaited (before the response starts, when neither uvicorn nor Litestar
watches the connection) and while the events are written.

It replaces, per streamed run, two tasks and an `asyncio.wait` before the first event and
anyio's task group and cancel scope after it (Litestar's streaming response): a streamed
run's Python work is what 100 open streams take from the GET figures (docs/benchmarks.md).
"""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from litestar.exceptions import HTTPException
from litestar.types import Receive


class ClientGone(HTTPException):
    """The client hung up: nobody reads this answer, but the access log and the metrics do
    (499: nginx's "client closed request")."""

    status_code = 499
    detail = "The client closed the connection"


class HangUp:
    """Watches `receive` for `http.disconnect`. Code under `guard()` is cancelled when it
    comes, and the guard raises `ClientGone`; outside a guard it is only noted, and the
    next guard raises at once. `stop()` ends the watch (the answer is over)."""

    def __init__(self, receive: Receive) -> None:
        self.gone = False
        self._guarded: asyncio.Task[Any] | None = None
        self._cancelled = False  # this watch cancelled the guarded task
        self._watch = asyncio.ensure_future(self._wait(receive))

    async def _wait(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass  # the body is read already: nothing else should come
        self.gone = True
        if self._guarded is not None:
            # The guarded task is suspended inside its guard (this one runs), so the
            # cancellation lands at that await, inside the guard.
            self._cancelled = True
            self._guarded.cancel()

    @contextmanager
    def guard(self) -> Iterator[None]:
        if self.gone:
            raise ClientGone()
        task = asyncio.current_task()
        assert task is not None
        self._guarded = task
        try:
            yield
        except asyncio.CancelledError:
            if self._take_cancel(task):
                raise ClientGone() from None
            raise  # someone else's cancellation (a shutdown): it goes on
        finally:
            self._take_cancel(task)  # if the guarded code turned it into something else
            self._guarded = None

    def _take_cancel(self, task: "asyncio.Task[Any]") -> bool:
        """Withdraws this watch's cancellation, if it made one: True when no other is
        pending on the task."""
        if not self._cancelled:
            return False
        self._cancelled = False
        return task.uncancel() == 0

    def stop(self) -> None:
        self._watch.cancel()
