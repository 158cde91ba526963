"""Domain errors: plain exceptions, mapped to HTTP statuses in one table at the edge."""


class DomainError(Exception):
    """Base of every error the domain or a use case raises on purpose."""


class InvalidValue(DomainError):
    """A value breaks a domain rule; `field` names the offending attribute."""

    def __init__(self, field: str, message: str, source: str = "body") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.source = source  # where the value came from: body, query, path, header


class NotFound(DomainError):
    """The entity does not exist, or the caller may not know that it does."""

    def __init__(self, entity: str) -> None:
        super().__init__(f"{entity} not found")
        self.entity = entity


class Conflict(DomainError):
    """A uniqueness rule or a state rule refuses the change."""


class LeaseLost(Conflict):
    """A worker's claim on an execution ran out: the reaper or another worker has it."""

    def __init__(self) -> None:
        super().__init__("The execution is no longer held by this worker")


class ProvidersRemain(Conflict):
    """A tenant is deleted only after its providers (and their gateway keys) are."""

    def __init__(self) -> None:
        super().__init__("The tenant still has LLM providers")


class DuplicateName(Conflict):
    def __init__(self, entity: str, within: str = "") -> None:
        super().__init__(f"{entity} with this name already exists{within}")


class Forbidden(DomainError):
    """The principal is known but may not perform this operation."""


class InvalidCredentials(DomainError):
    """The presented key is unknown, revoked or malformed."""


class Refused(DomainError):
    """A well-formed request the domain refuses in the current state (HTTP 400)."""


class InvalidSignature(DomainError):
    """A signed webhook that does not verify: one answer for every reason (bad or missing
    headers, wrong signature, stale timestamp, unknown tenant), so nothing leaks."""
