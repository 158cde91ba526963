"""Ticket webhooks end to end on real PostgreSQL and Redis, through `agentkeel serve` and
`agentkeel worker` processes: a signed webhook is answered 202, the ticket agent's run
succeeds, and its enhancement reaches a local stub ticket API exactly once; a callback
fails once, is retried (by a restarted worker) and verifies with nothing but the secret."""

import base64
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from tests.support.postgres import scratch_database
from tests.support.processes import clean_env, run_cli, serving
from tests.support.redis import redis_url
from tests.support.sql_app import TEST_SECRET_KEYS
from tests.support.stub_receiver import StubReceiver
from tests.support.webhooks import signed, ticket_body
from tests.support.worker_stack import WorkerProcess, eventually

pytestmark = pytest.mark.postgres
Json = dict[str, Any]
FAST = {
    "AGENTKEEL_WORKER_LEASE_S": "2",
    "AGENTKEEL_WORKER_HEARTBEAT_S": "0.5",
    "AGENTKEEL_REAPER_INTERVAL_S": "0.5",
    "AGENTKEEL_REQUEUE_AFTER_S": "2",
    "AGENTKEEL_BROKER_HEARTBEAT_TIMEOUT_S": "2",
    "AGENTKEEL_DELIVERY_FIRST_RETRY_S": "3",
    "AGENTKEEL_ALLOW_PRIVATE_CALLBACKS": "true",  # the stubs listen on 127.0.0.1
}


@dataclass
class Stack:
    base: str
    tenant_id: str
    headers: dict[str, str]
    secret: str
    remote: StubReceiver
    worker: WorkerProcess

    def get(self, path: str) -> Any:
        response = httpx.get(f"{self.base}{path}", headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def stack(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("webhook-logs")
    remote = StubReceiver()
    with redis_url() as redis, scratch_database(pg_admin_url) as db, remote.running():
        env = clean_env(
            AGENTKEEL_DATABASE_URL=db,
            AGENTKEEL_SECRET_KEYS=TEST_SECRET_KEYS,
            AGENTKEEL_REDIS_URL=redis,
            AGENTKEEL_DATA_DIR=str(logs / "data"),
            **FAST,
        )
        run_cli("migrate", env=env)
        operator = {"Authorization": f"Bearer {run_cli('operator-key', 'create', env=env).strip()}"}
        with serving(env) as (base, _):
            body = {"name": f"msp-{uuid.uuid4().hex[:8]}", "admin_email": "ops@msp.example"}
            tenant = httpx.post(f"{base}/api/tenants", json=body, headers=operator).json()
            headers = {"Authorization": f"Bearer {tenant['api_key']}"}
            agent = httpx.post(
                f"{base}/api/agents",
                json={"name": "triage", "system_prompt": "Enhance the ticket."},
                headers=headers,
            ).json()
            patched = httpx.patch(
                f"{base}/api/tenants/{tenant['id']}",
                json={"ticket_agent_id": agent["id"]},
                headers=headers,
            )
            assert patched.status_code == 200, patched.text
            secret = httpx.post(
                f"{base}/api/tenants/{tenant['id']}/webhook-secret", headers=headers
            )
            assert secret.status_code == 201, secret.text
            system = {
                "kind": "jira",
                "base_url": remote.url,
                "credentials": {"email": "bot@msp.example", "api_token": "jira-token"},
            }
            put = httpx.put(
                f"{base}/api/tenants/{tenant['id']}/ticket-system", json=system, headers=headers
            )
            assert put.status_code == 200, put.text
            worker = WorkerProcess(env, logs)
            worker.start()
            try:
                yield Stack(base, tenant["id"], headers, secret.json()["secret"], remote, worker)
            finally:
                worker.stop()


def test_a_signed_webhook_runs_the_agent_and_writes_back_exactly_once(stack: Stack) -> None:
    body = ticket_body(ticket_id="OPS-42", title="VPN drops every hour")
    url = f"{stack.base}/api/webhooks/tickets/{stack.tenant_id}"
    headers = signed(stack.secret, body)
    answer = httpx.post(url, content=body, headers=headers)
    assert answer.status_code == 202, answer.text
    job = answer.json()["job_id"]
    replay = httpx.post(url, content=body, headers=headers)
    assert replay.json() == {"job_id": job}
    eventually(lambda: stack.get(f"/api/executions/{job}")["status"] == "success", 30, "success")

    def written_back() -> bool:
        return bool(
            stack.get(f"/api/executions/{job}")["ticket_writeback"]["status"] == "delivered"
        )

    eventually(written_back, 30, "the write-back was delivered")
    row = stack.get(f"/api/executions/{job}")
    assert row["ticket_writeback"] == {"status": "delivered", "attempts": 1, "last_error": None}
    time.sleep(2)  # a few dispatcher passes later: still exactly one comment
    [comment] = stack.remote.requests("/rest/api/3/issue/OPS-42/comment")
    expected = "Basic " + base64.b64encode(b"bot@msp.example:jira-token").decode()
    assert comment.headers["authorization"] == expected
    document = json.loads(comment.body)["body"]
    assert document["type"] == "doc" and document["version"] == 1
    texts = [n["text"] for p in document["content"] for n in p.get("content", [])]
    assert "\n".join(texts) in row["output"] and "VPN drops every hour" in row["output"]
    [delivery] = stack.get(f"/api/executions/{job}/deliveries")
    assert (delivery["kind"], delivery["target"]) == ("ticket_writeback", "OPS-42")
    assert [a["status_code"] for a in delivery["attempt_log"]] == [200]


def test_a_callback_fails_once_survives_a_worker_restart_and_verifies(stack: Stack) -> None:
    stack.remote.script = [500]
    callback = f"{stack.remote.url}/hooks/{uuid.uuid4().hex}"
    agents = stack.get("/api/agents")
    submitted = httpx.post(
        f"{stack.base}/api/agents/{agents[0]['id']}/executions",
        json={"input": "callback me", "callback_url": callback},
        headers=stack.headers,
    )
    assert submitted.status_code == 202, submitted.text
    execution_id = submitted.json()["id"]
    path = callback.removeprefix(stack.remote.url)
    eventually(lambda: len(stack.remote.requests(path)) == 1, 30, "the first try")

    def first_try_recorded() -> bool:
        [delivery] = stack.get(f"/api/executions/{execution_id}/deliveries")
        return len(delivery["attempt_log"]) == 1 and delivery["status"] == "pending"

    eventually(first_try_recorded, 10, "the first try was recorded")
    stack.worker.kill()  # the retry is due in 3 s: a new worker must make it
    stack.worker.start()

    def delivered() -> bool:
        [delivery] = stack.get(f"/api/executions/{execution_id}/deliveries")
        return bool(delivery["status"] == "delivered")

    eventually(delivered, 30, "the retried callback was delivered")
    first, second = stack.remote.requests(path)
    assert (first.answered, second.answered) == (500, 200)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    receiver = Webhook(stack.secret)  # all the receiver has
    event = receiver.verify(second.body, second.headers)
    assert event["type"] == "execution.finished"
    assert (event["data"]["id"], event["data"]["status"]) == (execution_id, "success")
    assert event["data"] == {
        **event["data"],
        **{"output": stack.get(f"/api/executions/{execution_id}")["output"]},
    }
    [delivery] = stack.get(f"/api/executions/{execution_id}/deliveries")
    assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 200]
    assert delivery["attempt_log"][0]["delivered"] is False
    assert delivery["webhook_id"] == second.headers["webhook-id"]
