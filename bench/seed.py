"""Step 3b: tenants and agents through the HTTP API, the pairs file, the smoke test."""

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.common import env_str, log

PROMPT = "You are a helpful agent created by the load test."
# `%d` becomes wrk's request counter (wrk/agents.lua); @RUN@ is made unique per wrk
# process by bench/load.py (names are unique per tenant in our schema).
POST_BODY = json.dumps(
    {
        "name": "load-@RUN@-%d",
        "system_prompt": PROMPT,
        "model": "gpt-4o-mini",
        "temperature": 0.5,
        "max_tokens": 512,
        "use_byok": False,
    },
    separators=(",", ":"),
)


@dataclass(frozen=True, slots=True)
class Seeded:
    tokens: list[str]  # one key per tenant
    agents: list[list[str]]  # agent ids, per tenant (same order)

    def pairs(self) -> list[tuple[str, str]]:
        return [(t, a) for t, ids in zip(self.tokens, self.agents, strict=True) for a in ids]


async def api_post(
    client: httpx.AsyncClient, path: str, token: str, body: dict[str, object]
) -> dict[str, str]:
    """POST as `token`; anything but 200/201 stops the seeding with the service's answer."""
    r = await client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    if r.status_code not in (200, 201):
        raise RuntimeError(f"POST {path} -> {r.status_code}: {r.text[:300]}")
    data: dict[str, str] = r.json()
    return data


def _agent_body(name: str) -> dict[str, object]:
    return {"name": name, "system_prompt": PROMPT, "model": "gpt-4o-mini",
            "temperature": 0.5, "max_tokens": 512, "use_byok": False}  # fmt: skip


async def _seed(base: str, operator: str, tenants: int, agents: int) -> Seeded:
    limits = httpx.Limits(max_connections=16)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        gate = asyncio.Semaphore(16)

        async def post(path: str, token: str, body: dict[str, object]) -> dict[str, str]:
            async with gate:
                return await api_post(client, path, token, body)

        made = await asyncio.gather(
            *(post("/api/tenants", operator, {"name": f"bench-tenant-{t:03d}",
                                              "admin_email": f"t{t}@bench.example"})
              for t in range(tenants))
        )  # fmt: skip
        tokens = [m["api_key"] for m in made]
        rows = await asyncio.gather(
            *(post("/api/agents", tok, _agent_body(f"seed-{a:03d}"))
              for tok in tokens for a in range(agents))
        )  # fmt: skip
    ids = [r["id"] for r in rows]
    return Seeded(tokens, [ids[i * agents : (i + 1) * agents] for i in range(tenants)])


def seed(base: str, operator: str, pairs_file: Path) -> Seeded:
    tenants = int(env_str("BENCH_TENANTS", "20"))
    agents = int(env_str("BENCH_AGENTS_PER_TENANT", "50"))
    seeded = asyncio.run(_seed(base, operator, tenants, agents))
    pairs_file.write_text("".join(f"{t} {a}\n" for t, a in seeded.pairs()))
    log(f"seeded {tenants} tenants x {agents} agents; pairs in {pairs_file}")
    return seeded


def smoke(base: str, seeded: Seeded) -> tuple[bool, str]:
    """The anchors' contract, with a body our API accepts (system_prompt is required)."""
    (t1, t2), a1, a2 = seeded.tokens[:2], seeded.agents[0][0], seeded.agents[1][0]
    results: list[tuple[str, bool, int]] = []
    with httpx.Client(base_url=base, timeout=10) as c:

        def check(label: str, ok_codes: tuple[int, ...], r: httpx.Response, extra: bool = True):
            results.append((label, r.status_code in ok_codes and extra, r.status_code))

        r = c.get(f"/api/agents/{a1}", headers={"Authorization": f"Bearer {t1}"})
        check("get", (200,), r, r.status_code == 200 and r.json().get("id") == a1)
        r = c.get(f"/api/agents/{a2}", headers={"Authorization": f"Bearer {t1}"})
        check("other_tenant", (404,), r)
        r = c.get(f"/api/agents/{a1}", headers={"Authorization": "Bearer nope"})
        check("bad_key", (401,), r)
        r = c.get(f"/api/agents/{a1}", headers={"Authorization": "Bearer ak_tn_" + "x" * 43})
        check("unknown_key", (401,), r)
        r = c.post("/api/agents", json=_agent_body("load-smoke"),
                   headers={"Authorization": f"Bearer {t2}"})  # fmt: skip
        check("post", (201,), r)
        bad = {**_agent_body("load-x"), "temperature": 9}
        r = c.post("/api/agents", json=bad, headers={"Authorization": f"Bearer {t2}"})
        check("post_invalid", (400, 422), r)
    text = " ".join(f"{label}={code}{'' if ok else '(FAIL)'}" for label, ok, code in results)
    return all(ok for _, ok, _ in results), text
