"""The statements every request runs, prepared once per pooled connection (SQL `PREPARE`).

The unit of work sends several statements as one simple-protocol message (one round trip),
so PostgreSQL parsed and planned each of them on every request, which cost more than
running them (measured here: an agent read 150 us, 115 us prepared; a BYOK run's providers
120 us, 25 us prepared). Prepared, they are called as `EXECUTE name(literals)` in those
messages, their values as literals (adapters/sqlalchemy/literal.py).

A prepared statement lives as long as its session, whatever its transactions do. What would
drop it is a `DEALLOCATE ALL`, which psycopg sends after a ROLLBACK once it has prepared
statements of its own: the runtime engine turns psycopg's own preparation off for that
reason (adapters/sqlalchemy/engine.py).
"""

import re
import uuid
import weakref
from functools import partial
from typing import Any, cast

from psycopg import AsyncClientCursor
from psycopg import AsyncConnection as PsycopgConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from adapters.sqlalchemy.literal import DIALECT, sql_literal, uuid_literal

_PYFORMAT = re.compile(r"%\((\w+)\)s")
_REGISTRY: list["Prepared"] = []  # in the order defined; each connection prepares a prefix


class Prepared:
    """A statement written in SQL, `$1`, `$2`... for its parameters."""

    name: str

    def __init__(self, name: str, body: str) -> None:
        assert all(p.name != name for p in _REGISTRY), f"two prepared statements named {name}"
        self.name, self.body = name, body
        _REGISTRY.append(self)

    def prepare(self) -> str:
        return f"PREPARE {self.name} AS {self.body}"

    def call_with(self, *literals: str) -> str:
        """The call, given its arguments as SQL literals already made safe (`uuid_literal`,
        `bytea_literal`)."""
        return f"EXECUTE {self.name}({', '.join(literals)})"

    def call_with_uuid(self, value: uuid.UUID) -> str:
        return self.call_with(uuid_literal(value))


class PreparedStatement(Prepared):
    """A SQLAlchemy statement, called with named parameters. For an INSERT or UPDATE
    without explicit `.values()`, `columns` chooses the columns written (as `execute`
    does with its params): every call gives exactly those. `around`: SQL to put the
    statement in, at `{}`."""

    def __init__(
        self,
        name: str,
        statement: ClauseElement,
        columns: tuple[str, ...] | None = None,
        around: str = "{}",
    ) -> None:
        keys = sorted(columns) if columns is not None else None
        compiled = cast(SQLCompiler, statement.compile(dialect=DIALECT, column_keys=keys))
        sql = around.format(compiled.string)
        self.params = tuple(dict.fromkeys(_PYFORMAT.findall(sql)))  # in order, once each
        numbered = {name: f"${n}" for n, name in enumerate(self.params, start=1)}
        super().__init__(name, _PYFORMAT.sub(lambda m: numbered[m[1]], sql).replace("%%", "%"))
        # The values the statement itself holds (`status == "queued"`), for every call.
        required = {compiled.bind_names[b] for b in compiled.binds.values() if b.required}
        values = compiled.construct_params(_check=False)
        self._fixed = {name: v for name, v in values.items() if name not in required}
        self._accepted = frozenset(self.params) - self._fixed.keys()

    def call(self, driver: PsycopgConnection[Any], params: dict[str, Any]) -> str:
        """The call with `params` as literals (adapters/sqlalchemy/literal.py). `params` are
        exactly the statement's: one too many would be a column silently not written, one
        too few a NULL."""
        if params.keys() != self._accepted:
            raise ValueError(f"{self.name} takes {sorted(self._accepted)}, not {sorted(params)}")
        fixed, fallback = self._fixed, partial(_psycopg_literal, driver)
        values = (params[p] if p in params else fixed[p] for p in self.params)
        return self.call_with(*(sql_literal(value, fallback) for value in values))


def _psycopg_literal(driver: PsycopgConnection[Any], value: object) -> str:
    return AsyncClientCursor(driver).mogrify("%s", [value])


_prepared_count: "weakref.WeakKeyDictionary[PsycopgConnection[Any], int]" = (
    weakref.WeakKeyDictionary()
)


async def ensure_prepared(driver: PsycopgConnection[Any]) -> None:
    """Prepare on this connection what it has not prepared yet: every statement, in one
    round trip, the first time a unit of work gets it from the pool."""
    done = _prepared_count.get(driver, 0)
    if done == len(_REGISTRY):
        return
    message = "; ".join(p.prepare() for p in _REGISTRY[done:])
    await driver.execute(message.encode(), prepare=False)
    _prepared_count[driver] = len(_REGISTRY)
