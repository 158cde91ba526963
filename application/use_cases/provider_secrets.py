"""Sealing and opening a provider's secrets, bound to tenant, table, row and field."""

from application.ports.provider_repository import PROVIDERS_TABLE, ProviderSecrets
from application.ports.secret_box import SealedSecret, SecretBox, SecretContext
from domain.provider import LlmProvider


def _context(provider: LlmProvider, field: str) -> SecretContext:
    return SecretContext(provider.tenant_id, PROVIDERS_TABLE, provider.id, field)


def seal_provider_secrets(
    box: SecretBox, provider: LlmProvider, api_key: str, virtual_key: str
) -> ProviderSecrets:
    return ProviderSecrets(
        api_key=box.seal(api_key.encode(), _context(provider, "api_key")),
        virtual_key=box.seal(virtual_key.encode(), _context(provider, "virtual_key")),
    )


def open_api_key(box: SecretBox, provider: LlmProvider, secrets: ProviderSecrets) -> str:
    return box.open(secrets.api_key, _context(provider, "api_key")).decode()


def open_virtual_key(box: SecretBox, provider: LlmProvider, secrets: ProviderSecrets) -> str:
    return box.open(secrets.virtual_key, _context(provider, "virtual_key")).decode()


def reseal(box: SecretBox, provider: LlmProvider, secrets: ProviderSecrets) -> ProviderSecrets:
    """The same secrets under the box's current key (for `agentkeel secrets rotate`)."""
    return seal_provider_secrets(
        box,
        provider,
        open_api_key(box, provider, secrets),
        open_virtual_key(box, provider, secrets),
    )


def needs_reseal(box: SecretBox, secrets: ProviderSecrets) -> bool:
    sealed: tuple[SealedSecret, ...] = (secrets.api_key, secrets.virtual_key)
    return any(box.needs_rotation(s) for s in sealed)
