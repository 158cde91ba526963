"""A tool call an execution made on the model's request, as recorded on the execution."""

import uuid
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ToolCallRecord:
    """`arguments` as the model sent them (parsed JSON, or the raw text if it was not
    JSON); `result_size` in characters of the tool's text answer; `error` None on success."""

    step: int
    tool: str
    server_id: uuid.UUID | None
    arguments: Any
    duration_ms: int
    result_size: int
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "tool": self.tool,
            "server_id": None if self.server_id is None else str(self.server_id),
            "arguments": self.arguments,
            "duration_ms": self.duration_ms,
            "result_size": self.result_size,
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ToolCallRecord":
        server = data.get("server_id")
        return cls(
            step=int(data["step"]),
            tool=str(data["tool"]),
            server_id=None if server is None else uuid.UUID(server),
            arguments=data.get("arguments"),
            duration_ms=int(data["duration_ms"]),
            result_size=int(data["result_size"]),
            error=data.get("error"),
        )
