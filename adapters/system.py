"""Process-level adapters: the wall clock and the OS random source."""

import secrets
from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SecretsTokenGenerator:
    def new_token(self, prefix: str) -> str:
        return prefix + secrets.token_urlsafe(32)  # 256 bits
