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
)
