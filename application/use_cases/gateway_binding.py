"""Binding a provider to the gateway: its own deployment and a virtual key restricted to it.

Gateway objects are created before any row is written; if a later step fails they are
removed again, and if that removal fails too they are recorded as orphans so that
`agentkeel providers reconcile` can finish the job. Nothing is forgotten.
"""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from application.gateway_errors import GatewayError
from application.ports.clock import Clock
from application.ports.llm_gateway import LlmGateway
from application.ports.orphan_repository import ORPHANS_TABLE, GatewayOrphan
from application.ports.secret_box import SecretBox, SecretContext
from domain.ids import new_id
from domain.provider import LlmProvider


@dataclass(frozen=True, slots=True)
class Binding:
    deployment_id: str
    virtual_key: str = field(repr=False)
    virtual_key_id: str = ""


async def bind(
    gateway: LlmGateway,
    provider: LlmProvider,
    api_key: str,
    leftover: Callable[[str], Awaitable[None]],
) -> Binding:
    """Deployment, then key. If the key cannot be minted the deployment is removed again;
    if even that fails, `leftover(deployment_id)` is told, so that it is never forgotten.

    The key's alias names its deployment, so a rotation's new key never asks for the alias
    the old key still holds, and a retried rotation (a new deployment) never asks for the
    alias of a key an earlier attempt left behind."""
    deployment_id = await gateway.register_deployment(
        provider.deployment_name, provider.gateway_model, api_key, provider.api_base
    )
    try:
        key = await gateway.create_virtual_key(
            models=[provider.deployment_name],
            alias=provider.key_alias(deployment_id),
            max_budget=provider.max_budget,
            metadata={"tenant_id": str(provider.tenant_id), "provider_id": str(provider.id)},
        )
    except BaseException:
        try:
            await gateway.remove_deployment(deployment_id)
        except GatewayError:
            await leftover(deployment_id)
        raise
    return Binding(deployment_id, key.key, key.token_id)


async def unbind(
    gateway: LlmGateway,
    binding: Binding,
    tenant_id: uuid.UUID | None,
    box: SecretBox,
    clock: Clock,
) -> list[GatewayOrphan]:
    """Revoke the key and remove the deployment; what fails comes back as orphans."""
    orphans: list[GatewayOrphan] = []
    try:
        await gateway.revoke_key(binding.virtual_key)
    except GatewayError as exc:
        orphan = GatewayOrphan(
            id=new_id(),
            tenant_id=tenant_id,
            kind="virtual_key",
            reference=binding.virtual_key_id,
            created_at=clock.now(),
            last_error=type(exc).__name__,
            attempts=1,
        )
        orphan.secret = box.seal(binding.virtual_key.encode(), orphan_key_context(orphan))
        orphans.append(orphan)
    try:
        await gateway.remove_deployment(binding.deployment_id)
    except GatewayError as exc:
        orphans.append(
            GatewayOrphan(
                id=new_id(),
                tenant_id=tenant_id,
                kind="deployment",
                reference=binding.deployment_id,
                created_at=clock.now(),
                last_error=type(exc).__name__,
                attempts=1,
            )
        )
    return orphans


def orphan_key_context(orphan: GatewayOrphan) -> SecretContext:
    return SecretContext(orphan.tenant_id or uuid.UUID(int=0), ORPHANS_TABLE, orphan.id, "key")
