import base64
import random
import uuid
from collections.abc import Callable
from dataclasses import replace

import pytest

from adapters.nacl.secret_box import NaclSecretBox
from application.errors import SecretUnreadable
from application.ports.secret_box import SealedSecret, SecretBox, SecretContext

KEY_1 = bytes(range(32))
KEY_2 = bytes(range(32, 64))
TABLES = ["tenant_providers", "webhook_secrets", "mcp_servers"]
FIELDS = ["api_key", "virtual_key", "secret", "env_vars"]


def context(rng: random.Random | None = None) -> SecretContext:
    rng = rng or random.Random()
    return SecretContext(
        tenant_id=uuid.UUID(int=rng.getrandbits(128), version=4),
        table=rng.choice(TABLES),
        row_id=uuid.UUID(int=rng.getrandbits(128), version=4),
        field=rng.choice(FIELDS),
    )


def box() -> NaclSecretBox:
    return NaclSecretBox({"k1": KEY_1})


def opens(secret_box: SecretBox, sealed: SealedSecret, ctx: SecretContext) -> bool:
    """False only for SecretUnreadable; any other exception fails the test."""
    try:
        secret_box.open(sealed, ctx)
    except SecretUnreadable:
        return False
    return True


@pytest.mark.parametrize("plaintext", [b"sk-provider-key", b"", bytes(range(256)) * 40])
def test_round_trip(plaintext: bytes) -> None:
    ctx, secret_box = context(), box()
    sealed = secret_box.seal(plaintext, ctx)
    assert sealed.key_id == secret_box.current_key_id == "k1"
    assert sealed.ciphertext != secret_box.seal(plaintext, ctx).ciphertext  # fresh nonce
    assert secret_box.open(sealed, ctx) == plaintext
    assert not plaintext or plaintext not in sealed.ciphertext


def test_1000_ciphertexts_moved_to_other_contexts_never_open() -> None:
    rng = random.Random(20240601)
    # A few tenants so that many swaps stay within one tenant (row or field differs only).
    tenants = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(5)]
    secret_box = box()
    pairs = []
    for i in range(1000):
        ctx = replace(context(rng), tenant_id=rng.choice(tenants))
        pairs.append((ctx, secret_box.seal(f"secret-{i}".encode(), ctx)))
    # Each ciphertext goes to another pair's context (a random non-zero offset).
    swaps = [
        (sealed, pairs[(i + rng.randrange(1, 1000)) % 1000][0])
        for i, (_, sealed) in enumerate(pairs)
    ]
    assert all(other != ctx for (ctx, _), (_, other) in zip(pairs, swaps, strict=True))
    assert sum(opens(secret_box, sealed, other) for sealed, other in swaps) == 0
    assert all(opens(secret_box, sealed, ctx) for ctx, sealed in pairs)


OTHER = {"tenant_id": uuid.uuid4(), "table": "x", "row_id": uuid.uuid4(), "field": "y"}


@pytest.mark.parametrize("part", list(OTHER))
def test_changing_any_one_part_of_the_context_refuses(part: str) -> None:
    ctx = context()
    sealed = box().seal(b"secret", ctx)
    with pytest.raises(SecretUnreadable):
        box().open(sealed, replace(ctx, **{part: OTHER[part]}))  # type: ignore[arg-type]


def _flip(data: bytes, position: int) -> bytes:
    flipped = bytearray(data)
    flipped[position] ^= 0x01
    return bytes(flipped)


@pytest.mark.parametrize(
    "damage",
    [
        *(lambda ct, p=p: _flip(ct, p) for p in (0, 23, 24, 30, -1)),  # nonce, body, tag
        *(lambda ct, n=n: ct[:n] for n in (0, 10, 24, 30, 39, -1)),  # truncated
        lambda ct: ct + b"\x00",
    ],
)
def test_tampered_ciphertext_refuses(damage: Callable[[bytes], bytes]) -> None:
    ctx = context()
    sealed = box().seal(b"a secret of some length", ctx)
    with pytest.raises(SecretUnreadable):
        box().open(replace(sealed, ciphertext=damage(sealed.ciphertext)), ctx)


def test_unknown_key_id_or_another_key_under_the_same_id_refuses() -> None:
    ctx = context()
    sealed = box().seal(b"secret", ctx)
    with pytest.raises(SecretUnreadable, match="unknown key id 'k9'"):
        box().open(replace(sealed, key_id="k9"), ctx)
    with pytest.raises(SecretUnreadable):
        NaclSecretBox({"k1": KEY_2}).open(sealed, ctx)


def test_new_primary_seals_with_new_key_and_old_key_still_opens() -> None:
    ctx = context()
    old = box().seal(b"old secret", ctx)
    rotated = box().with_new_primary("k2", KEY_2)
    assert rotated.current_key_id == "k2"
    assert rotated.key_ids == ("k2", "k1")
    assert rotated.open(old, ctx) == b"old secret"
    new = rotated.seal(b"new secret", ctx)
    assert new.key_id == "k2"
    assert rotated.needs_rotation(old)
    assert not rotated.needs_rotation(new)
    with pytest.raises(SecretUnreadable):
        box().open(new, ctx)  # the old ring does not know k2
    # Key ids only in the repr: boxes end up in logs and tracebacks.
    assert "'k2', 'k1'" in repr(rotated)
    assert base64.b64encode(KEY_1).decode() not in repr(rotated)
    assert KEY_1.hex() not in repr(rotated)


def test_associated_data_encoding_is_pinned_and_unambiguous() -> None:
    # Stored ciphertexts depend on these exact bytes; changing them needs a re-seal.
    tenant, row = uuid.UUID(int=1), uuid.UUID(int=2)
    expected = b"\0\0\0\x13agentkeel:secret:v1\0\0\0\x10" + tenant.bytes + b"\0\0\0\x01t"
    expected += b"\0\0\0\x10" + row.bytes + b"\0\0\0\x01f"
    assert SecretContext(tenant, "t", row, "f").associated_data() == expected
    # Length prefixes: moving a separator from the table into the field changes the bytes.
    one, two = SecretContext(tenant, "a|b", row, "c"), SecretContext(tenant, "a", row, "b|c")
    assert one.associated_data() != two.associated_data()


@pytest.mark.parametrize(("table", "field"), [("", "api_key"), ("providers", "")])
def test_context_needs_table_and_field(table: str, field: str) -> None:
    with pytest.raises(ValueError, match="table and a field"):
        SecretContext(uuid.uuid4(), table, uuid.uuid4(), field)
