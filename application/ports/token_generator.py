from typing import Protocol


class TokenGenerator(Protocol):
    """Makes unguessable secrets (API keys, webhook secrets)."""

    def new_token(self, prefix: str) -> str:
        """`prefix` followed by at least 256 bits of randomness, URL-safe."""
        ...
