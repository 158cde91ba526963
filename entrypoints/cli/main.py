"""`agentkeel` command line: serve, migrate, operator-key create."""

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from adapters.sqlalchemy.urls import redacted
from adapters.system import SecretsTokenGenerator, SystemClock
from application.use_cases.api_keys import IssuedKey, IssueOperatorKey
from entrypoints.composition import DatabaseUrls, database_urls, run_migrations, runtime_engine
from entrypoints.settings import Settings

log = logging.getLogger("agentkeel")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agentkeel", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    commands.add_parser("migrate", help="upgrade the schema to head and fix the runtime grants")
    operator_key = commands.add_parser("operator-key", help="operator keys")
    operator_key.add_subparsers(dest="action", required=True).add_parser(
        "create", help="print one new operator key"
    )
    return parser


def _issue_operator_key(urls: DatabaseUrls, settings: Settings, *, first: bool) -> IssuedKey | None:
    async def issue() -> IssuedKey | None:
        engine = runtime_engine(urls, settings)
        try:
            async with SqlUnitOfWork(engine) as uow:
                use_case = IssueOperatorKey(uow, SystemClock(), SecretsTokenGenerator())
                return await use_case("bootstrap" if first else "cli", only_if_none=first)
        finally:
            await engine.dispose()

    return asyncio.run(issue())


def serve(host: str, port: int) -> None:
    import uvicorn

    from entrypoints.http.server import build_app

    settings = Settings.from_env()
    urls = database_urls(settings)
    if urls.embedded:
        run_migrations(urls)
        issued = _issue_operator_key(urls, settings, first=True)
        if issued is not None:
            print(f"Operator key (shown once, keep it safe): {issued.token}", flush=True)
        log.info("embedded PostgreSQL in %s", settings.data_dir / "pgdata")
    else:
        log.info("database %s", redacted(urls.runtime))
    app = build_app(urls, settings)
    print(f"agentkeel listening on http://{host}:{port} (docs: /schema)", flush=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        access_log=False,
        log_level="warning",
        loop="uvloop",
        http="httptools",
    )


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    args = _parser().parse_args(argv)
    settings = Settings.from_env()
    if args.command == "serve":
        serve(args.host, args.port)
    elif args.command == "migrate":
        urls = database_urls(settings)
        run_migrations(urls)
        print(f"migrated {redacted(urls.owner)} to head", flush=True)
    elif args.command == "operator-key":
        issued = _issue_operator_key(database_urls(settings), settings, first=False)
        assert issued is not None
        print(issued.token, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
