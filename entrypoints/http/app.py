"""The Litestar application: routes, error rendering, request ids, OpenAPI."""

import logging

from litestar import Litestar, Router
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import Message, Scope

from entrypoints.http.allow import BeforeSend, allow_from_routes
from entrypoints.http.body import MAX_BODY_BYTES, BoundedJsonRequest
from entrypoints.http.dependencies import HttpDependencies, require_bearer
from entrypoints.http.errors import EXCEPTION_HANDLERS
from entrypoints.http.openapi import StrictStructSchemaPlugin, document_errors
from entrypoints.http.request_id import add_request_id
from entrypoints.http.routes import (
    agents,
    api_keys,
    deliveries,
    execution_events,
    executions,
    health,
    mcp_servers,
    metrics,
    openai,
    providers,
    tenants,
    ticket_settings,
    webhooks,
)

OPENAPI = OpenAPIConfig(
    title="agentkeel",
    version="1",
    description="Multi-tenant AI-agent platform API. Authenticate with `Bearer <key>`.",
    path="/schema",
    render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
    components=Components(
        security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}
    ),
)


API = Router(
    path="/",
    before_request=require_bearer,
    security=[{"bearer": []}],
    route_handlers=[
        *tenants.ROUTES,
        *api_keys.ROUTES,
        *agents.ROUTES,
        *providers.ROUTES,
        *executions.ROUTES,
        *ticket_settings.ROUTES,
        *deliveries.ROUTES,
        *mcp_servers.ROUTES,
        *execution_events.ROUTES,
    ],
)


def _on_response_start(*hooks: BeforeSend) -> BeforeSend:
    """The hooks, run for a response's start only: Litestar calls a `before_send` hook for
    every message, and a stream sends one per event, so one call that returns at once."""

    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            for hook in hooks:
                await hook(message, scope)

    return before_send


def create_app(deps: HttpDependencies) -> Litestar:
    app = Litestar(
        # Signed webhooks authenticate by signature, not bearer: outside the API router.
        route_handlers=[API, openai.OPENAI, *webhooks.ROUTES, *health.ROUTES, *metrics.ROUTES],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OPENAPI,
        request_class=BoundedJsonRequest,
        request_max_body_size=MAX_BODY_BYTES,
        plugins=[StrictStructSchemaPlugin()],
        logging_config=None,
        debug=False,
    )
    document_errors(app)
    app.before_send.append(_on_response_start(add_request_id, allow_from_routes(app)))
    app.state.deps = deps
    logging.getLogger("agentkeel").setLevel(logging.INFO)
    return app
