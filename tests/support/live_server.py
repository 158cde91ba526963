"""An ASGI app served by a real uvicorn on 127.0.0.1, inside the test's event loop: for
clients that must see bytes as they are sent (streams), not a buffered ASGI call."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn

from tests.support.processes import free_port


@asynccontextmanager
async def live_server(app: Any) -> AsyncIterator[str]:
    """Yields the base URL (`http://127.0.0.1:<port>`)."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            if task.done():
                task.result()  # raises why it could not start
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
