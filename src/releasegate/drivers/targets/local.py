"""The ``local`` target: versions run as supervised processes on this machine, swapped with
zero failed requests (see ``docs/local-target.md`` for how and why).

A long-lived supervisor daemon (``local_supervisor``) holds the listening socket; each
version's server (``local_serve``, a uvicorn wrapper) inherits it. A swap starts the new
version, health-checks it on a private probe socket, admits it to the shared socket, then
quiesces, SIGTERMs and drains the old one. Rollback is the same swap backwards.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator

from releasegate.config.types import Duration
from releasegate.drivers import api
from releasegate.drivers.api import Options, StepContext, StepResult
from releasegate.drivers.targets import local_control, local_kinds, local_releases
from releasegate.errors import DriverError


class LocalOptions(Options):
    """Options of ``target: {uses: local, with: {...}}``."""

    app: str = Field(description="The app's directory, relative to the config file.")
    versions: str = Field(
        "versions/{version}",
        description=(
            "Where one version's files are, relative to `app`; `{version}` is replaced. "
            "The directory is copied to `<state_dir>/releases/<version>` on deploy."
        ),
    )
    asgi: str | None = Field(
        None, description="An ASGI app, `module:attribute` (the default kind, `app:app`)."
    )
    wsgi: str | None = Field(
        None, description="A WSGI app (Flask, Django, ...), `module:attribute`."
    )
    command: list[str] | None = Field(
        None,
        description=(
            "Any server's argv; `{fd}` (3), `{version}`, `{port}`, `{version_dir}`, "
            "`{python}`, `{workers}`, `{drain_timeout}`, `{serve}` are replaced. It gets the listening socket at fd 3 "
            "with `LISTEN_FDS` and `LISTEN_PID` (systemd's socket activation)."
        ),
    )
    protocol: Literal["releasegate", "listen-fds"] | None = Field(
        None,
        description=(
            "`releasegate`: the server reads `RELEASEGATE_PROBE_FD` and "
            "`RELEASEGATE_CONTROL_FD` (admit, quiesce, maintenance); `listen-fds`: it only "
            "serves fd 3. Default: `releasegate` for `asgi`/`wsgi`, `listen-fds` for `command`."
        ),
    )
    python: str | None = Field(
        None,
        description="The app's interpreter (absolute, or relative to the config file; "
        "`{version_dir}` allowed). Default: releasegate's own.",
    )
    venv: str | None = Field(
        None,
        description="The app's virtualenv (its `bin/python` is used); e.g. "
        "`{version_dir}/.venv` for a venv each version brings.",
    )
    workers: int = Field(
        1, ge=1, le=64, description="Server processes per version, sharing the socket."
    )
    boot_cpus: int | None = Field(
        None, ge=1,
        description="How many CPUs a new version's processes may use while they boot (pinned; "
        "released to all once healthy, or after half `health_timeout`); default all but one, "
        "so the version still serving keeps a core.",
    )
    reinstall: bool = Field(
        False,
        description="Install a version again when its files changed since it was installed "
        "(otherwise such a deploy is refused).",
    )
    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8000, ge=1, le=65535, description="Port to listen on.")
    health_path: str = Field(
        "/monitoring/health", description="Must answer 2xx before a version receives traffic."
    )
    health_timeout: Duration = Field(
        timedelta(seconds=30), description="How long a new version has to become healthy."
    )
    quiesce: Duration = Field(
        timedelta(seconds=1),
        description="How long the old version answers `Connection: close` before it is stopped.",
    )
    drain_timeout: Duration = Field(
        timedelta(seconds=30),
        description="How long requests in flight may take after SIGTERM before SIGKILL.",
    )
    keep: int = Field(
        3, ge=2, description="Installed versions to keep (live and previous always kept)."
    )
    env: dict[str, str] = Field(
        default_factory=dict,
        description="Extra environment for "
        "the app; values may use `{version}` and secret references.",
    )
    retry_after: Duration = Field(
        timedelta(minutes=2), description="`Retry-After` of the maintenance page."
    )
    state_dir: str | None = Field(
        None,
        description="Where the supervisor keeps its pid file, "
        "log, socket and releases (default "
        "`.releasegate/local/<environment>`).",
    )

    # field validators, not one model validator: each error is reported beside every
    # other problem of the options (a model validator runs only when the fields are valid)
    @field_validator("wsgi", "command")
    @classmethod
    def _one_kind(cls, value: object, info: ValidationInfo) -> object:
        earlier = [k for k in ("asgi", "wsgi") if k != info.field_name and info.data.get(k)]
        if value is not None and earlier:
            raise ValueError(f"give one of asgi, wsgi, command, not {earlier[0]} and {info.field_name}")
        return value

    @field_validator("venv")
    @classmethod
    def _one_interpreter(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("python") is not None:
            raise ValueError("give python or venv, not both")
        return value


class LocalTarget:
    """Runs versions as processes on this machine with zero-downtime swaps."""

    name: ClassVar[str] = "local"
    Options: ClassVar[type[api.Options]] = LocalOptions

    async def deploy(self, options: api.Options, ctx: StepContext) -> StepResult:
        """Install ``ctx.release.version`` and swap it in."""
        return await self._swap_to(_opts(options), ctx, ctx.release.version, "deploy")

    async def rollback(self, options: api.Options, ctx: StepContext, to_version: str) -> StepResult:
        """Swap ``to_version`` back in, the same zero-downtime way."""
        return await self._swap_to(_opts(options), ctx, to_version, "rollback")

    async def current(self, options: api.Options, ctx: StepContext) -> str | None:
        """The live version, or None when no supervisor runs."""
        found = await local_control.status(state_dir(_opts(options), ctx))
        return found.version if found else None

    async def status(
        self, options: api.Options, ctx: StepContext
    ) -> local_control.SupervisorStatus | None:
        """pid, live version, uptime and address of the supervisor (None if not running)."""
        return await local_control.status(state_dir(_opts(options), ctx))

    async def maintenance(self, options: api.Options, ctx: StepContext, *, on: bool) -> StepResult:
        """Switch the 503 maintenance page (with ``Retry-After``) on or off."""
        opts = _opts(options)
        await local_control.request(
            state_dir(opts, ctx),
            {"cmd": "maintenance", "on": on, "retry_after": int(opts.retry_after.total_seconds())},
            timeout=10,
        )
        return StepResult(ok=True, summary=f"maintenance mode {'on' if on else 'off'}")

    async def stop(self, options: api.Options, ctx: StepContext) -> None:
        """Stop the supervisor and every version it runs; return once they are gone (at
        once when none runs: stopping is idempotent, as a service manager expects)."""
        opts = _opts(options)
        directory = state_dir(opts, ctx)
        if await local_control.status(directory) is None:
            return
        pid = local_control.supervisor_pid(directory)
        await local_control.request(directory, {"cmd": "stop"}, timeout=10)
        if pid is not None:
            # the supervisor drains its versions, then exits: wait for that, bounded
            await local_control.wait_gone(pid, timeout=opts.drain_timeout.total_seconds() + 10)

    async def supervisor_command(self, options: api.Options, ctx: StepContext) -> dict[str, object]:
        """How a service manager runs this environment's supervisor in the foreground (what
        ``releasegate target systemd-unit`` writes): argv, listening address, state dir and
        how long a stop may take."""
        opts = _opts(options)
        directory = state_dir(opts, ctx)
        return {
            "argv": local_control.supervisor_argv(directory, opts.host, opts.port, foreground=True),
            "host": opts.host,
            "port": opts.port,
            "state_dir": str(directory),
            "stop_timeout_s": opts.drain_timeout.total_seconds() + 15,
        }

    async def _swap_to(
        self, opts: LocalOptions, ctx: StepContext, version: str, action: str
    ) -> StepResult:
        directory = state_dir(opts, ctx)
        releases = directory / "releases"
        try:
            # checked before the version is put into any path (source, release, log)
            local_releases.release_dir(releases, version)
        except DriverError as exc:
            return StepResult(ok=False, summary=str(exc))
        source = ctx.workdir / opts.app / opts.versions.replace("{version}", version)
        try:
            installed, digest = local_releases.install(
                source, releases, version, reinstall=opts.reinstall
            )
            launch = local_kinds.launch(opts, ctx.workdir, installed)
        except DriverError as exc:
            return StepResult(ok=False, summary=str(exc), evidence={"version": version})
        before = await local_control.ensure_supervisor(directory, opts.host, opts.port)
        ctx.progress(f"{action}: starting {version} beside {before.version or 'nothing'}")
        drain = opts.drain_timeout.total_seconds()
        health = opts.health_timeout.total_seconds()
        quiesce = opts.quiesce.total_seconds()
        try:
            answer = await local_control.request(
                directory,
                {
                    "cmd": "swap",
                    "version": version,
                    "directory": str(installed),
                    **launch,
                    "env": {k: ctx.secrets.resolve(v) for k, v in opts.env.items()},
                    "health_path": opts.health_path,
                    "health_timeout": health,
                    "quiesce": quiesce,
                    "drain_timeout": drain,
                    "boot_cpus": opts.boot_cpus,
                },
                timeout=(health * 2 + 5) * opts.workers + quiesce + drain + 30,
            )
        except DriverError as exc:
            if before.version is None:
                # nothing was live: no supervisor may hold the port (clients are refused)
                await self.stop(opts, ctx)
            summary = ctx.secrets.redact(str(exc))
            return StepResult(ok=False, summary=summary, evidence={"sha256": digest})
        local_releases.forget_replaced(releases, version)
        local_releases.record_live(releases, version)
        protect = {version, *([before.version] if before.version else [])}
        pruned = local_releases.prune(releases, keep=opts.keep, protect=protect)
        summary = (
            f"{version} is live on {before.address} (was {answer['previous'] or 'nothing'};"
            f" healthy after {answer['health_s']:.1f}s, swap {answer['swap_s']:.1f}s)"
        )
        return StepResult(
            ok=True,
            summary=summary,
            evidence={
                "version": version,
                "previous": answer["previous"],
                "address": before.address,
                "pid": answer["pid"],
                "health_s": answer["health_s"],
                "swap_s": answer["swap_s"],
                "pruned": ", ".join(pruned),
                "sha256": digest,
                "workers": opts.workers,
            },
        )


def _opts(options: api.Options) -> LocalOptions:
    if not isinstance(options, LocalOptions):
        raise DriverError(f"local target: expected LocalOptions, got {type(options).__name__}")
    return options


def state_dir(opts: LocalOptions, ctx: StepContext) -> Path:
    """The supervisor's directory for this environment."""
    if opts.state_dir:
        return (ctx.workdir / opts.state_dir).resolve()
    return (ctx.state_dir / "local" / ctx.release.environment).resolve()
