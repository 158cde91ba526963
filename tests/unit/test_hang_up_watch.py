"""The hang-up watch (entrypoints/http/hang_up.py): a disconnect cancels what runs under
its guard, and only that; other cancellations are left alone."""

import asyncio
from typing import Any

import pytest

from entrypoints.http.hang_up import ClientGone, HangUp


class Connection:
    """An ASGI `receive` whose client hangs up when told to."""

    def __init__(self) -> None:
        self.hung_up = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        await self.hung_up.wait()
        return {"type": "http.disconnect"}


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_hang_up_cancels_the_guarded_wait_and_raises_client_gone() -> None:
    connection, never = Connection(), asyncio.Event()
    hang_up = HangUp(connection.receive)  # type: ignore[arg-type]

    async def hang_up_while_waiting() -> None:
        with hang_up.guard():
            connection.hung_up.set()
            await never.wait()

    async def guarded() -> str:
        with pytest.raises(ClientGone):
            await hang_up_while_waiting()
        task = asyncio.current_task()
        assert task is not None and task.cancelling() == 0  # nothing left to land later
        await asyncio.sleep(0)  # and the task runs on
        return "went on"

    assert await asyncio.wait_for(guarded(), timeout=2) == "went on"
    assert hang_up.gone


async def test_a_hang_up_between_guards_is_noted_and_the_next_guard_refuses() -> None:
    connection = Connection()
    hang_up = HangUp(connection.receive)  # type: ignore[arg-type]
    connection.hung_up.set()
    await _settle()  # nothing is guarded: nothing is cancelled
    assert hang_up.gone
    ran = False

    def run_guarded() -> None:
        nonlocal ran
        with hang_up.guard():
            ran = True

    with pytest.raises(ClientGone):
        run_guarded()
    assert not ran


async def test_someone_elses_cancellation_goes_on() -> None:
    connection, never = Connection(), asyncio.Event()
    hang_up = HangUp(connection.receive)  # type: ignore[arg-type]

    async def guarded() -> None:
        with hang_up.guard():
            await never.wait()

    task = asyncio.ensure_future(guarded())
    await _settle()
    task.cancel()  # a shutdown, say
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not hang_up.gone
    hang_up.stop()


async def test_a_stopped_watch_sees_no_hang_up() -> None:
    connection = Connection()
    hang_up = HangUp(connection.receive)  # type: ignore[arg-type]
    with hang_up.guard():
        await asyncio.sleep(0)
    hang_up.stop()
    connection.hung_up.set()
    await _settle()
    assert not hang_up.gone
