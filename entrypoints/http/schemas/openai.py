"""OpenAI's chat completion objects, field for field (what the `openai` package parses).

Requests are read leniently, as OpenAI-compatible servers do: fields agentkeel does not use
(`top_p`, `user`, `n`...) are accepted and ignored; the agent's own model, temperature and
max_tokens apply whatever the caller sends.
"""

from typing import Annotated, Literal

from msgspec import Meta, Struct

from domain.execution import MAX_INPUT_LENGTH

Text = Annotated[str, Meta(max_length=MAX_INPUT_LENGTH)]


class ContentPart(Struct):
    type: Literal["text"]
    text: Text


class MessageIn(Struct):
    role: Literal["system", "developer", "user", "assistant"]
    content: Text | Annotated[list[ContentPart], Meta(max_length=100)] | None = None
    name: str | None = None


class StreamOptions(Struct):
    include_usage: bool = False


class ChatCompletionIn(Struct):
    model: Annotated[str, Meta(min_length=1, max_length=300)]
    messages: Annotated[list[MessageIn], Meta(min_length=1, max_length=1000)]
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    temperature: float | None = None  # accepted, ignored: the agent's applies
    max_tokens: int | None = None  # idem
    max_completion_tokens: int | None = None  # idem


class CompletionUsage(Struct):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(Struct):
    role: Literal["assistant"]
    content: str
    refusal: None = None


class Choice(Struct):
    index: int
    message: AssistantMessage
    finish_reason: str
    logprobs: None = None


class ChatCompletion(Struct):
    id: str
    created: int
    model: str
    choices: list[Choice]
    usage: CompletionUsage | None
    object: Literal["chat.completion"] = "chat.completion"
    system_fingerprint: None = None


class Delta(Struct, omit_defaults=True):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(Struct):
    index: int
    delta: Delta
    finish_reason: str | None = None
    logprobs: None = None


class ChatCompletionChunk(Struct):
    id: str
    created: int
    model: str
    choices: list[ChunkChoice]
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    system_fingerprint: None = None
    usage: CompletionUsage | None = None


class ModelOut(Struct):
    id: str
    created: int
    owned_by: str
    object: Literal["model"] = "model"


class ModelList(Struct):
    data: list[ModelOut]
    object: Literal["list"] = "list"


class ErrorBody(Struct):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorOut(Struct):
    error: ErrorBody
