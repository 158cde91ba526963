"""The statements every request runs, compiled once at import for psycopg: SQL text with
`%(name)s` placeholders, the values always sent apart from it (server-side binding).

The unit of work sends them in psycopg's pipeline mode with `prepare=True`, so psycopg
prepares each once per connection (a protocol-level Parse, no SQL `PREPARE`) and then
sends only a Bind and an Execute: PostgreSQL no longer parses and plans them on every
request (measured here: an agent read 150 us, 115 us prepared; a BYOK run's providers
120 us, 25 us prepared). psycopg owns the names and forgets them when it must (a
ROLLBACK, a failed pipeline: docs/database.md); nothing here keeps any state of its own.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

_DIALECT = PGDialect_psycopg()  # type: ignore[no-untyped-call]


class Statement:
    """A SQLAlchemy statement, called with named parameters. For an INSERT or UPDATE
    without explicit `.values()`, `columns` chooses the columns written (as `execute`
    does with its params): every call gives exactly those. `around`: SQL of our own to
    put the statement in, at `{}`, with the values of its own parameters. `reads_only`:
    it writes nothing, so a transaction of nothing else can end in COMMIT rather than
    ROLLBACK (docs/database.md)."""

    def __init__(
        self,
        statement: ClauseElement,
        columns: tuple[str, ...] | None = None,
        around: tuple[str, dict[str, Any]] = ("{}", {}),
        *,
        reads_only: bool = False,
    ) -> None:
        keys = sorted(columns) if columns is not None else None
        compiled = cast(SQLCompiler, statement.compile(dialect=_DIALECT, column_keys=keys))
        self.query = around[0].format(compiled.string).encode()
        self.prepare: bool = True
        self.reads_only = reads_only
        # The values the statement itself holds (`status == "queued"`), for every call.
        required = {compiled.bind_names[b] for b in compiled.binds.values() if b.required}
        values = compiled.construct_params(_check=False)
        self._fixed = {name: v for name, v in values.items() if name not in required}
        self._fixed.update(around[1])
        self._accepted = frozenset(compiled.bind_names.values()) - self._fixed.keys()
        self._raw = False  # SQLAlchemy's text escapes `%` as `%%`: psycopg needs params

    @classmethod
    def text(
        cls, sql: str, params: tuple[str, ...] = (), *, reads_only: bool, prepare: bool = True
    ) -> "Statement":
        """A statement written in SQL, `%(name)s` for each of `params` (`BEGIN`, a
        function call)."""
        made = cls.__new__(cls)
        made.query, made.prepare, made.reads_only = sql.encode(), prepare, reads_only
        made._fixed, made._accepted, made._raw = {}, frozenset(params), not params
        return made

    def bind(self, params: Mapping[str, Any] | None = None) -> "Bound":
        """The call with `params`, exactly the statement's: one too many would be a
        column silently not written, one too few a NULL."""
        given = params or {}
        if given.keys() != self._accepted:
            raise ValueError(f"the statement takes {sorted(self._accepted)}, not {sorted(given)}")
        if self._raw:
            return Bound(self, None)
        return Bound(self, {**self._fixed, **given} if self._fixed else dict(given))


@dataclass(frozen=True, slots=True)
class Bound:
    """A statement and its values, as psycopg gets them (never one string)."""

    statement: Statement
    params: dict[str, Any] | None
