"""A client that sends a request over a real socket and hangs up before any answer, and
the run it leaves behind, once stopped."""

import asyncio
import json
from collections.abc import Callable

from adapters.in_memory.store import InMemoryStore
from domain.execution import Execution, ExecutionStatus


async def post_then_hang_up(
    base_url: str,
    path: str,
    token: str,
    body: object,
    until: Callable[[], bool],
    read_until: bytes = b"",
) -> None:
    """POSTs `body` as JSON, waits until `until()` (the server is busy with it) and, with
    `read_until`, until the answer so far holds it; closes."""
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    payload = json.dumps(body).encode()
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n".encode()
        + payload
    )
    await writer.drain()
    for _ in range(500):
        if until():
            break
        await asyncio.sleep(0.01)
    assert until(), "the server never got busy with the request"
    answer = b""
    while read_until not in answer:
        piece = await asyncio.wait_for(reader.read(65536), timeout=5)
        assert piece, f"the server ended the answer before {read_until!r}: {answer!r}"
        answer += piece
    writer.close()
    await writer.wait_closed()


async def the_run_once_stopped(store: InMemoryStore) -> Execution:
    """The store's one execution, once it is no longer `running`: its end is recorded by a
    shielded task, after the hang-up is seen."""
    for _ in range(300):
        [execution] = store.executions.values()
        if execution.status is not ExecutionStatus.RUNNING:
            return execution
        await asyncio.sleep(0.01)
    raise AssertionError("the run was not stopped: still running 3 s after the hang-up")
