"""``releasegate audit verify|anchor`` and ``releasegate db upgrade``."""

from __future__ import annotations

import typer

from releasegate.cli.context import globals_of


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="The tamper-evident event log.", no_args_is_help=True)

    @group.command()
    def verify(ctx: typer.Context) -> int:
        """Check the hash chain of every recorded event; name any edited or deleted one."""
        from releasegate.cli import audit_impl

        return audit_impl.verify(globals_of(ctx))

    @group.command()
    def anchor(ctx: typer.Context) -> int:
        """Write the chain head outside the database (audit.anchor: a git ref or a file)."""
        from releasegate.cli import audit_impl

        return audit_impl.anchor(globals_of(ctx))

    app.add_typer(group, name="audit")

    db = typer.Typer(help="The store's schema.", no_args_is_help=True)

    @db.command()
    def upgrade(ctx: typer.Context) -> int:
        """Migrate the store to the schema this releasegate needs."""
        from releasegate.cli import audit_impl

        return audit_impl.db_upgrade(globals_of(ctx))

    app.add_typer(db, name="db")
