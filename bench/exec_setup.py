"""The execute bench's cast: the mock LiteLLM upstream and `agentkeel serve` as child
processes, the tenants, providers and agents seeded through the API, and the smoke test
that must pass before any load (bench/execute.py drives them)."""

import json
import secrets
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx

from bench import service
from bench.common import VENV_BIN, log
from bench.seed import PROMPT, api_post

INPUT = "Summarise in one sentence why unit tests are worth writing."
MODEL = "gpt-4o-mini"
TEMPERATURE = 0.5
MAX_TOKENS = 256


def upstream_body() -> str:
    """What the gateway adapter POSTs to /chat/completions for a non-BYOK agent (httpx's
    compact JSON), so (a) sends the mock the same bytes as the service does."""
    body = {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": PROMPT},
            {"role": "user", "content": INPUT},
        ],
        "temperature": TEMPERATURE,
        "max_tokens": MAX_TOKENS,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


# --------------------------------------------------------------------------- processes


class Mock:
    """bench/mock_upstream.py as a child process; stopped by its PID only."""

    def __init__(self, master_key: str, logfile: Path, extra_args: tuple[str, ...] = ()) -> None:
        self._log = logfile.open("w")
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "python"), "-m", "bench.mock_upstream", "--port", "0",
             "--master-key", master_key, *extra_args],
            cwd=str(Path(__file__).resolve().parent.parent),
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )  # fmt: skip
        self.pid = self.proc.pid
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        if len(line) != 2 or line[0] != "READY":
            self.stop()
            raise RuntimeError(f"mock upstream did not start, see {logfile}")
        self.base = f"http://127.0.0.1:{line[1]}"
        log(f"mock upstream on {self.base} (pid {self.pid})")

    def stats(self) -> dict[str, int]:
        """Request counters, plus `connections`: TCP connections the mock accepted."""
        data = httpx.get(self.base + "/_bench/stats", timeout=5).json()
        counts: dict[str, int] = {**data["counts"], "connections": data["connections"]}
        return counts

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # by its PID
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


class GatewayServer(service.Server):
    """`agentkeel serve` as bench/service.py starts it, plus the LiteLLM settings."""

    def __init__(
        self, url: str, logfile: Path, extra_env: dict[str, str], args: Sequence[str] = ()
    ) -> None:
        super().__init__(url, logfile, {**service.service_env(url), **extra_env}, args)


# --------------------------------------------------------------------------- seeding


@dataclass(frozen=True, slots=True)
class Seeded:
    platform: list[tuple[str, str]]  # (tenant key, agent id), non-BYOK agents
    byok: list[tuple[str, str]]  # (tenant key, agent id), BYOK agents


async def seed(base: str, operator: str, tenants: int, per_kind: int) -> Seeded:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        post = partial(api_post, client)

        plain: list[tuple[str, str]] = []
        byok: list[tuple[str, str]] = []
        for t in range(tenants):
            tenant = await post(
                "/api/tenants",
                operator,
                {"name": f"exec-tenant-{t:03d}", "admin_email": f"x{t}@bench.example"},
            )
            token, tenant_id = tenant["api_key"], tenant["id"]
            await post(  # the BYOK provider: deployment + virtual key minted at the mock
                f"/api/tenants/{tenant_id}/providers",
                token,
                {"provider_name": "openai", "api_key": "sk-tenant-" + secrets.token_hex(16),
                 "model": MODEL},
            )  # fmt: skip
            for a in range(per_kind):
                common = {"system_prompt": PROMPT, "model": MODEL, "temperature": TEMPERATURE,
                          "max_tokens": MAX_TOKENS}  # fmt: skip
                made = await post("/api/agents", token, {"name": f"plain-{a}", **common})
                plain.append((token, made["id"]))
                # No provider_id: the run then uses the tenant's (only) active provider.
                made = await post(
                    "/api/agents", token, {"name": f"byok-{a}", **common, "use_byok": True}
                )
                byok.append((token, made["id"]))
    return Seeded(plain, byok)


def smoke(base: str, mock: Mock, seeded: Seeded) -> tuple[bool, str]:
    """One execute of each kind: 200, status success, usage and cost from the mock; the BYOK
    call reached the mock with a virtual key, the platform call with the master key."""
    before = mock.stats()
    results: list[tuple[str, bool, object]] = []
    with httpx.Client(base_url=base, timeout=30) as c:
        for label, (token, agent) in (("platform", seeded.platform[0]), ("byok", seeded.byok[0])):
            r = c.post(
                "/api/agents/execute",
                json={"agent_id": agent, "input": INPUT},
                headers={"Authorization": f"Bearer {token}"},
            )
            is_json = r.headers.get("content-type", "").startswith("application/json")
            body = r.json() if is_json else {}
            ok = (
                r.status_code == 200
                and body.get("status") == "success"
                and (body.get("usage") or {}).get("total_tokens", 0) > 0
                and body.get("cost") is not None
            )
            results.append((label, ok, r.status_code))
    after = mock.stats()
    master = after.get("chat_master", 0) - before.get("chat_master", 0)
    keyed = after.get("chat_key", 0) - before.get("chat_key", 0)
    results.append(("routing", master == 1 and keyed == 1, f"master={master},vkey={keyed}"))
    text = " ".join(f"{label}={code}{'' if ok else '(FAIL)'}" for label, ok, code in results)
    return all(ok for _, ok, _ in results), text
