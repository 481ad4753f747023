"""Price alerts: a product, a threshold (or any drop), the session to tell, fired once.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "price_alerts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "session_id", sa.String(64), sa.ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "product_id", sa.String(128), sa.ForeignKey("products.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("price_max", sa.Float(), nullable=True),
        sa.Column("baseline_price", sa.Float(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("fired_at", TS, nullable=True),
        sa.Column("fired_price", sa.Float(), nullable=True),
    )
    op.create_index("ix_price_alerts_status_product", "price_alerts", ["status", "product_id"])
    op.create_index("ix_price_alerts_session", "price_alerts", ["session_id"])


def downgrade() -> None:
    op.drop_index("ix_price_alerts_session", table_name="price_alerts")
    op.drop_index("ix_price_alerts_status_product", table_name="price_alerts")
    op.drop_table("price_alerts")
