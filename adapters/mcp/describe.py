"""Turning whatever the SDK raised into one short sentence for `last_error`."""

from collections.abc import Iterable


def leaves(exc: BaseException) -> list[BaseException]:
    """The innermost exceptions of (nested) exception groups, in order."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in leaves(inner)]
    return [exc]


def describe(exc: BaseException) -> str:
    leaf = leaves(exc)[0]
    lines = str(leaf).strip().splitlines()
    text = lines[0] if lines else type(leaf).__name__
    name = type(leaf).__name__
    return text if name in ("MCPError", "McpError") else f"{name}: {text}"


def redact(text: str, secrets: Iterable[str]) -> str:
    """What a server wrote to stderr, with the values it was configured with masked."""
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
