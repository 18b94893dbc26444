"""The outbox also carries CRM erasures: a `kind` column, and no foreign key to `leads`.

An erasure row outlives the lead it erases (the lead is deleted at once, the CRM copy
later, with retries), so `lead_outbox.lead_id` can no longer reference `leads`.

Revision ID: 0002_outbox_erasures
Revises: 0001_leads_outbox
Create Date: 2024-07-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_outbox_erasures"
down_revision = "0001_leads_outbox"
branch_labels = None
depends_on = None

# SQLite keeps the 0001 foreign key unnamed; batch mode needs a name to drop it.
_NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
_SQLITE_FK = "fk_lead_outbox_lead_id_leads"
_POSTGRES_FK = "lead_outbox_lead_id_fkey"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("lead_outbox", naming_convention=_NAMING) as batch:
        batch.drop_constraint(_SQLITE_FK if sqlite else _POSTGRES_FK, type_="foreignkey")
        batch.add_column(
            sa.Column("kind", sa.String(16), nullable=False, server_default="lead")
        )


def downgrade() -> None:
    bind = op.get_bind()
    bind.execute(sa.text("DELETE FROM lead_outbox WHERE kind <> 'lead'"))
    sqlite = bind.dialect.name == "sqlite"
    with op.batch_alter_table("lead_outbox", naming_convention=_NAMING) as batch:
        batch.drop_column("kind")
        batch.create_foreign_key(
            _SQLITE_FK if sqlite else _POSTGRES_FK, "leads", ["lead_id"], ["id"],
            ondelete="CASCADE",
        )
