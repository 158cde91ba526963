"""Ticket webhook bodies -> Ticket. Parsed only after the signature verified; any body
that is not the expected shape is InvalidValue (422), never a job."""

import json
from typing import Any

from domain.errors import InvalidValue
from domain.ticket import Ticket

MAX_EXTRA_TEXT = 2_000  # an extra field rendered as JSON is cut here


def _load(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise InvalidValue("body", "is not valid JSON") from None
    if not isinstance(payload, dict):
        raise InvalidValue("body", "must be a JSON object")
    return payload


def _text(payload: dict[str, Any], name: str, *, required: bool) -> str:
    value = payload.get(name)
    if value is None and not required:
        return ""
    numeric_id = name == "ticket_id" and isinstance(value, int) and not isinstance(value, bool)
    if not isinstance(value, str) and not numeric_id:
        raise InvalidValue(name, "must be a string" if required else "must be a string or null")
    return str(value)


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)[:MAX_EXTRA_TEXT]


def standard_ticket(body: bytes) -> Ticket:
    """`{ticket_id, title, description?, ...}`: any other field is passed on to the agent."""
    payload = _load(body)
    known = ("ticket_id", "title", "description")
    extra = {k: _as_text(v) for k, v in payload.items() if k not in known and v is not None}
    return Ticket(
        ticket_id=_text(payload, "ticket_id", required=True),
        title=_text(payload, "title", required=True),
        description=_text(payload, "description", required=False),
        extra=extra,
    )


def _adf_text(node: Any) -> str:
    """The text of an Atlassian Document Format node (Jira v3 descriptions)."""
    if isinstance(node, str):
        return node
    if not isinstance(node, dict):
        return ""
    if node.get("type") == "text":
        return str(node.get("text", ""))
    parts = [_adf_text(child) for child in node.get("content") or [] if child is not None]
    if node.get("type") in ("paragraph", "heading", "codeBlock"):  # inline children
        return "".join(parts)
    return "\n".join(p for p in parts if p)  # blocks, one per line


def _name(value: Any) -> str | None:
    if isinstance(value, dict):
        found = value.get("name") or value.get("displayName") or value.get("key")
        return None if found is None else str(found)
    return None if value is None else _as_text(value)


def jira_ticket(body: bytes) -> Ticket:
    """A Jira Cloud issue event: `{webhookEvent, issue: {key, fields: {summary, ...}}}`."""
    payload = _load(body)
    issue = payload.get("issue")
    if not isinstance(issue, dict) or not isinstance(issue.get("fields"), dict):
        raise InvalidValue("issue", "must be a Jira issue with fields")
    fields: dict[str, Any] = issue["fields"]
    key = issue.get("key") or issue.get("id")
    if not isinstance(key, str | int) or isinstance(key, bool) or not str(key).strip():
        raise InvalidValue("key", "the issue needs a key or an id")
    summary = fields.get("summary")
    if not isinstance(summary, str):
        raise InvalidValue("summary", "must be a string")
    extra = {
        label: named
        for label, value in (
            ("event", payload.get("webhookEvent")),
            ("issue type", fields.get("issuetype")),
            ("priority", fields.get("priority")),
            ("status", fields.get("status")),
            ("project", fields.get("project")),
            ("reporter", fields.get("reporter")),
            ("labels", fields.get("labels") or None),
        )
        if (named := _name(value)) is not None
    }
    return Ticket(str(key), summary, _adf_text(fields.get("description")), extra)
