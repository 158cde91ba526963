"""Errors of the LLM gateway port, raised by every `LlmGateway` adapter.

Messages name the operation and the HTTP status at most: never an API key (master, virtual
or provider), never a prompt. Gateways quote keys in their own error texts, so adapters
must not copy those texts here.
"""


class GatewayError(Exception):
    """The LLM gateway failed or refused the call (HTTP 502 at the edge unless a subclass
    says otherwise)."""


class InvalidProviderKey(GatewayError):
    """The LLM provider (or the gateway on its behalf) rejected the API key."""


class BudgetExceeded(GatewayError):
    """The virtual key has spent its `max_budget`; calls fail until the budget changes."""


class RateLimited(GatewayError):
    """Too many requests; `retry_after` is the gateway's hint in seconds, when it gave one."""

    def __init__(self, retry_after: float | None = None, message: str = "") -> None:
        super().__init__(message or "the LLM gateway is rate limiting this caller")
        self.retry_after = retry_after


class GatewayUnavailable(GatewayError):
    """The gateway could not be reached or kept failing (connect errors, 5xx) after retries."""


class GatewayTimeout(GatewayError):
    """The gateway did not answer within the call's timeout."""


class UnknownVirtualKey(GatewayError):
    """The virtual key does not exist at the gateway, was revoked, or has expired."""


class ToolStepsExhausted(GatewayError):
    """The model still asked for tools after the run's bound on model calls."""

    def __init__(self, steps: int) -> None:
        super().__init__(f"the model kept asking for tools after {steps} steps")
