"""Schemathesis against the OpenAPI document of a running `agentkeel serve` on PostgreSQL:
every operation the document lists (routes added later included), all phases, with an
operator key and with a tenant key. No 5xx, and every response as the document says
(status, content type, headers, body schema); the document is what the service does.

Two rules are widened, each because the service is stricter than a schema can say:
* positive data: a schema-valid request may still get 422 from the domain (an id that
  is not the tenant's, `tenant_id` required of the operator key only, a blank name, an
  email without a dot); the 422 body itself is still checked against the document;
* negative data: 413 is a rejection too (a body over the documented size limit).
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.postgres import scratch_database
from tests.support.processes import clean_env, run_cli, serving
from tests.support.redis import redis_url
from tests.support.schemathesis_output import only_known_tool_errors
from tests.support.sql_app import TEST_SECRET_KEYS

pytestmark = pytest.mark.postgres
SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", 401, 403, 404, 409, 422, 429]

[checks.negative_data_rejection]
expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]
"""
MAX_EXAMPLES = os.environ.get("AGENTKEEL_SCHEMATHESIS_EXAMPLES", "15")


@pytest.fixture(scope="module")
def service(pg_admin_url: str) -> Iterator[tuple[str, str, str]]:
    """The service on a scratch database, its operator key and one tenant's key."""
    with redis_url() as redis, scratch_database(pg_admin_url) as url:
        env = clean_env(
            AGENTKEEL_DATABASE_URL=url,
            AGENTKEEL_SECRET_KEYS=TEST_SECRET_KEYS,
            AGENTKEEL_REDIS_URL=redis,
        )
        run_cli("migrate", env=env)
        operator_key = run_cli("operator-key", "create", env=env).strip()
        with serving(env) as (base, _):
            created = httpx.post(
                f"{base}/api/tenants",
                headers={"Authorization": f"Bearer {operator_key}"},
                json={"name": "schemathesis", "admin_email": "ops@example.com"},
            )
            assert created.status_code == 201, created.text
            yield base, operator_key, created.json()["api_key"]


@pytest.mark.parametrize("who", ["operator", "tenant"])
def test_the_service_does_what_its_openapi_document_says(
    service: tuple[str, str, str], who: str, tmp_path: Path
) -> None:
    base, operator_key, tenant_key = service
    key = operator_key if who == "operator" else tenant_key
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    command = [
        SCHEMATHESIS, "--config-file", str(config), "--no-color",
        "run", f"{base}/schema/openapi.json",
        "--header", f"Authorization: Bearer {key}",
        "--checks", "all",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", MAX_EXAMPLES,
        "--workers", "2",
        "--generation-database", "none",
        "--seed", "13",
        "--request-timeout", "20",
    ]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=240, check=False, cwd=tmp_path
    )
    failures, _, summary = done.stdout.partition("=== SUMMARY ===")
    report = failures[-20000:] + summary + done.stderr[-2000:]
    assert "Tested: " in summary and "Failures:" not in summary, report
    if done.returncode != 0:  # only for Schemathesis' own errors, never for a failure
        assert only_known_tool_errors(done.stdout), report
