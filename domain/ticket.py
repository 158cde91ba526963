"""Tickets that arrive by webhook, and the ticketing systems enhancements are written to."""

import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from domain import validation
from domain.errors import InvalidValue

MAX_TICKET_FIELD = 50_000
MAX_EXTRA_FIELDS = 50


class TicketSystemKind(enum.StrEnum):
    JIRA = "jira"
    SERVICEDESK_PLUS = "servicedesk_plus"


@dataclass(frozen=True, slots=True)
class Ticket:
    """What the ticket agent is asked about; `extra` holds any other fields sent."""

    ticket_id: str
    title: str
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        validation.name("ticket_id", self.ticket_id, max_len=200)
        validation.text("title", self.title, min_len=0, max_len=MAX_TICKET_FIELD)
        validation.text("description", self.description, min_len=0, max_len=MAX_TICKET_FIELD)
        if len(self.extra) > MAX_EXTRA_FIELDS:
            raise InvalidValue("extra", f"at most {MAX_EXTRA_FIELDS} extra fields")
        for name, value in self.extra.items():
            validation.text(name, value, min_len=0, max_len=MAX_TICKET_FIELD)

    def render(self) -> str:
        """The agent's input: the ticket as plain labelled text, extra fields sorted."""
        lines = [f"Ticket: {self.ticket_id}", f"Title: {self.title}"]
        lines += [f"{name}: {self.extra[name]}" for name in sorted(self.extra)]
        lines += ["", "Description:", self.description or "(none)"]
        return "\n".join(lines)


@dataclass(slots=True, eq=False)
class TicketSystemConfig:
    """Where a tenant's tickets live. The credentials are sealed beside it, never on it."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    kind: TicketSystemKind
    base_url: str
    created_at: datetime
    updated_at: datetime

    def __post_init__(self) -> None:
        try:
            self.kind = TicketSystemKind(self.kind)
        except ValueError:
            allowed = ", ".join(k.value for k in TicketSystemKind)
            raise InvalidValue("kind", f"must be one of {allowed}") from None
        validation.text("base_url", self.base_url, min_len=8, max_len=2048)
        if not self.base_url.startswith(("https://", "http://")) or any(
            c.isspace() for c in self.base_url
        ):
            raise InvalidValue("base_url", "must be an http(s) URL")
        self.base_url = self.base_url.rstrip("/")


# The credential fields each kind takes (all strings, all required unless alternatives).
CREDENTIAL_FIELDS: dict[TicketSystemKind, tuple[frozenset[str], ...]] = {
    TicketSystemKind.JIRA: (frozenset({"email", "api_token"}),),
    # On-premises technician key, or a cloud (Zoho) OAuth access token.
    TicketSystemKind.SERVICEDESK_PLUS: (frozenset({"authtoken"}), frozenset({"oauth_token"})),
}


def check_credentials(kind: TicketSystemKind, credentials: dict[str, str]) -> dict[str, str]:
    choices = CREDENTIAL_FIELDS[kind]
    if frozenset(credentials) not in choices:
        wanted = " or ".join("{" + ", ".join(sorted(c)) + "}" for c in choices)
        raise InvalidValue("credentials", f"a {kind.value} ticket system takes {wanted}")
    for name, value in credentials.items():
        validation.text(name, value, max_len=4096)
        if not value.strip() or any(c in value for c in "\r\n"):
            raise InvalidValue(name, "must be a non-blank single line")
    return credentials
