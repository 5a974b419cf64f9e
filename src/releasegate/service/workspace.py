"""Where a use case runs: the config file, the store URL and the state directory."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from releasegate.identity import Actor

if TYPE_CHECKING:
    from releasegate.audit.anchors import AnchorStore
    from releasegate.config.models import Config
    from releasegate.drivers.api import Registry
    from releasegate.engine.api import Engine
    from releasegate.engine.report import Reporter
    from releasegate.store.api import Store

DEFAULT_CONFIG = "releasegate.yaml"


def os_user() -> str:
    """The operating-system user running this process (from the password database, never
    from ``$USER``, which anyone can set)."""
    from releasegate.identity import current_os_user

    return current_os_user()


@dataclass
class Workspace:
    """A config file and the store beside it (or the one ``db_url`` names).

    The config is loaded once, the store opened once, on first use.
    """

    config_path: Path = field(default_factory=lambda: Path(DEFAULT_CONFIG))
    db_url: str | None = None
    check_drivers: bool = True
    """Check every step's driver and options when the config is loaded (the commands that
    only read records skip it: it imports every driver the config names)."""
    read_only: bool = False
    """Open the store without creating or migrating it; writes are refused."""
    _config: Config | None = field(default=None, init=False, repr=False)
    _store: Store | None = field(default=None, init=False, repr=False)

    @property
    def root(self) -> Path:
        """The directory of the config file: steps run here, relative paths start here."""
        return self.config_path.resolve().parent

    @property
    def state_dir(self) -> Path:
        """``.releasegate/`` beside the config file."""
        return self.root / ".releasegate"

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{self.state_dir / 'state.db'}"

    @property
    def config(self) -> Config:
        if self._config is None:
            from releasegate.config.loader import load_config

            catalog = None
            if self.check_drivers:
                from releasegate.drivers.api import load_registry

                catalog = load_registry()
            config = load_config(self.config_path, catalog=catalog)
            if catalog is not None:
                _check_verification(config, catalog, str(self.config_path))
            self._config = config
        return self._config

    @property
    def store(self) -> Store:
        if self._store is None:
            from releasegate.store.api import open_store

            self._store = open_store(self.database_url, write=not self.read_only)
            if not self.db_url and not self.read_only:  # the default SQLite store: keep .releasegate/ out of git's way
                ignore = self.state_dir / ".gitignore"
                if not ignore.exists():
                    with contextlib.suppress(OSError):
                        ignore.write_text("# releasegate's state: not part of the project\n*\n")
        return self._store

    def anchors(self) -> AnchorStore | None:
        """Where the chain head is anchored outside the database (``audit.anchor``): None
        for ``none``, and for the default ``git`` when the config is not in a git repository
        (nothing to anchor in; ``audit verify`` says so)."""
        from releasegate.audit.anchors import anchor_from_setting

        setting = self.config.audit.anchor
        if setting == "git" and not _in_git_repository(self.root):
            return None
        return anchor_from_setting(setting, self.root)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def actor(self, *, requested: str | None = None, env_user: str | None = None) -> Actor:
        """Who is acting, established as ``identity.mode`` says (``--as`` is ``requested``,
        ``RELEASEGATE_USER`` is ``env_user``)."""
        from releasegate.service.auth import establish_actor

        if env_user is None:
            env_user = os.environ.get("RELEASEGATE_USER") or None
        if self._config is None and not self.config_path.exists():
            # reading a store without a config (audit verify --db URL): nobody to ask about
            # roles; every use case that changes anything loads the config and fails first
            name = requested or env_user or os_user()
            return Actor(name=name, via="trust", os_user=os_user())
        return establish_actor(self.config, requested=requested, env_user=env_user, os_user=os_user())

    def engine(self, actor: Actor, reporter: Reporter | None = None) -> Engine:
        """An Engine over this workspace's config, store and drivers."""
        from releasegate.config.secrets import SecretResolver
        from releasegate.drivers.api import load_registry
        from releasegate.engine.api import Engine

        return Engine(
            self.config,
            self.store,
            load_registry(),
            workdir=self.root,
            state_dir=self.state_dir,
            secrets=SecretResolver(self.root),
            reporter=reporter,
            user=actor.name,
            os_user=actor.os_user,
            via=actor.via,
        )


def _in_git_repository(path: Path) -> bool:
    import subprocess

    try:
        done = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "--git-dir"],
            capture_output=True, timeout=30, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _check_verification(config: Config, registry: Registry, file: str) -> None:
    """The verification stages against the metric sources' drivers: an unknown source, a
    checked metric no source reports, a condition in the wrong unit (the loader cannot:
    it sits below the drivers)."""
    from releasegate.errors import ConfigError, Location, Problem
    from releasegate.verify.validate import check_stages

    problems = []
    for name, env in config.environments.items():
        for index, message in check_stages(
            env.verify, registry=registry, rollback_when=env.rollback.when
        ):
            where = f"environments.{name}." + (f"verify[{index}]" if index >= 0 else "rollback.when")
            problems.append(Problem(message, where, Location(file)))
    if problems:
        raise ConfigError(problems)
