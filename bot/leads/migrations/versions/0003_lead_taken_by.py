"""Who took a lead from the sales channel ("I'll take it"), and when.

The outbox itself needs no change for the hot-lead alerts: their rows are kinds of their
own (`sales_alert`, `alert_deletion`) and `crm_reference` keeps the Slack message.

Revision ID: 0003_lead_taken_by
Revises: 0002_outbox_erasures
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_lead_taken_by"
down_revision = "0002_outbox_erasures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("taken_by_user_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("taken_by_name", sa.Text, nullable=True))
        batch.add_column(sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Code of revision 0002 knows only CRM rows: it would send an alert to the CRM.
    bind = op.get_bind()
    bind.execute(sa.text("DELETE FROM lead_outbox WHERE kind IN ('sales_alert', "
                         "'alert_deletion')"))
    with op.batch_alter_table("leads") as batch:
        batch.drop_column("taken_at")
        batch.drop_column("taken_by_name")
        batch.drop_column("taken_by_user_id")
