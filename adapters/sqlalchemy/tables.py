"""Table shapes for query building. The schema itself is owned by migrations/."""

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

metadata = MetaData()

tenants = Table(
    "tenants",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", Text, nullable=False),
    Column("admin_email", Text, nullable=False),
    Column("ticket_agent_id", Uuid),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid),
    Column("name", Text, nullable=False),
    Column("prefix", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

api_key_credentials = Table(
    "api_key_credentials",
    metadata,
    Column("key_id", Uuid, primary_key=True),
    Column("key_hash", LargeBinary, nullable=False),
    Column("tenant_id", Uuid),
)

agents = Table(
    "agents",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("name", Text, nullable=False),
    Column("system_prompt", Text, nullable=False),
    Column("model", Text, nullable=False),
    Column("temperature", Float, nullable=False),
    Column("max_tokens", Integer),
    Column("use_byok", Boolean, nullable=False),
    Column("provider_id", Uuid),
    Column("status", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("mcp_server_ids", ARRAY(Uuid), nullable=False),
)

llm_providers = Table(
    "llm_providers",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("provider_name", Text, nullable=False),
    Column("model", Text, nullable=False),
    Column("api_base", Text),
    Column("max_budget", Float),
    Column("status", Text, nullable=False),
    Column("key_hint", Text, nullable=False),
    Column("api_key_kid", Text, nullable=False),
    Column("api_key_sealed", LargeBinary, nullable=False),
    Column("virtual_key_kid", Text, nullable=False),
    Column("virtual_key_sealed", LargeBinary, nullable=False),
    Column("deployment_id", Text, nullable=False),
    Column("virtual_key_id", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

gateway_orphans = Table(
    "gateway_orphans",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid),
    Column("kind", Text, nullable=False),
    Column("reference", Text, nullable=False),
    Column("secret_kid", Text),
    Column("secret_sealed", LargeBinary),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

executions = Table(
    "executions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("agent_id", Uuid, nullable=False),
    Column("status", Text, nullable=False),
    Column("input", Text, nullable=False),
    Column("output", Text),
    Column("error", Text),
    Column("prompt_tokens", Integer),
    Column("completion_tokens", Integer),
    Column("total_tokens", Integer),
    Column("cost", Float),
    Column("model", Text),
    Column("latency_ms", Integer),
    Column("config_model", Text, nullable=False),
    Column("config_temperature", Float, nullable=False),
    Column("config_max_tokens", Integer),
    Column("config_system_prompt_sha256", Text, nullable=False),
    Column("config_use_byok", Boolean, nullable=False),
    Column("config_provider_id", Uuid),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("callback_url", Text),
    Column("attempts", Integer, nullable=False),
    Column("claimed_by", Text),
    Column("lease_expires_at", DateTime(timezone=True)),
    Column("cancel_requested", Boolean, nullable=False),
    Column("tool_calls", JSONB, nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("tenant_id", Uuid, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("request_sha256", Text, nullable=False),
    Column("execution_id", Uuid, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

webhook_secrets = Table(
    "webhook_secrets",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("secret_kid", Text, nullable=False),
    Column("secret_sealed", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True)),
)

ticket_systems = Table(
    "ticket_systems",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("kind", Text, nullable=False),
    Column("base_url", Text, nullable=False),
    Column("credentials_kid", Text, nullable=False),
    Column("credentials_sealed", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

webhook_receipts = Table(
    "webhook_receipts",
    metadata,
    Column("tenant_id", Uuid, primary_key=True),
    Column("source", Text, primary_key=True),
    Column("delivery_id", Text, primary_key=True),
    Column("execution_id", Uuid, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

execution_deliveries = Table(
    "execution_deliveries",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("execution_id", Uuid, nullable=False),
    Column("kind", Text, nullable=False),
    Column("target", Text, nullable=False),
    Column("message_id", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True)),
    Column("activated_at", DateTime(timezone=True)),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("delivery_id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("number", Integer, primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("delivered", Boolean, nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("response_excerpt", Text),
)
mcp_servers = Table(
    "mcp_servers",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("name", Text, nullable=False),
    Column("transport_type", Text, nullable=False),
    Column("command", Text),
    Column("args", JSONB, nullable=False),
    Column("env_vars", JSONB, nullable=False),
    Column("url", Text),
    Column("status", Text, nullable=False),
    Column("tools", JSONB, nullable=False),
    Column("last_error", Text),
    Column("last_checked_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
