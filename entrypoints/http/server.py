"""Builds the HTTP app for a real process: SQL adapters, pool disposed at shutdown."""

from litestar import Litestar

from entrypoints.composition import DatabaseUrls, http_dependencies, runtime_engine
from entrypoints.http.app import create_app
from entrypoints.settings import Settings


def build_app(urls: DatabaseUrls, settings: Settings) -> Litestar:
    engine = runtime_engine(urls, settings)
    app = create_app(http_dependencies(engine))
    app.on_shutdown.append(engine.dispose)
    return app
