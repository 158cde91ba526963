"""The OpenAPI document says what the service does, errors included.

Litestar documents a handler's success status and, for any handler with parameters, its
own 400 validation body; this service answers validation failures 422 in the contract's
shape, and refuses unknown body fields. So every operation gets, from one rule here (and
routes added later get them too):

* 401 on every route that needs a key (the API router's `security`), 503 there too (the
  database is down);
* 422 with the validation body wherever there are parameters or a body, and 413 with a
  body (entrypoints/http/body.py's limit); 404 wherever a path names a resource;
* whatever a route adds itself with `responses=errors(...)` (403, 409, 429, 502, ...);

and loses Litestar's 400 unless the route declared a real one. Request bodies say
`additionalProperties: false` when their struct forbids unknown fields.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec
from litestar import Litestar
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIResponse, Operation, Schema
from litestar.routes import HTTPRoute
from litestar.typing import FieldDefinition

from entrypoints.http.schemas import openai as openai_schemas
from entrypoints.http.schemas.errors import ErrorOut, ValidationErrorOut

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator

_DESCRIPTIONS = {
    400: "Refused by the domain (see the message)",
    401: "No, malformed, unknown or revoked key",
    403: "The key may not do this",
    404: "Not found, or not the caller's",
    409: "Conflict (a unique name, a state, an Idempotency-Key in flight)",
    413: "Request body too large",
    422: "Validation error",
    429: "Rate or budget limit hit (see Retry-After)",
    502: "The LLM gateway failed",
    503: "A dependency (the database) is down",
    504: "The LLM gateway timed out",
}
# How Litestar names the 400 body it documents for ValidationException.
_LITESTAR_VALIDATION = "Validation Exception"


def errors(*statuses: int, openai_shape: bool = False) -> dict[int, ResponseSpec]:
    """Error responses a route documents beyond the rule above; `openai_shape` for the
    OpenAI-compatible routes, whose errors are `{"error": {...}}` at every status."""
    return {status: _spec(status, openai_shape) for status in statuses}


def _spec(status: int, openai_shape: bool) -> ResponseSpec:
    body: type = openai_schemas.ErrorOut if openai_shape else ErrorOut
    if status == 422 and not openai_shape:
        body = ValidationErrorOut
    return ResponseSpec(body, description=_DESCRIPTIONS[status], generate_examples=False)


@dataclass
class ContractOperation(Operation):
    def __post_init__(self) -> None:
        responses = self.responses or {}
        generated = responses.get("400")
        if isinstance(generated, OpenAPIResponse) and _is_litestar_validation(generated):
            del responses["400"]


def _is_litestar_validation(response: OpenAPIResponse) -> bool:
    media = next(iter((response.content or {}).values()), None)
    schema = getattr(media, "schema", None)
    return isinstance(schema, Schema) and schema.description == _LITESTAR_VALIDATION


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """Litestar's msgspec plugin, plus `additionalProperties: false` for a struct that
    forbids unknown fields (the service answers 422 for them)."""

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: "SchemaCreator"
    ) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        config: msgspec.structs.StructConfig = field_definition.type_.__struct_config__
        if config.forbid_unknown_fields:
            schema.additional_properties = False
        return schema


def document_errors(app: Litestar) -> None:
    """Apply the rule above to every HTTP route handler of `app`."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler, _ in route.route_handler_map.values():
            openai_shape = route.path.startswith(OPENAI_PREFIX)
            _document(handler, has_path_params=bool(route.path_parameters), openai=openai_shape)


OPENAI_PREFIX = "/v1/"


def _document(handler: HTTPRouteHandler, *, has_path_params: bool, openai: bool) -> None:
    statuses: set[int] = set()
    signature = handler.parsed_fn_signature.parameters
    if handler.resolve_security() or openai:  # /v1 takes the key its own way
        statuses |= {401, 503}
    if openai:  # agents are models for tenant keys only
        statuses.add(403)
    if "data" in signature:
        statuses |= {413, 422}
    if has_path_params:
        statuses |= {404, 422}
    if set(signature) - {"request", "data"}:
        statuses.add(422)
    declared: dict[int, Any] = dict(handler.responses or {})
    handler.responses = {**errors(*statuses, openai_shape=openai), **declared}
    own = handler.operation_class
    if own is Operation:
        handler.operation_class = ContractOperation
    elif not issubclass(own, ContractOperation):  # a handler may sit on several routes
        handler.operation_class = _with_contract(own)


def _with_contract(own: type[Operation]) -> type[Operation]:
    """A route's own operation class (a streamed answer's media types) under the rule too."""

    @dataclass
    class Both(ContractOperation, own):  # type: ignore[misc,valid-type]
        def __post_init__(self) -> None:
            ContractOperation.__post_init__(self)
            own.__post_init__(self)  # type: ignore[attr-defined]

    return Both
