"""Secrets at rest with libsodium's XChaCha20-Poly1305 AEAD and a versioned key ring."""

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Self

from nacl.exceptions import CryptoError
from nacl.secret import Aead

from application.errors import SecretUnreadable
from application.ports.secret_box import SealedSecret, SecretContext

KEY_SIZE = Aead.KEY_SIZE  # 32
# Below this a ciphertext cannot even hold its nonce and tag; PyNaCl would fail on it with
# a plain ValueError from cffi instead of a CryptoError, so it is refused up front.
_MIN_CIPHERTEXT = Aead.NONCE_SIZE + Aead.MACBYTES
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


def parse_key_ring(value: str) -> dict[str, bytes]:
    """Parse `AGENTKEEL_SECRET_KEYS` (`kid:base64key,kid2:base64key2`), order kept.

    Error messages name the entry position and, once it is valid, the key id; they never
    echo the value, since a malformed entry may well be a bare key.
    """
    if not value.strip():
        raise ValueError("AGENTKEEL_SECRET_KEYS is empty; expected kid:base64key[,...]")
    ring: dict[str, bytes] = {}
    for position, entry in enumerate(value.split(","), start=1):
        key_id, sep, encoded = entry.strip().partition(":")
        if not sep or not encoded.strip():
            raise ValueError(f"secret key entry {position} is not of the form kid:base64key")
        _check_key_id(key_id, f"secret key entry {position}")
        if key_id in ring:
            raise ValueError(f"secret key id {key_id!r} appears more than once")
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            # `from None`: the decoder's own error must not ride along in a traceback.
            raise ValueError(f"secret key {key_id!r} is not valid base64") from None
        ring[key_id] = _checked_key(key_id, key)
    return ring


def _check_key_id(key_id: str, where: str) -> None:
    if not _KEY_ID.fullmatch(key_id):
        raise ValueError(f"{where} has an invalid key id; expected [A-Za-z0-9_-]{{1,32}}")


def _checked_key(key_id: str, key: bytes) -> bytes:
    if len(key) != KEY_SIZE:
        raise ValueError(f"secret key {key_id!r} is {len(key)} bytes, expected {KEY_SIZE}")
    return key


class NaclSecretBox:
    """`SecretBox` over `nacl.secret.Aead`: the first key seals, every key opens.

    The context's associated data binds each ciphertext to its tenant, table, row and
    field; PyNaCl prepends a random 24-byte nonce, safe to pick at random at this size.
    """

    def __init__(self, keys: Mapping[str, bytes]) -> None:
        if not keys:
            raise ValueError("a secret box needs at least one key")
        for key_id, key in keys.items():
            _check_key_id(key_id, "secret box")
            _checked_key(key_id, key)
        self._aeads = {key_id: Aead(key) for key_id, key in keys.items()}
        self._current = next(iter(keys))

    @classmethod
    def from_env_value(cls, value: str) -> Self:
        return cls(parse_key_ring(value))

    def __repr__(self) -> str:
        # Key ids only: this object ends up in logs and tracebacks.
        return f"NaclSecretBox(key_ids={self.key_ids!r})"

    @property
    def current_key_id(self) -> str:
        return self._current

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Current key first, then the older keys kept for opening."""
        return tuple(self._aeads)

    def with_new_primary(self, key_id: str, key: bytes) -> Self:
        """A box that seals with the new key and still opens everything this one can."""
        if key_id in self._aeads:
            raise ValueError(f"secret key id {key_id!r} is already in the key ring")
        keys = {key_id: key} | {kid: bytes(aead) for kid, aead in self._aeads.items()}
        return type(self)(keys)

    def seal(self, plaintext: bytes, context: SecretContext) -> SealedSecret:
        aead = self._aeads[self._current]
        ciphertext = aead.encrypt(plaintext, context.associated_data())
        return SealedSecret(key_id=self._current, ciphertext=bytes(ciphertext))

    def open(self, sealed: SealedSecret, context: SecretContext) -> bytes:
        aead = self._aeads.get(sealed.key_id)
        if aead is None:
            raise SecretUnreadable(f"secret sealed with unknown key id {sealed.key_id!r}")
        if len(sealed.ciphertext) < _MIN_CIPHERTEXT:
            raise SecretUnreadable(f"secret for {context.table}.{context.field} is truncated")
        try:
            return aead.decrypt(sealed.ciphertext, context.associated_data())
        except CryptoError:
            # One message for every cause: a wrong context and tampering look the same.
            raise SecretUnreadable(
                f"secret for {context.table}.{context.field} failed authentication"
            ) from None

    def needs_rotation(self, sealed: SealedSecret) -> bool:
        return sealed.key_id != self._current
