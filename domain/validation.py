"""Small reusable checks that raise `InvalidValue` naming the field."""

import re

from domain.errors import InvalidValue

# Deliberately simple: one @, no spaces, a dot in the domain part. Deliverability is the
# mail server's business; this only catches typos and junk.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")


def text(field: str, value: str, *, min_len: int = 1, max_len: int = 200) -> str:
    if not isinstance(value, str):
        raise InvalidValue(field, "must be a string")
    if not min_len <= len(value) <= max_len:
        raise InvalidValue(field, f"length must be between {min_len} and {max_len}")
    if "\x00" in value:
        raise InvalidValue(field, "must not contain NUL characters")
    return value


def name(field: str, value: str, *, max_len: int = 200) -> str:
    text(field, value, max_len=max_len)
    if not value.strip():
        raise InvalidValue(field, "must not be blank")
    return value


def email(field: str, value: str) -> str:
    text(field, value, min_len=3, max_len=254)
    if not _EMAIL.match(value):
        raise InvalidValue(field, "is not a valid email address")
    return value
