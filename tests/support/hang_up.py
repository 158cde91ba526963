"""A client that sends a request over a real socket and hangs up before any answer."""

import asyncio
import json
from collections.abc import Callable


async def post_then_hang_up(
    base_url: str, path: str, token: str, body: object, until: Callable[[], bool]
) -> None:
    """POSTs `body` as JSON, waits until `until()` (the server is busy with it), closes."""
    host, port = base_url.removeprefix("http://").split(":")
    _, writer = await asyncio.open_connection(host, int(port))
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
    writer.close()
    await writer.wait_closed()
