"""The rolling deploy of the ``ssh`` target: ship everywhere, then switch batch by batch.

1. **Ship.** The version's directory is packed once (``ssh_artifact``) and sent to every
   host (rsync or scp), where the agent checks its sha256 before unpacking it. A host that
   cannot be reached, whose key is refused, or whose disk refuses the archive fails here,
   before any host is switched.
2. **Roll.** Batch by batch, each host of the batch at once: drained at the load balancer
   (unless the batch holds every server in service: then the local swap's own zero-downtime
   guarantee carries the traffic), its connections waited out, swapped by the ``local``
   target's supervisor on the host, checked from here (``health_url``, ``smoke``), made
   ready again.
3. **Stop and roll back.** When more than ``max_failed_hosts`` hosts have failed, the hosts
   already switched go back to their previous version one by one, newest first, and the
   step fails. Every host's part is in the evidence.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import httpx
from pydantic import JsonValue

from releasegate.drivers.api import StepContext, StepResult
from releasegate.drivers.balancers.api import Balancer, open_balancer
from releasegate.drivers.process import run_command, substitute
from releasegate.drivers.targets import local_releases, ssh_artifact
from releasegate.drivers.targets.ssh_hosts import HostRun, host_runs
from releasegate.drivers.targets.ssh_options import SshOptions, batches
from releasegate.drivers.targets.ssh_transport import call_agent, upload
from releasegate.errors import DriverError

SHIP_CONCURRENCY = 4
READY_TIMEOUT_S = 30.0
"""How long a host made ready again has to be seen up by the balancer's own checks."""


class _Failed(Exception):
    """A host's swap failed at ``stage``; ``swapped`` is the swap's evidence if the host
    already runs the new version."""

    def __init__(self, stage: str, message: str, swapped: dict[str, Any] | None) -> None:
        super().__init__(message)
        self.stage, self.message, self.swapped = stage, message, swapped


class Roll:
    """One rolling deploy (or rollback) of ``version`` across the hosts of ``opts``."""

    def __init__(self, opts: SshOptions, ctx: StepContext, version: str, action: str) -> None:
        self.opts = opts
        self.ctx = ctx
        self.version = version
        self.action = action
        self.hosts = host_runs(opts, ctx)
        self.balancer: Balancer | None = open_balancer(opts.balancer, ctx) if opts.balancer else None
        self.artifact: dict[str, JsonValue] = {}
        self.rolled_back: list[str] = []
        self.batches: list[list[str]] = []
        self.started = time.monotonic()

    # -- the whole roll ---------------------------------------------------------------------

    async def run(self) -> StepResult:
        try:
            # checked before the version is put into any path, here or on a host
            local_releases.release_dir(self.ctx.state_dir / "ssh" / "artifacts", self.version)
            archive = self._pack()
        except DriverError as exc:
            return StepResult(ok=False, summary=str(exc))
        await self._ship_all(archive)
        if self._too_many_failed():
            return self._result(False, "could not ship to enough hosts; no host was switched")
        for host in self.hosts:
            if host.status == "shipped" and host.live == self.version:
                host.status, host.previous = "unchanged", host.live  # e.g. a re-run after a failure
        todo = [h for h in self.hosts if h.status == "shipped"]
        cut = batches(todo, self.opts.batch, lambda h: h.spec.group)
        self.batches = [[h.name for h in batch] for batch in cut]
        for number, batch in enumerate(cut, 1):
            for host in batch:
                host.batch = number
            self.ctx.progress(f"batch {number}: {', '.join(h.name for h in batch)}")
            await self._switch_batch(batch)
            if not self._too_many_failed():
                # a failed host that already runs the version goes back on its own
                await self._roll_back([h for h in batch if h.status == "failed"])
            else:
                for later in cut[number:]:
                    for host in later:
                        host.status = "not reached"
                await self._roll_back(self.hosts)
                return self._result(False, "stopped")
        return self._result(True, "done")

    def _too_many_failed(self) -> bool:
        return sum(h.status == "failed" for h in self.hosts) > self.opts.max_failed_hosts

    # -- shipping ---------------------------------------------------------------------------

    def _pack(self) -> Path | None:
        source = self.ctx.workdir / self.opts.artifact.replace("{version}", self.version)
        if not source.is_dir() and self.action == "rollback":
            return None  # the hosts keep installed versions: the swap finds it there
        out = self.ctx.state_dir / "ssh" / "artifacts" / f"{self.version}.tar"
        archive, digest, size = ssh_artifact.build(source, out)
        self.artifact = {"sha256": digest, "bytes": size}
        return archive

    async def _ship_all(self, archive: Path | None) -> None:
        limit = asyncio.Semaphore(SHIP_CONCURRENCY)

        async def one(host: HostRun) -> None:
            async with limit:
                await self._ship(host, archive)

        await asyncio.gather(*(one(h) for h in self.hosts))

    async def _ship(self, host: HostRun, archive: Path | None) -> None:
        timeout = self.opts.connect_timeout.total_seconds() + 60
        t0 = time.monotonic()
        try:
            if archive is None:
                answer = await call_agent(host.endpoint, self._request(host, "current"), timeout=timeout)
                host.live = answer.get("version")
            else:
                digest = str(self.artifact["sha256"])
                ask = {**self._request(host, "prepare"), "sha256": digest}
                answer = await call_agent(host.endpoint, ask, timeout=timeout)
                have, host.live = bool(answer["have"]), answer.get("live")
                if not have:
                    remote = f"{host.dir}/incoming/{self.version}.tar"
                    try:
                        await upload(host.endpoint, archive, remote, how=self.opts.transfer,
                                     timeout=timeout + 240)
                    except DriverError:
                        with contextlib.suppress(DriverError):
                            await call_agent(host.endpoint, {**ask, "op": "discard"}, timeout=timeout)
                        raise
                    await call_agent(host.endpoint, {**ask, "op": "install"}, timeout=timeout + 60)
                host.figures["shipped"] = "already there" if have else self.opts.transfer
        except DriverError as exc:
            host.fail("ship", self._redact(str(exc)))
            self.ctx.progress(f"{host.name}: {host.error}")
            return
        host.status = "shipped"
        host.figures["ship_s"] = round(time.monotonic() - t0, 3)

    def _request(self, host: HostRun, op: str) -> dict[str, Any]:
        return {"op": op, "dir": host.dir, "version": self.version,
                "environment": self.ctx.release.environment}

    # -- switching --------------------------------------------------------------------------

    async def _in_service_outside(self, batch: list[HostRun]) -> bool:
        """Whether a server outside ``batch`` is up at the balancer (draining is safe)."""
        assert self.balancer is not None
        names = {h.name for h in batch}
        return any(s.state == "up" and s.name not in names for s in await self.balancer.servers())

    async def _switch_batch(self, batch: list[HostRun]) -> None:
        drain = False
        if self.balancer is not None:
            try:
                drain = await self._in_service_outside(batch)
            except DriverError as exc:
                for host in batch:
                    host.fail("drain", str(exc))
                return
            if not drain:
                self.ctx.progress("this batch holds every server in service: swapping in place")
        await asyncio.gather(*(self._switch_host(h, drain) for h in batch))

    async def _switch_host(self, host: HostRun, drain: bool) -> None:
        """Switch one host to the new version; a failure is recorded on it, not raised."""
        t0 = time.monotonic()
        host.figures["drained"] = drain
        try:
            evidence = await self._swap_host(host, drain, self.version)
        except _Failed as failed:
            if failed.swapped is not None:  # it runs the new version: roll it back too
                host.switched(failed.swapped.get("previous"))
            host.fail(failed.stage, self._redact(failed.message))
            self.ctx.progress(f"{host.name}: failed at {failed.stage}: {host.error}")
            await self._restore_service(host, drain)
            return
        host.switched(evidence.get("previous"))
        host.figures["host_s"] = round(time.monotonic() - t0, 3)
        self.ctx.progress(f"{host.name}: {self.version} is live (swap {host.figures['swap_s']}s)")

    async def _swap_host(self, host: HostRun, drain: bool, version: str) -> dict[str, Any]:
        """Drain, swap, check, ready; returns the swap's evidence or raises :class:`_Failed`."""
        stage, swapped = "drain", None
        try:
            if drain:
                assert self.balancer is not None
                await self.balancer.drain(host.name)
                host.figures["drain_wait_s"] = waited = await self._wait_drained(host)
                self.ctx.progress(f"{host.name}: drained (its requests finished in {waited}s)")
            stage = "swap"
            answer = await call_agent(
                host.endpoint,
                {**self._request(host, "swap"), "version": version, "app": self._app(host)},
                timeout=self.opts.host_timeout.total_seconds(),
            )
            swapped = dict(answer["evidence"])
            host.figures.update({k: swapped.get(k) for k in ("swap_s", "health_s", "sha256")})
            stage = "health"
            await self._check_health(host)
            stage = "smoke"
            await self._smoke(host, version)
            stage = "ready"
            if drain:
                await self._ready(host)
        except DriverError as exc:
            raise _Failed(stage, str(exc), swapped) from exc
        return swapped

    async def _restore_service(self, host: HostRun, drained: bool) -> None:
        """Ready a failed host again only if it answers; a dead host stays drained."""
        if not drained or self.balancer is None:
            return
        try:
            await self._check_health(host)
            await self.balancer.ready(host.name)
        except DriverError:
            host.figures["left_drained"] = True

    def _app(self, host: HostRun) -> dict[str, JsonValue]:
        app = dict(host.app)
        env = app.get("env")
        if isinstance(env, dict):
            app["env"] = {k: self.ctx.secrets.resolve(str(v)) for k, v in env.items()}
        return app

    async def _wait_drained(self, host: HostRun) -> float:
        assert self.balancer is not None
        t0 = time.monotonic()
        deadline = t0 + self.opts.drain_timeout.total_seconds()
        while time.monotonic() < deadline:
            found = {s.name: s for s in await self.balancer.servers()}
            server = found.get(host.name)
            if server is None:
                raise DriverError(f"the load balancer has no server named {host.name!r}")
            if not server.connections:
                break
            await asyncio.sleep(0.05)
        return round(time.monotonic() - t0, 3)

    async def _ready(self, host: HostRun) -> None:
        assert self.balancer is not None
        await self.balancer.ready(host.name)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            state = {s.name: s for s in await self.balancer.servers()}.get(host.name)
            if state is not None and state.state == "up":
                return
            await asyncio.sleep(0.1)
        raise DriverError(
            f"the load balancer does not see {host.name} up within {READY_TIMEOUT_S:g}s after ready"
        )

    async def _check_health(self, host: HostRun) -> None:
        if self.opts.health_url is None:
            return
        health_path = str(host.app.get("health_path", "/monitoring/health"))
        url = (self.opts.health_url.replace("{address}", host.address)
               .replace("{port}", str(host.port)).replace("{health_path}", health_path))
        deadline = time.monotonic() + 10
        problem = "no answer"
        async with httpx.AsyncClient(timeout=5) as client:
            while time.monotonic() < deadline:
                try:
                    response = await client.get(url)
                except httpx.HTTPError as exc:
                    problem = type(exc).__name__
                else:
                    if response.is_success:
                        return
                    problem = f"HTTP {response.status_code}"
                await asyncio.sleep(0.2)
        raise DriverError(f"GET {url} did not answer 2xx within 10s ({problem})")

    async def _smoke(self, host: HostRun, version: str) -> None:
        if not self.opts.smoke:
            return
        values = {"host": host.name, "address": host.address, "port": str(host.port),
                  "version": version}
        argv = substitute(self.opts.smoke, values)
        assert isinstance(argv, list)
        result = await run_command(self.ctx, argv)
        if not result.ok:
            raise DriverError(f"smoke {result.describe()}: {result.last_line()}")

    # -- rolling back -----------------------------------------------------------------------

    async def _roll_back(self, hosts: list[HostRun]) -> None:
        """Return those of ``hosts`` that were switched to their previous version, newest first."""
        switched = [h for h in hosts if h.switched_at is not None and h.status != "rolled back"]
        for host in sorted(switched, key=lambda h: h.switched_at or 0.0, reverse=True):
            self.ctx.progress(f"{host.name}: rolling back to {host.previous or 'nothing'}")
            try:
                if host.previous is None:  # it ran nothing before: stop what it runs now
                    await call_agent(host.endpoint, self._request(host, "stop"), timeout=120)
                else:
                    drain = self.balancer is not None and await self._in_service_outside([host])
                    await self._swap_host(host, drain, host.previous)
            except (_Failed, DriverError) as exc:
                message = exc.message if isinstance(exc, _Failed) else str(exc)
                host.figures["rollback_error"] = self._redact(message)
                if host.status != "failed":
                    host.status = "rollback failed"
                continue
            host.figures["rolled_back_to"] = host.previous
            self.rolled_back.append(host.name)
            if host.status != "failed":
                host.status = "rolled back"

    # -- the result -------------------------------------------------------------------------

    def _redact(self, text: str) -> str:
        return self.ctx.secrets.redact(text)

    def _result(self, ok: bool, how: str) -> StepResult:
        failed = [h for h in self.hosts if h.status == "failed"]
        live = [h for h in self.hosts if h.status in ("switched", "unchanged")]
        unchanged = sum(h.status == "unchanged" for h in self.hosts)
        verb = "deployed" if self.action == "deploy" else "rolled back to"
        if ok:
            summary = f"{verb} {self.version} on {len(live)} of {len(self.hosts)} hosts"
            if unchanged:
                summary += f" ({unchanged} already served it)"
            if failed:
                summary += f"; {len(failed)} failed (max_failed_hosts {self.opts.max_failed_hosts}): "
                summary += "; ".join(f"{h.name}: {h.error}" for h in failed)
        else:
            first = failed[0] if failed else None
            summary = (
                f"{self.action} of {self.version} {how}: {len(failed)} of {len(self.hosts)} hosts "
                f"failed (max_failed_hosts {self.opts.max_failed_hosts})"
            )
            if first is not None:
                summary += f"; {first.name} at {first.stage}: {first.error}"
            if self.rolled_back:
                summary += f"; rolled back {', '.join(self.rolled_back)} (newest first)"
        evidence: dict[str, JsonValue] = {
            "version": self.version,
            "action": self.action,
            "batch": self.opts.batch,
            "batches": [list(b) for b in self.batches],
            "max_failed_hosts": self.opts.max_failed_hosts,
            "failed_hosts": [h.name for h in failed],
            "rolled_back": list(self.rolled_back),
            "hosts": [h.evidence() for h in self.hosts],
            "wall_s": round(time.monotonic() - self.started, 3),
        }
        if self.artifact:
            evidence["artifact"] = self.artifact
        return StepResult(ok=ok, summary=self._redact(summary), evidence=evidence)
