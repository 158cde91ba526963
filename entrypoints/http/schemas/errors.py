"""The contract's error bodies, for the OpenAPI document (entrypoints/http/errors.py
renders them)."""

from msgspec import Struct


class ErrorOut(Struct):
    """Every error but a validation error: `{"detail": "Agent not found"}`."""

    detail: str


class FieldErrorOut(Struct):
    loc: list[str]
    msg: str
    type: str


class ValidationErrorOut(Struct):
    """422: what is wrong, where (`loc[-1]` the field)."""

    detail: list[FieldErrorOut]
