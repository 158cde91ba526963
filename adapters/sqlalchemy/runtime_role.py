"""The role the service runs as: owns nothing, no BYPASSRLS, exactly the grants it needs.

Privileges live on one NOLOGIN role, `agentkeel_runtime`. The service reaches it either
through a separate login role that is a member of it (AGENTKEEL_DATABASE_URL names a
role other than the migration owner), or, when it is given the owner's or a superuser's
URL, by switching to it for the whole session (`-c role=agentkeel_runtime`).
"""

from sqlalchemy import Connection, text

RUNTIME_ROLE = "agentkeel_runtime"

# (privileges, object) pairs; adding a table means adding it here.
RUNTIME_GRANTS: tuple[tuple[str, str], ...] = (
    ("SELECT, INSERT, UPDATE, DELETE", "TABLE tenants"),
    ("SELECT, INSERT, UPDATE, DELETE", "TABLE api_keys"),
    ("SELECT, INSERT, UPDATE, DELETE", "TABLE agents"),
    ("SELECT, INSERT, UPDATE, DELETE", "TABLE llm_providers"),
    ("SELECT, INSERT, UPDATE, DELETE", "TABLE gateway_orphans"),
    ("SELECT, INSERT, UPDATE, DELETE", "TABLE executions"),
    ("SELECT, INSERT, UPDATE, DELETE", "TABLE idempotency_keys"),
    ("SELECT, INSERT, UPDATE, DELETE", "TABLE webhook_secrets"),
    ("SELECT, INSERT, UPDATE, DELETE", "TABLE ticket_systems"),
    ("SELECT, INSERT, UPDATE, DELETE", "TABLE webhook_receipts"),
    ("SELECT, INSERT, UPDATE, DELETE", "TABLE execution_deliveries"),
    ("SELECT, INSERT, UPDATE, DELETE", "TABLE delivery_attempts"),
    ("SELECT, INSERT, UPDATE, DELETE", "TABLE mcp_servers"),
    ("INSERT", "TABLE api_key_credentials"),
    ("EXECUTE", "FUNCTION app_current_tenant()"),
    ("EXECUTE", "FUNCTION app_is_operator()"),
    ("EXECUTE", "FUNCTION set_tenant_context(uuid)"),
    ("EXECUTE", "FUNCTION set_operator_context()"),
    ("EXECUTE", "FUNCTION authenticate_api_key(bytea)"),
    ("EXECUTE", "FUNCTION expect_rows(bigint, text)"),
)


def _quote(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def ensure_runtime_role(conn: Connection, login_role: str | None) -> None:
    """Create the runtime role if needed and reset its grants to exactly RUNTIME_GRANTS.

    Runs as the migration owner. `login_role` is the role in AGENTKEEL_DATABASE_URL; it is
    made a member so that it inherits the runtime privileges (or may switch to them).
    """
    exists = conn.execute(
        text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": RUNTIME_ROLE}
    ).first()
    if exists is None:
        conn.execute(text(f"CREATE ROLE {RUNTIME_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB"))
    conn.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {RUNTIME_ROLE}"))
    conn.execute(text(f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM {RUNTIME_ROLE}"))
    conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {RUNTIME_ROLE}"))
    for privileges, target in RUNTIME_GRANTS:
        conn.execute(text(f"GRANT {privileges} ON {target} TO {RUNTIME_ROLE}"))
    members = {r for r in (login_role, conn.execute(text("SELECT current_user")).scalar()) if r}
    for member in sorted(members):
        if member != RUNTIME_ROLE:
            conn.execute(text(f"GRANT {RUNTIME_ROLE} TO {_quote(member)}"))
