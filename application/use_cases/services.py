from dataclasses import dataclass, field

from application.ports.clock import Clock
from application.ports.execution_events import ExecutionEventLog, NoExecutionEvents
from application.ports.llm_gateway import LlmGateway
from application.ports.secret_box import SecretBox
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.mcp_services import McpServices


@dataclass(frozen=True)
class LlmServices:
    """What the provider and execution use cases need besides the request's unit of work."""

    gateway: LlmGateway
    box: SecretBox
    clock: Clock
    # A second unit of work: for what must outlive the request's transaction (results of a
    # gateway call made after it ended, orphans recorded while it rolls back).
    uow_factory: UnitOfWorkFactory
    # MCP servers' tools for agents that list some; None: runs offer no tools.
    mcp: McpServices | None = None
    # Where workers publish what their runs do, for GET /api/executions/{id}/events.
    events: ExecutionEventLog = field(default_factory=NoExecutionEvents)
