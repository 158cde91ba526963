from dataclasses import dataclass

from application.ports.mcp_client import McpConnector, McpTargetPolicy


@dataclass(frozen=True, slots=True)
class ToolLimits:
    """Bounds of a run that calls tools, and of a health check."""

    max_steps: int = 8  # model calls in one run; tool calls happen between them
    call_timeout_s: float = 30.0  # one tool call
    connect_timeout_s: float = 10.0  # connect + initialize (+ list tools, for a check)
    max_result_chars: int = 20_000  # of one tool answer, as fed back to the model


@dataclass(frozen=True, slots=True)
class McpServices:
    """What the MCP use cases need: the SDK connector and the operator's policy."""

    connector: McpConnector
    policy: McpTargetPolicy
    limits: ToolLimits = ToolLimits()
