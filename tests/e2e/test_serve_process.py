"""The README's commands as real processes: migrate, operator-key create, serve."""

import re
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.support.postgres import scratch_database
from tests.support.processes import AGENTKEEL, clean_env, run_cli, serving
from tests.support.redis import redis_url
from tests.support.sql_app import TEST_SECRET_KEYS

pytestmark = pytest.mark.postgres
OPERATOR_KEY = re.compile(r"ak_op_[A-Za-z0-9_-]{43}")


def _tenant_round_trip(base: str, operator_key: str, name: str) -> None:
    op = {"Authorization": f"Bearer {operator_key}"}
    created = httpx.post(
        f"{base}/api/tenants", headers=op, json={"name": name, "admin_email": "a@b.io"}
    )
    assert created.status_code == 201, created.text
    tenant = {"Authorization": f"Bearer {created.json()['api_key']}"}
    agent = httpx.post(
        f"{base}/api/agents", headers=tenant, json={"name": "a", "system_prompt": "p"}
    )
    assert agent.status_code == 201
    assert agent.headers["x-request-id"]
    fetched = httpx.get(f"{base}/api/agents/{agent.json()['id']}", headers=tenant)
    assert fetched.json()["tenant_id"] == created.json()["id"]


def test_configured_database(pg_admin_url: str) -> None:
    with scratch_database(pg_admin_url) as url:
        env = clean_env(AGENTKEEL_DATABASE_URL=url, AGENTKEEL_SECRET_KEYS=TEST_SECRET_KEYS)
        assert "migrated" in run_cli("migrate", env=env)
        operator_key = run_cli("operator-key", "create", env=env).strip()
        assert OPERATOR_KEY.fullmatch(operator_key)
        with serving(env) as (base, lines):
            assert not any(OPERATOR_KEY.search(line) for line in lines)  # only embedded prints
            assert httpx.get(f"{base}/health/ready").json()["checks"]["database"] == "ok"
            _tenant_round_trip(base, operator_key, "acme")


def test_a_configured_database_needs_secret_keys(pg_admin_url: str) -> None:
    with scratch_database(pg_admin_url) as url:
        done = subprocess.run(
            [AGENTKEEL, "serve"],
            env=clean_env(AGENTKEEL_DATABASE_URL=url),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2
    assert "AGENTKEEL_SECRET_KEYS is required" in done.stderr


def test_several_http_worker_processes_serve_one_database(pg_admin_url: str) -> None:
    with redis_url() as redis, scratch_database(pg_admin_url) as url:
        env = clean_env(
            AGENTKEEL_DATABASE_URL=url,
            AGENTKEEL_SECRET_KEYS=TEST_SECRET_KEYS,
            AGENTKEEL_REDIS_URL=redis,
        )
        run_cli("migrate", env=env)
        operator_key = run_cli("operator-key", "create", env=env).strip()
        with serving(env, None, "--workers", "2") as (base, _):
            # Whichever process takes a request, each sees what the others wrote.
            for n in range(6):
                _tenant_round_trip(base, operator_key, f"tenant-{n}")


@pytest.mark.parametrize(
    ("workers", "message"),
    [("2", "needs AGENTKEEL_DATABASE_URL and AGENTKEEL_REDIS_URL"), ("0", "at least 1")],
)
def test_workers_flag_is_checked(pg_admin_url: str, workers: str, message: str) -> None:
    done = subprocess.run(
        [AGENTKEEL, "serve", "--workers", workers],
        env=clean_env(AGENTKEEL_DATABASE_URL=pg_admin_url, AGENTKEEL_SECRET_KEYS=TEST_SECRET_KEYS),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert message in done.stderr


def test_embedded_default_prints_a_key_once_and_keeps_data(tmp_path: Path) -> None:
    env = clean_env(AGENTKEEL_DATA_DIR=str(tmp_path / "data"))
    with serving(env) as (base, lines):
        keys = [m.group(0) for line in lines if (m := OPERATOR_KEY.search(line))]
        assert len(keys) == 1
        _tenant_round_trip(base, keys[0], "embedded")
    with serving(env) as (base, lines):
        assert not any(OPERATOR_KEY.search(line) for line in lines)
        listed = httpx.get(f"{base}/api/tenants", headers={"Authorization": f"Bearer {keys[0]}"})
        assert [t["name"] for t in listed.json()] == ["embedded"]
    # Stopped with SIGTERM (as `docker stop` does), serve stops its embedded servers too:
    # PostgreSQL removes its pid file, Redis saves its data as it stops.
    assert not (tmp_path / "data" / "pgdata" / "postmaster.pid").exists()
    assert (tmp_path / "data" / "redis.db").exists()
