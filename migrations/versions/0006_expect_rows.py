"""expect_rows(): a statement sent with the COMMIT can still refuse it.

The unit of work sends an execution's final UPDATE with its COMMIT, in one round trip
(adapters/sqlalchemy/unit_of_work.py). When the UPDATE matches no row, that must abort
the transaction, as a refused INSERT would, not be noticed after the COMMIT:
`WITH changed AS (UPDATE ... RETURNING 1) SELECT expect_rows(count(*), 'Execution')`
raises no_data_found (P0002) with the entity's name as its message.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE FUNCTION expect_rows(p_found bigint, p_entity text) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF p_found = 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'no_data_found', MESSAGE = p_entity;
    END IF;
    RETURN p_found;
END
$$;
REVOKE ALL ON FUNCTION expect_rows(bigint, text) FROM PUBLIC;
"""

DOWNGRADE = """
DROP FUNCTION expect_rows(bigint, text);
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
