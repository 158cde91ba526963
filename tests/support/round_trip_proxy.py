"""A TCP relay in front of PostgreSQL that sees what the client sends and counts how often
it waits: a round trip is the server answering after the client sent something.

It reads the frontend messages (protocol 3) so a test can see each round trip's SQL: the
text of a Parse or a simple Query, or, for a Bind of a statement prepared earlier on that
connection, the text it was prepared with. Its own thread and event loop, so that code
under test that blocks (a sync engine's probe) cannot stall it.
"""

import asyncio
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from adapters.sqlalchemy.urls import sqlalchemy_url

_UNTYPED_REQUESTS = {80877103, 80877104}  # SSLRequest, GSSENCRequest: a startup follows


@dataclass
class RoundTrip:
    statements: list[str] = field(default_factory=list)  # in order: Parse, Query, Bind
    parsed: list[str] = field(default_factory=list)  # the texts sent with a Parse or Query
    parsed_names: set[str] = field(default_factory=set)
    raw: bytearray = field(default_factory=bytearray)  # every byte the client sent


class _Conversation:
    """One client connection's messages."""

    def __init__(self, proxy: "RoundTripProxy") -> None:
        self.proxy, self.buffer, self.started = proxy, bytearray(), False
        self.prepared: dict[str, str] = {}
        self.pending: RoundTrip | None = None

    def client_sent(self, data: bytes) -> None:
        if self.pending is None:
            self.pending = RoundTrip()
        self.pending.raw += data
        self.buffer += data
        while self._one_message(self.pending):
            pass

    def server_answered(self) -> None:
        if self.pending is not None and self.started:
            self.proxy.round_trips.append(self.pending)
        self.pending = None

    def _one_message(self, into: RoundTrip) -> bool:
        buffer = self.buffer
        if not self.started:
            if len(buffer) < 8:
                return False
            length, code = struct.unpack("!ii", buffer[:8])
            if len(buffer) < length:
                return False
            del buffer[:length]
            self.started = code not in _UNTYPED_REQUESTS
            return True
        if len(buffer) < 5:
            return False
        kind, length = buffer[0:1], struct.unpack("!i", buffer[1:5])[0]
        if len(buffer) < 1 + length:
            return False
        body = bytes(buffer[5 : 1 + length])
        del buffer[: 1 + length]
        if kind == b"P":
            name, query = (part.decode() for part in body.split(b"\0")[:2])
            self.prepared[name] = query
            into.parsed_names.add(name)
            into.statements.append(query)
            into.parsed.append(query)
        elif kind == b"Q":
            query = body.split(b"\0")[0].decode()
            into.statements.append(query)
            into.parsed.append(query)
        elif kind == b"B":
            statement = body.split(b"\0")[1].decode()
            if statement in self.prepared and statement not in into.parsed_names:
                into.statements.append(self.prepared[statement])
        return True


class RoundTripProxy:
    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)  # a host starting with "/" is a Unix socket directory
        self.round_trips: list[RoundTrip] = []
        self.port = 0

    def clear(self) -> None:
        self.round_trips.clear()

    def statements(self) -> list[list[str]]:
        return [trip.statements for trip in self.round_trips]

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        host, port = self.target
        if host.startswith("/"):
            server_r, server_w = await asyncio.open_unix_connection(f"{host}/.s.PGSQL.{port}")
        else:
            server_r, server_w = await asyncio.open_connection(host, port)
        talk = _Conversation(self)

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, up: bool) -> None:
            try:
                while data := await src.read(65536):
                    talk.client_sent(data) if up else talk.server_answered()
                    dst.write(data)
                    await dst.drain()
            finally:
                dst.close()

        await asyncio.gather(
            pump(client_r, server_w, True), pump(server_r, client_w, False), return_exceptions=True
        )


@contextmanager
def round_trip_proxy(database_url: str) -> Iterator[tuple[RoundTripProxy, str]]:
    """The proxy, and `database_url` through it."""
    url = sqlalchemy_url(database_url)
    host = str(url.query.get("host") or url.host or "127.0.0.1")
    proxy = RoundTripProxy(host, url.port or 5432)
    loop = asyncio.new_event_loop()

    async def serve() -> asyncio.Server:
        server = await asyncio.start_server(proxy._relay, "127.0.0.1", 0)
        proxy.port = server.sockets[0].getsockname()[1]
        return server

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = asyncio.run_coroutine_threadsafe(serve(), loop).result(timeout=10)
    through = url.set(host="127.0.0.1", port=proxy.port, query={})
    try:
        yield proxy, through.render_as_string(hide_password=False)
    finally:
        asyncio.run_coroutine_threadsafe(_shut(server), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


async def _shut(server: asyncio.Server) -> None:
    server.close()
    relays = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in relays:
        task.cancel()
    await asyncio.gather(*relays, return_exceptions=True)
