import hmac

from application.ports.unit_of_work import UnitOfWork
from domain.api_key import check_token_shape, hash_token
from domain.errors import InvalidCredentials
from domain.principal import Principal


class Authenticate:
    """Turn a presented bearer token into the calling principal, scoping the unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, token: str) -> Principal:
        key_hash = hash_token(check_token_shape(token))
        principal = await self._uow.authenticate(key_hash)
        if principal is None:
            # Equalize the work done for unknown keys with that done for known ones.
            hmac.compare_digest(key_hash, key_hash)
            raise InvalidCredentials()
        return principal
