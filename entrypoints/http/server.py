"""Builds the HTTP app for a real process: SQL adapters, pool disposed at shutdown."""

from litestar import Litestar

from entrypoints.composition import (
    DatabaseUrls,
    http_dependencies,
    llm_gateway,
    runtime_engine,
    secret_box,
)
from entrypoints.http.app import create_app
from entrypoints.settings import Settings


def build_app(urls: DatabaseUrls, settings: Settings) -> Litestar:
    box = secret_box(settings)
    gateway = llm_gateway(settings)
    engine = runtime_engine(urls, settings)
    app = create_app(http_dependencies(engine, gateway, box))
    app.on_shutdown.append(engine.dispose)
    closer = getattr(gateway, "aclose", None)
    if closer is not None:
        app.on_shutdown.append(closer)
    return app
