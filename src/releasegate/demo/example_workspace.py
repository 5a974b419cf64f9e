"""``releasegate init --example NAME DIR``: a workspace to keep, made of a whole example.

The example's files (app, versions, scripts, checklist, smoke flows, config) are copied
into ``DIR``, which becomes a git repository with a bare ``origin`` beside it, as the
demo's workspace is (the git steps tag and push). Its environments listen on free ports
and its soak is shortened, the changes the demo makes, said in ``TOUR.md``. ``tour.py``
beside the config starts local stand-ins for Slack and the status page and writes
``tour.env`` (the database URLs and the stand-ins' addresses) for ``. ./tour.env``.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from releasegate.errors import ConfigError


def write_example_workspace(dest: Path, name: str, *, force: bool = False) -> list[str]:
    """Copy example ``name`` into ``dest`` and set it up; returns what was changed."""
    from releasegate.demo import workspace as demo

    if name != "camarketplace":
        raise ConfigError(f"--example {name} DIR: only the camarketplace example has a "
                          "workspace (use -c FILE to copy just another example's config)")
    if dest.exists() and any(dest.iterdir()) and not force:
        raise ConfigError(f"{dest} is not empty: choose a new directory, or pass --force")
    source = demo.example_dir()
    try:
        shutil.copytree(source, dest, ignore=demo.IGNORE, dirs_exist_ok=True)
        for env in ("staging", "production"):
            (dest / "data" / env).mkdir(parents=True, exist_ok=True)
        tour = resources.files("releasegate.config").joinpath("templates/tour.py")
        (dest / "tour.py").write_text(tour.read_text(encoding="utf-8"), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {dest}: {exc.strerror or exc}") from exc
    ws = demo.Workspace(dest)
    demo.adapt_config(ws)  # free ports and a short soak, as the demo has them
    ignore = dest / ".gitignore"
    ignore.write_text(ignore.read_text(encoding="utf-8") + "tour.env\n.tour/\n", encoding="utf-8")
    demo.git_repository(ws)
    return ws.changes
