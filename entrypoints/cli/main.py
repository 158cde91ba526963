"""`agentkeel` command line."""

import argparse
import logging
import signal
import sys
from collections.abc import Sequence
from functools import partial
from types import FrameType

from adapters.sqlalchemy.urls import redacted
from entrypoints.cli import commands
from entrypoints.composition import ConfigurationError, database_urls, run_migrations
from entrypoints.settings import Settings

log = logging.getLogger("agentkeel")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agentkeel", description="agentkeel service")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="HTTP worker processes (more than 1 needs a configured database and Redis)",
    )
    migrate = sub.add_parser(
        "migrate", help="upgrade the schema (or go to --revision) and fix the runtime grants"
    )
    migrate.add_argument(
        "--revision",
        default="head",
        help="target revision, up or down: an id, head, base, -1, +1 (default: head)",
    )
    worker = sub.add_parser("worker", help="run queued executions (needs AGENTKEEL_REDIS_URL)")
    worker.add_argument("--processes", type=int, default=1)
    worker.add_argument("--threads", type=int, default=8)
    operator_key = sub.add_parser("operator-key", help="operator keys")
    operator_key.add_subparsers(dest="action", required=True).add_parser(
        "create", help="print one new operator key"
    )
    secrets = sub.add_parser("secrets", help="secrets at rest")
    rotate = secrets.add_subparsers(dest="action", required=True).add_parser(
        "rotate", help="re-encrypt every stored secret under the first AGENTKEEL_SECRET_KEYS key"
    )
    rotate.add_argument("--batch-size", type=int, default=100)
    providers = sub.add_parser("providers", help="BYOK providers")
    providers.add_subparsers(dest="action", required=True).add_parser(
        "reconcile", help="retry gateway revocations and removals that failed before"
    )
    return parser


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def serve(host: str, port: int, settings: Settings, workers: int = 1) -> None:
    import uvicorn

    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again under the
    # handler it found: the default one would end the process there, before the exit
    # handlers that stop an embedded PostgreSQL and Redis (they kept running after a
    # `docker stop`). Exiting as on Ctrl-C lets them run.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)

    from entrypoints.http.server import app_from_environment, build_app, freeze_startup_objects

    if workers < 1:
        raise ConfigurationError("--workers must be at least 1")
    if workers > 1 and (settings.embedded or settings.redis_url is None):
        raise ConfigurationError(
            "--workers above 1 needs AGENTKEEL_DATABASE_URL and AGENTKEEL_REDIS_URL: the "
            "embedded PostgreSQL and Redis belong to a single process"
        )
    urls = database_urls(settings)
    if urls.embedded:
        run_migrations(urls)
        issued = commands.issue_operator_key(urls, settings, first=True)
        if issued is not None:
            print(f"Operator key (shown once, keep it safe): {issued.token}", flush=True)
        log.info("embedded PostgreSQL in %s", settings.data_dir / "pgdata")
    else:
        log.info("database %s", redacted(urls.runtime))
    print(f"agentkeel listening on http://{host}:{port} (docs: /schema)", flush=True)
    run = partial(
        uvicorn.run,
        host=host,
        port=port,
        access_log=False,
        log_level="warning",
        loop="uvloop",
        http="httptools",
    )
    if workers > 1:
        # Each process builds its own app (pools, gateway client) from the environment.
        factory = f"{app_from_environment.__module__}:{app_from_environment.__name__}"
        # uvicorn restarts a worker that has not answered its health ping within this many
        # seconds; its default (5) is shorter than a cold start on a loaded 2-core machine,
        # which then restarts workers forever and never serves.
        run(factory, factory=True, workers=workers, timeout_worker_healthcheck=30)
        return
    app = build_app(urls, settings)
    freeze_startup_objects()
    run(app)


def run(args: argparse.Namespace, settings: Settings) -> None:
    if args.command == "serve":
        serve(args.host, args.port, settings, args.workers)
    elif args.command == "worker":
        from entrypoints.worker.main import run_worker

        run_worker(settings, args.processes, args.threads)
    elif args.command == "migrate":
        urls = database_urls(settings)
        reached = run_migrations(urls, args.revision)
        print(f"migrated {redacted(urls.owner)} to {reached or 'base'}", flush=True)
    elif args.command == "operator-key":
        issued = commands.issue_operator_key(database_urls(settings), settings, first=False)
        assert issued is not None
        print(issued.token, flush=True)
    elif args.command == "secrets":
        count = commands.rotate_secrets(settings, args.batch_size)
        print(f"done: {count} secrets re-encrypted under the current key", flush=True)
    elif args.command == "providers":
        report = commands.reconcile_providers(settings)
        print(
            f"done: {report.removed} removed at the gateway, {report.still_failing} still "
            "failing (run again later)",
            flush=True,
        )


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per gateway call otherwise
    logging.getLogger("alembic").setLevel(logging.WARNING)
    args = _parser().parse_args(argv)
    try:
        run(args, Settings.from_env())
    except (ConfigurationError, ValueError) as exc:
        print(f"agentkeel: configuration error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
