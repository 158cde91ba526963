"""A slow LiteLLM proxy stand-in on a real port, for worker processes to call.

POST /chat/completions answers "echo: <last user message>" in LiteLLM's shape (streamed
when asked, as the workers do) after `delay` seconds (changeable while it runs) and counts
the calls per user message, so a test can tell how often each execution reached the
upstream. Any key is accepted.
"""

import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support import litellm_bodies as bodies


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default 5 makes bursts of connects wait for SYN retries

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet about callers that went away (a killed worker, a cancelled run)."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class SlowLiteLlm:
    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls: Counter[str] = Counter()  # user message -> /chat/completions calls
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def count(self, content: str) -> int:
        with self._lock:
            return self.calls[content]

    def total(self, prefix: str = "") -> int:
        with self._lock:
            return sum(n for text, n in self.calls.items() if text.startswith(prefix))

    def _record(self, content: str) -> None:
        with self._lock:
            self.calls[content] += 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}")
                if self.path != "/chat/completions":
                    self._send(404, b'{"error": {"message": "not found"}}', {})
                    return
                users = [m["content"] for m in body.get("messages", []) if m["role"] == "user"]
                content = users[-1] if users else ""
                upstream._record(content)
                time.sleep(upstream.delay)
                if body.get("stream"):  # as LiteLLM streams: word by word, usage last
                    pieces = [f"{word} " for word in f"echo: {content}".split(" ")]
                    pieces[-1] = pieces[-1].rstrip()
                    answer = bodies.stream(pieces, body["model"], 7, 0.000001)
                else:
                    answer = bodies.completion(f"echo: {content}", body["model"], 7, 0.000001)
                self._send(200, answer.content, dict(answer.headers))

            def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        if name.lower() not in ("content-length", "content-type"):
                            self.send_header(name, value)
                    kind = headers.get("content-type", "application/json")
                    self.send_header("content-type", kind)
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the caller gave up (a cancelled run): nothing to answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def serve(self) -> None:
        self._server.serve_forever(poll_interval=0.05)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def slow_litellm(delay: float = 0.0) -> Iterator[SlowLiteLlm]:
    upstream = SlowLiteLlm(delay)
    thread = threading.Thread(target=upstream.serve, name="slow-litellm", daemon=True)
    thread.start()
    try:
        yield upstream
    finally:
        upstream.close()
        thread.join(timeout=5)
