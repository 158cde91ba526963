import base64
import os
import stat
import uuid
from pathlib import Path

import pytest

from adapters.nacl.key_file import load_or_create_key_file, new_key_entry
from adapters.nacl.secret_box import NaclSecretBox, parse_key_ring
from application.ports.secret_box import SecretContext

KEY_1 = bytes(range(32))
KEY_2 = bytes(range(32, 64))
B64_1 = base64.b64encode(KEY_1).decode()
B64_2 = base64.b64encode(KEY_2).decode()
SHORT_B64 = base64.b64encode(b"sixteen byte key").decode()
LONG_B64 = base64.b64encode(KEY_1 + b"x").decode()


def test_parse_keeps_order_and_tolerates_spaces() -> None:
    ring = parse_key_ring(f" k2:{B64_2} , k1:{B64_1} ")
    assert list(ring) == ["k2", "k1"]
    assert ring == {"k2": KEY_2, "k1": KEY_1}


def test_key_ids_may_use_the_whole_allowed_alphabet() -> None:
    kid = "Ab_9-" + "z" * 27  # 32 chars
    assert parse_key_ring(f"{kid}:{B64_1}") == {kid: KEY_1}


@pytest.mark.parametrize(
    ("value", "message", "secret"),
    [
        ("", "is empty", ""),
        ("   ", "is empty", ""),
        (B64_1, "entry 1 is not of the form kid:base64key", B64_1),
        ("k1:", "entry 1 is not of the form", ""),
        (f"k1:{B64_1},", "entry 2 is not of the form", B64_1),
        (f"k1:{B64_1[:-2]}!!", "'k1' is not valid base64", B64_1[:-2]),
        ("k1:ünïcode", "'k1' is not valid base64", "ünïcode"),
        (f"k1:{SHORT_B64}", "'k1' is 16 bytes, expected 32", SHORT_B64),
        (f"k1:{LONG_B64}", "'k1' is 33 bytes, expected 32", LONG_B64),
        (f"k1:{B64_1},k1:{B64_2}", "'k1' appears more than once", B64_2),
        (f"bad kid:{B64_1}", "entry 1 has an invalid key id", B64_1),
        (f"{'k' * 33}:{B64_1}", "entry 1 has an invalid key id", B64_1),
        (f"{B64_1}:k1", "entry 1 has an invalid key id", B64_1),  # fields swapped
    ],
)
def test_bad_key_rings_are_refused_without_leaking_keys(
    value: str, message: str, secret: str
) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        parse_key_ring(value)
    if secret:
        assert secret not in str(caught.value)
    # No chained decoder error carrying input along in a traceback.
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__ or caught.value.__context__ is None
    with pytest.raises(ValueError, match=message):
        NaclSecretBox.from_env_value(value)


def test_box_constructor_validates_keys() -> None:
    with pytest.raises(ValueError, match="at least one key"):
        NaclSecretBox({})
    with pytest.raises(ValueError, match="'k1' is 31 bytes"):
        NaclSecretBox({"k1": KEY_1[:31]})
    with pytest.raises(ValueError, match="invalid key id"):
        NaclSecretBox({"k 1": KEY_1})


def test_box_from_env_value_seals_with_the_first_key() -> None:
    box = NaclSecretBox.from_env_value(f"k2:{B64_2},k1:{B64_1}")
    ctx = SecretContext(uuid.uuid4(), "agents", uuid.uuid4(), "api_key")
    assert box.seal(b"x", ctx).key_id == "k2"
    assert box.open(NaclSecretBox({"k1": KEY_1}).seal(b"from k1", ctx), ctx) == b"from k1"


def test_new_primary_refuses_a_known_key_id_or_bad_key() -> None:
    box = NaclSecretBox({"k1": KEY_1})
    with pytest.raises(ValueError, match="'k1' is already in the key ring"):
        box.with_new_primary("k1", KEY_2)
    with pytest.raises(ValueError, match="'k2' is 16 bytes"):
        box.with_new_primary("k2", KEY_2[:16])
    assert box.key_ids == ("k1",)  # the original ring is untouched


def test_new_key_entry_is_a_valid_single_key_ring() -> None:
    first, second = new_key_entry(), new_key_entry()
    ring = parse_key_ring(first)
    (kid,) = ring
    assert kid.startswith("k")
    assert len(ring[kid]) == 32
    assert parse_key_ring(second).keys() != ring.keys()
    assert parse_key_ring(second)[next(iter(parse_key_ring(second)))] != ring[kid]


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "state" / "secret.keys"
    value = load_or_create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == value
    assert load_or_create_key_file(path) == value
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret.keys"]  # no temp left
    box = NaclSecretBox.from_env_value(value)
    ctx = SecretContext(uuid.uuid4(), "webhook_secrets", uuid.uuid4(), "secret")
    sealed = box.seal(b"whsec", ctx)
    assert NaclSecretBox.from_env_value(load_or_create_key_file(path)).open(sealed, ctx) == (
        b"whsec"
    )


def test_key_file_is_private_even_with_a_permissive_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        load_or_create_key_file(tmp_path / "secret.keys")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "secret.keys").stat().st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o620, 0o602, 0o666])
def test_key_file_with_loose_permissions_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "secret.keys"
    path.write_text(f"k1:{B64_1}\n")
    path.chmod(mode)
    with pytest.raises(ValueError, match=f"mode {mode:04o}; allow the owner only") as caught:
        load_or_create_key_file(path)
    assert B64_1 not in str(caught.value)
    assert path.read_text() == f"k1:{B64_1}\n"  # refused, not regenerated


@pytest.mark.parametrize("mode", [0o600, 0o400, 0o700])  # owner-only is what matters
def test_existing_owner_only_key_file_is_read_as_is(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "secret.keys"
    path.write_text(f"k2:{B64_2},k1:{B64_1}\n")
    path.chmod(mode)
    assert load_or_create_key_file(path) == f"k2:{B64_2},k1:{B64_1}"


def test_empty_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret.keys"
    path.touch(mode=0o600)
    path.chmod(0o600)
    with pytest.raises(ValueError, match="is empty"):
        load_or_create_key_file(path)
