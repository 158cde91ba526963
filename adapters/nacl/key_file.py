"""The embedded-mode key file: one generated key, readable by its owner only."""

import base64
import contextlib
import os
import secrets
import stat
from datetime import UTC, datetime
from pathlib import Path

from adapters.nacl.secret_box import KEY_SIZE


def new_key_entry(now: datetime | None = None) -> str:
    """A fresh `kid:base64key` entry; the kid carries the date so operators can tell keys
    apart, plus a random suffix so two keys minted the same day never share an id."""
    day = (now or datetime.now(UTC)).strftime("%Y%m%d")
    key_id = f"k{day}-{secrets.token_hex(3)}"
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(KEY_SIZE)).decode()}"


def load_or_create_key_file(path: Path) -> str:
    """The key ring in `AGENTKEEL_SECRET_KEYS` format, generating the file on first use.

    Refuses (ValueError) a file with any group or other permission bit: a leaked key file
    unseals every stored secret. Owner-only modes (0600, 0400) are accepted.
    """
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _publish(path, new_key_entry() + "\n")
    # Read back rather than return what we wrote: a concurrent process may have won.
    return _read(path)


def _publish(path: Path, content: str) -> None:
    # Written in full to a private temp file, then hard-linked into place: link() never
    # replaces an existing file, so racing processes agree on one key and no reader ever
    # sees a half-written file (a bare O_EXCL on the final path would allow that).
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process published first
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _read(path: Path) -> str:
    # fstat on the descriptor we read from, so the check and the read see the same file.
    fd = os.open(path, os.O_RDONLY)
    with os.fdopen(fd, encoding="ascii") as file:
        mode = stat.S_IMODE(os.fstat(file.fileno()).st_mode)
        if mode & 0o077:
            raise ValueError(
                f"secret key file {path} has mode {mode:04o}; allow the owner only (chmod 600)"
            )
        value = file.read().strip()
    if not value:
        raise ValueError(f"secret key file {path} is empty")
    return value
