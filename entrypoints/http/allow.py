"""`Allow` on OPTIONS answers lists every method of the path.

Litestar makes a path's OPTIONS handler when it registers the path's first handler and
keeps it when more handlers join the path, so `OPTIONS /api/agents` answered
`Allow: OPTIONS, POST` although the path serves GET too (Schemathesis' Allow header
check found it). The final routes know their methods; this hook answers from them.
"""

from collections.abc import Awaitable, Callable

from litestar import Litestar
from litestar.datastructures import MutableScopeHeaders
from litestar.routes import HTTPRoute
from litestar.types import Message, Scope

BeforeSend = Callable[[Message, Scope], Awaitable[None]]


def allow_from_routes(app: Litestar) -> BeforeSend:
    allowed = {
        route.path: ", ".join(sorted(route.methods))
        for route in app.routes
        if isinstance(route, HTTPRoute)
    }

    async def fix_allow(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
            return
        handler = scope.get("route_handler")
        paths = getattr(handler, "paths", ())
        methods = next((allowed[p] for p in paths if p in allowed), None)
        if methods is not None:
            MutableScopeHeaders.from_message(message)["allow"] = methods

    return fix_allow
