"""Identifier helpers shared by every entity."""

import uuid


def new_id() -> uuid.UUID:
    """A fresh random identifier (UUID 4)."""
    return uuid.uuid4()
