"""The one path every JSON request body is decoded through, with its two limits.

msgspec decodes nested arrays and objects recursively and raises RecursionError (not a
DecodeError) past the interpreter's recursion limit: a body of 100,000 `[` was a 500.
Bodies are therefore held to MAX_BODY_BYTES (Litestar answers 413 before reading more)
and to MAX_JSON_DEPTH levels of nesting, checked before msgspec sees them (a 422).
"""

import re
from itertools import accumulate
from typing import Any

from litestar import Request
from litestar.exceptions import SerializationException
from litestar.serialization import decode_json
from litestar.types import Empty

MAX_BODY_BYTES = 1_048_576
MAX_JSON_DEPTH = 64

# A JSON string: brackets inside one are not structure.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
# Each bracket as a step of the nesting level, for accumulate().
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class BodyTooDeep(SerializationException):
    """A JSON body nested deeper than MAX_JSON_DEPTH."""


def nesting_depth(body: bytes) -> int:
    """How deep the body's arrays and objects nest (exact for valid JSON)."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKET)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def check_depth(body: bytes) -> None:
    # Fewer brackets than the limit cannot nest deeper than it: the common case is two
    # C-speed counts and no scan.
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return
    if nesting_depth(body) > MAX_JSON_DEPTH:
        raise BodyTooDeep(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")


def decode_json_body(body: bytes, **kwargs: Any) -> Any:
    """Decode a request body as JSON within the limits; routes that read the raw body
    (to check a signature first, say) decode it with this too."""
    check_depth(body)
    return decode_json(body, **kwargs)


class BoundedJsonRequest(Request[Any, Any, Any]):
    """Litestar's Request, decoding JSON bodies through decode_json_body."""

    async def json(self) -> Any:
        if self._json is Empty and self._connection_state.json is Empty:
            body = await self.body()
            check_depth(body)
        return await super().json()
