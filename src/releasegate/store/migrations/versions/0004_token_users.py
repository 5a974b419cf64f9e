"""API tokens carry the user they act as, and may expire.

The roles of a token's user come from the config (as on the command line), so the
``role`` column of 0001 is kept for old rows only; new tokens write ``user``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # nullable: a token made before this migration names no user and authenticates nobody
    op.add_column("api_tokens", sa.Column("user", sa.String(256), nullable=True))
    op.add_column(
        "api_tokens", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("api_tokens", "expires_at")
    op.drop_column("api_tokens", "user")
