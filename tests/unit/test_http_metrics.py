from litestar.testing import TestClient

from tests.support.http_app import in_memory_app


def test_metrics_need_the_operator_key_and_count_executions() -> None:
    app = in_memory_app()
    with TestClient(app.app) as client:
        assert client.get("/metrics").status_code == 401
        made = client.post(
            "/api/tenants", json={"name": "m", "admin_email": "a@b.io"}, headers=app.operator
        ).json()
        tenant = {"Authorization": f"Bearer {made['api_key']}"}
        assert client.get("/metrics", headers=tenant).status_code == 403
        agent = client.post(
            "/api/agents", json={"name": "a", "system_prompt": "p"}, headers=tenant
        ).json()
        for _ in range(2):
            client.post(
                f"/api/agents/{agent['id']}/executions", json={"input": "x"}, headers=tenant
            )
        response = client.get("/metrics", headers=app.operator)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'agentkeel_executions{status="queued"} 2' in response.text
    assert 'agentkeel_up{dependency="database"} 1' in response.text
