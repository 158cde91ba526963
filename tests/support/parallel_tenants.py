"""Many tenants' requests at once through one pool: what each saw of another tenant."""

import asyncio
import random

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.factories import unique
from tests.support.sql_app import bearer, issue_operator_key, sql_client


async def requests_of_other_tenants(
    engine: AsyncEngine, tenants_count: int = 20, requests: int = 240
) -> list[tuple[str, list[str]]]:
    """`requests` requests from `tenants_count` tenants at once (lists, reads of their own
    agents and of another's, creations); the ones that saw a row of another tenant."""
    operator = bearer(await issue_operator_key(engine))
    async with sql_client(engine) as client:
        tenants = []
        for _ in range(tenants_count):
            made = await client.post(
                "/api/tenants",
                json={"name": unique("par"), "admin_email": "a@b.io"},
                headers=operator,
            )
            tenants.append((made.json()["id"], bearer(made.json()["api_key"])))
        agents: dict[str, list[str]] = {tid: [] for tid, _ in tenants}
        for tid, auth in tenants:
            for n in range(2):
                made = await client.post(
                    "/api/agents", json={"name": f"a{n}", "system_prompt": "p"}, headers=auth
                )
                agents[tid].append(made.json()["id"])

        async def one_request(i: int) -> tuple[str, list[str]]:
            tid, auth = tenants[i % tenants_count]
            kind = i % 4
            if kind == 0:
                r = await client.get("/api/agents", headers=auth)
                return tid, [a["tenant_id"] for a in r.json()]
            if kind == 1:
                r = await client.get(f"/api/agents/{random.choice(agents[tid])}", headers=auth)
                return tid, [r.json()["tenant_id"]]
            if kind == 2:  # another tenant's agent: must be invisible
                other = tenants[(i + 1) % tenants_count][0]
                r = await client.get(f"/api/agents/{agents[other][0]}", headers=auth)
                assert r.status_code == 404
                return tid, []
            r = await client.post(
                "/api/agents", json={"name": unique("p"), "system_prompt": "p"}, headers=auth
            )
            assert r.status_code == 201
            return tid, [r.json()["tenant_id"]]

        results = await asyncio.gather(*(one_request(i) for i in range(requests)))
    assert len(results) == requests
    return [(tid, seen) for tid, seen in results if any(s != tid for s in seen)]
