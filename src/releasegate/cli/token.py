"""``releasegate token create|list|revoke``: API tokens for the web API."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from releasegate.cli.context import globals_of
from releasegate.cli.exit_codes import Exit


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="API tokens for the web API (releasegate serve).", no_args_is_help=True)

    @group.command()
    def create(
        ctx: typer.Context,
        name: Annotated[str, typer.Argument(help="A name for the token (unique).")],
        user: Annotated[str, typer.Option("--user", help="The user the token acts as.")],
        expires: Annotated[
            str | None, typer.Option("--expires", help="Lifetime, e.g. 30d (default: never).")
        ] = None,
    ) -> int:
        """Make a token acting as a user; it is printed this once and stored hashed."""
        from releasegate.service import tokens

        g = globals_of(ctx)
        made = tokens.create_token(g.workspace, g.actor, name, user=user, expires=expires)
        if g.json:
            print(json.dumps({"token": made.secret, **made.token.to_json()}))
        else:
            print(made.secret)
            until = made.token.expires_at
            print(
                f"token {name} for {user}"
                + (f", expires {until:%Y-%m-%d %H:%M UTC}" if until else ", never expires")
                + ": it is shown only now",
                file=sys.stderr,
            )
        return Exit.OK

    @group.command("list")
    def list_(ctx: typer.Context) -> int:
        """List tokens: name, user, state, last use (never the token)."""
        from releasegate.service import tokens

        g = globals_of(ctx)
        found = tokens.list_tokens(g.workspace, g.actor)
        if g.json:
            print(json.dumps([t.to_json() for t in found], indent=2))
            return Exit.OK
        if not found:
            print("no tokens")
        for t in found:
            used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never used"
            print(f"{t.name}  {t.user or '-'}  {t.state}  {used}")
        return Exit.OK

    @group.command()
    def revoke(
        ctx: typer.Context,
        name: Annotated[str, typer.Argument(help="The token's name.")],
    ) -> int:
        """Revoke a token: from now on it authenticates nobody."""
        from releasegate.service import tokens

        g = globals_of(ctx)
        done = tokens.revoke_token(g.workspace, g.actor, name)
        print(json.dumps(done.to_json()) if g.json else f"token {name} revoked")
        return Exit.OK

    app.add_typer(group, name="token")
