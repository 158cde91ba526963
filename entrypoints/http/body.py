"""The one path every JSON request body is decoded through, with its two limits.

msgspec decodes nested arrays and objects recursively and raises RecursionError (not a
DecodeError) past the interpreter's recursion limit: a body of 100,000 `[` was a 500.
Bodies are therefore held to MAX_BODY_BYTES (Litestar answers 413 before reading more)
and to MAX_JSON_DEPTH levels of nesting, checked before msgspec sees them (a 422).
"""

import re
from itertools import accumulate
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import SerializationException, ValidationException
from litestar.serialization import decode_json
from litestar.types import Empty

# 4 MiB: room for the longest valid body in any JSON spelling (a 200,000-character input
# of escaped astral characters is 2.4 MB), far from what a client sends by mistake.
MAX_BODY_BYTES = 4_194_304
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
    """Litestar's Request, decoding JSON bodies within the limits, and strictly into the
    handler's `data` type when it has one.

    Litestar converts the decoded body with `msgspec.convert(..., strict=False)`, its rule
    for query strings, which took `"0.5"` for a float and `0` for a boolean (Schemathesis
    found `"use_byok": 0` accepted). The contract says a wrong type is 422; decoding
    straight into the type, strictly, says it, in one pass instead of two. Litestar then
    takes the struct as it is. A body that is not JSON at all falls through to Litestar,
    which answers it as before."""

    async def json(self) -> Any:
        if self._json is Empty and self._connection_state.json is Empty:
            body = await self.body()
            check_depth(body)
            target = _data_type(self.route_handler)
            if target is not None and body:
                try:
                    decoded = msgspec.json.decode(body, type=target, strict=True)
                except msgspec.ValidationError as exc:
                    raise _invalid(exc) from None
                except msgspec.DecodeError:
                    pass  # not JSON: Litestar's own decoding reports it
                else:
                    self._json = self._connection_state.json = decoded
        return await super().json()


_AT = re.compile(r"^(?P<message>.*) - at `\$(?P<path>[^`]*)`$", re.DOTALL)


def _data_type(handler: Any) -> Any:
    """The type of the handler's `data` parameter, None if it takes no structured body."""
    field = handler.parsed_fn_signature.parameters.get("data")
    annotation = getattr(field, "annotation", None)
    return annotation if isinstance(annotation, type) else None


def _invalid(exc: msgspec.ValidationError) -> ValidationException:
    """msgspec's "Expected `float`, got `str` - at `$.temperature`" as Litestar reports
    its own validation errors (entrypoints/http/errors.py renders them)."""
    text = str(exc)
    matched = _AT.match(text)
    message, path = (matched["message"], matched["path"]) if matched else (text, "")
    # The field, not the item: the contract's loc[-1] names the offending field.
    key = re.sub(r"\[\d+\]", "", path).strip(".")
    return ValidationException(
        detail="Validation failed", extra=[{"message": message, "key": key, "source": "body"}]
    )
