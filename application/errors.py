"""Application errors: failures of the machinery behind a port, not broken domain rules.

They are not `DomainError`s because no caller did anything wrong; the edge maps them to a
server error and the message never carries secret material.
"""


class SecretUnreadable(Exception):
    """A sealed secret cannot be opened: unknown key id, wrong context, or tampered bytes.

    A secret box raises this instead of returning None or partial plaintext, so a caller
    can never mistake a failed open for an empty secret.
    """


class QueueUnavailable(Exception):
    """The job queue's broker cannot take work right now."""


class McpUnavailable(Exception):
    """An MCP server could not be reached, refused, hung, crashed or spoke garbage; the
    message says which, for `last_error` (never a configured secret)."""
