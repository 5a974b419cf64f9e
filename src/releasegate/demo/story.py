"""``releasegate demo``: the checklist's story, end to end, on the example service.

Everything is real: a fresh workspace, the real store, the ``local`` target running the
example's versions as processes, real HTTP traffic, the real policy. Where the example's
production window or a freeze refuses the deployment at the hour the demo runs, the demo
shows that refusal with its explanation and then goes on as an admin would, with a
break-glass ``deploy --override RULE --reason TEXT`` that the record keeps — it never fakes
the clock. The versions live before releasegate took over are recorded with ``adopt``.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from rich.console import Console
from rich.panel import Panel

from releasegate.cli.errors import handle
from releasegate.cli.exit_codes import Exit
from releasegate.demo.team import Team
from releasegate.demo.workspace import DEMO_SOAK_S, Workspace, prepare
from releasegate.errors import ReleasegateError

if TYPE_CHECKING:
    from releasegate.demo.mocks import MockServices
    from releasegate.service.workspace import Workspace as ServiceWorkspace

OVERRIDE = "releasegate demo runs at any hour; the refusal above is what a real run would get"


class DemoFailed(ReleasegateError):
    """A step of the story did not end as the story says it must."""


class Story:
    def __init__(self, console: Console, ws: Workspace, mocks: MockServices) -> None:
        self.console = console
        self.ws = ws
        self.mocks = mocks
        self.team: Team | None = None
        self._told = 0
        self.started = time.monotonic()
        self.ids: dict[str, int] = {}

    # -- telling ---------------------------------------------------------------------
    def act(self, title: str, text: str) -> None:
        elapsed = time.monotonic() - self.started
        self.console.rule(f"[bold]{title}[/bold]  [dim]{elapsed:5.1f}s[/dim]")
        self.console.print(text, highlight=False)

    def say(self, text: str) -> None:
        self.console.print(f"[cyan]›[/cyan] {text}", highlight=False)

    def rg(self, user: str, *args: str, expect: tuple[int, ...] = (0,)) -> int:
        self.console.print(f"[bold green]$ releasegate --as {user} {' '.join(args)}[/bold green]")
        from releasegate.cli.main import app

        argv = ["-c", str(self.ws.config), "--as", user, *args]
        code = handle(lambda: app(args=argv, prog_name="releasegate", standalone_mode=False))
        return self._check(code, expect, args)

    def _check(self, code: int, expect: tuple[int, ...], args: tuple[str, ...]) -> int:
        if code not in expect:
            raise DemoFailed(f"'releasegate {' '.join(args)}' exited {code}, the story expects {expect}")
        return code

    def deploy(self, user: str, env: str, version: str, *extra: str,
               expect: tuple[int, ...] = (0,)) -> int:
        """``releasegate deploy`` as ``user``; what the team signed meanwhile is told."""
        code = self.rg(user, "deploy", env, version, "--yes", *extra, expect=expect)
        if self.team is not None:
            for line in self.team.take():
                self.say(line)
        self.ids[f"{env} {version}"] = self._latest(env)
        return code

    def _start_adopted(self, env: str, version: str) -> None:
        """What the team had done by hand before releasegate: the database at
        ``version``'s schema and ``version`` running; then the supervisor is started."""
        import subprocess
        import sys

        db = {"DATABASE_URL": self.ws.env_vars()[f"CAMARKETPLACE_{env.upper()}_DB"]}
        for argv in (
            [sys.executable, "scripts/prepare_data.py", "--data-dir", f"data/{env}"],
            [sys.executable, "scripts/migrate.py", "up", "--data-dir", f"data/{env}", "--version", version],
        ):
            done = subprocess.run(
                argv, cwd=self.ws.root, env={**os.environ, **db}, capture_output=True, text=True
            )
            if done.returncode != 0:
                raise DemoFailed(f"{' '.join(argv[1:])} failed: {done.stdout}{done.stderr}")
        self.rg("dave", "target", "start", env)

    def _latest(self, env: str) -> int:
        from releasegate.service import records

        ws = self._workspace()
        return records.history(ws, ws.actor(requested="demo"), env, limit=1)[0].id

    def _workspace(self) -> ServiceWorkspace:
        from releasegate.service.workspace import Workspace as ServiceWorkspace

        return ServiceWorkspace(self.ws.config)

    def _refusing(self, env: str, version: str) -> list[str]:
        """The policy rules that refuse deploying ``version`` to ``env`` now."""
        from releasegate.service.explain import explain

        ws = self._workspace()
        verdict = explain(ws, ws.actor(requested="dave"), env, version=version)
        ws.close()
        return list(verdict.refusing)

    # -- the story ---------------------------------------------------------------------
    def tell(self) -> None:
        ws = self.ws
        self.console.print(Panel.fit(
            "[bold]releasegate demo[/bold] — the CA Marketplace deployment checklist, executed.\n"
            f"Workspace: {ws.root}\n" + "\n".join(f"• {c}" for c in ws.changes),
            border_style="cyan",
        ))
        self.act("1. Today", "CA Marketplace runs 1.1.5 on staging and production. releasegate "
                 "takes over from here: dave (devops) records what is live with `adopt`, and the "
                 "demo starts those processes as they were.")
        for env in ("staging", "production"):
            self.rg("dave", "adopt", env, "1.1.5", "--reason", "1.1.5 was live before releasegate")
            self._start_adopted(env, "1.1.5")
        self._told = len(self.mocks.messages())  # the story's announcements start with 1.2.0

        self.act("2. Staging: 1.2.0", "Version 1.2.0 adds payment reconciliation with an expand-only "
                 "migration. Every gate runs: the app's tests, lint, changelog, secret scan, "
                 "dependency audit; then backup, migration, zero-downtime release, health, "
                 "version and smoke checks. While the gates run, the deployment waits for the "
                 "people the checklist names to sign their items (releasegate confirm ID ITEM); "
                 "the demo's team signs as soon as it is asked.")
        self.deploy("erin", "staging", "1.2.0")

        self.act("3. Why not production yet?", "Production needs QA, product owner and tech "
                 "lead to sign, 1.2.0 to have soaked on staging, and its window to be open.")
        self.rg("dave", "policy", "explain", "production", "--version", "1.2.0", expect=(0, 3))
        self.act("4. Sign-offs", "Three different people sign, each in a role the config gives "
                 "them (--as cannot make anyone a tech lead).")
        self.rg("alice", "approve", "production", "1.2.0", "--role", "qa", "--note", "regression suite green")
        self.rg("bob", "approve", "production", "1.2.0", "--role", "product-owner")
        self.rg("carol", "approve", "production", "1.2.0", "--role", "tech-lead")
        self._soak()

        self.act("5. Production: 1.2.0", "The real policy decides first. Then: backup and its "
                 "integrity check, migration, release with the socket held open, health, "
                 "version and smoke checks — while a client sends steady traffic.")
        allowed = self.rg("dave", "policy", "explain", "production", "--version", "1.2.0", expect=(0, 3)) == 0
        extra: list[str] = []
        if not allowed:
            self.rg("dave", "deploy", "production", "1.2.0", "--yes", expect=(Exit.BLOCKED,))
            rules = self._refusing("production", "1.2.0")
            self.say("Refused now, with the reason and the next allowed time. The demo goes on as "
                     "an admin would break glass: dave holds the admin role, names each rule he "
                     f"goes past ({', '.join(rules)}) and why; `show` and `status` keep saying so.")
            for rule in rules:
                extra += ["--override", rule]
            extra += ["--reason", OVERRIDE]
        self._with_traffic("production", lambda: self.deploy("dave", "production", "1.2.0", *extra))
        self._announcements()

        self.act("6. Hotfix 1.2.1, the emergency path", "A payment bug needs a fix now. The "
                 "on-call engineer takes the emergency path: fast-track gates only, staging "
                 "first. 1.2.1 is bad on purpose: UPI payments fail every time, and every "
                 "fourth request is 80 ms slower. In the demo its smoke test skips the UPI "
                 "flow, so what has to catch it is verification: releasegate's probe, judged "
                 "against what 1.2.0 measured on staging.")
        self._with_traffic("staging", lambda: self.deploy(
            "dave", "staging", "1.2.1", "--emergency", "--reason", "critical payment bug",
            expect=(Exit.ROLLED_BACK,),
        ))
        self.say("Verification caught it by its metrics (p95 more than twice 1.2.0's); "
                 "releasegate rolled staging back to 1.2.0 by itself. Production never saw 1.2.1.")
        chart = self.ws.root / "hotfix-1.2.1.svg"
        self.rg("dave", "show", str(self.ids["staging 1.2.1"]), "--format", "md", "--chart", str(chart))
        self.rg("dave", "plan", "production", "--kind", "rollback")

        self.act("7. The record", "Every step, check and signature is recorded, hash-chained.")
        self.rg("dave", "history")
        self.rg("dave", "show", str(self.ids["production 1.2.0"]), "--format", "md")
        self.rg("dave", "audit", "verify")
        self._records_that_count()
        took = time.monotonic() - self.started
        self.console.print(Panel.fit(
            f"Done in {took:.0f}s. Explore what was recorded:\n"
            f"  releasegate -c {ws.config} history\n"
            f"  releasegate -c {ws.config} show {self.ids['staging 1.2.1']}   # the caught hotfix\n"
            f"  releasegate -c {ws.config} policy explain production\n"
            f"  releasegate -c {ws.config} checklist coverage",
            border_style="green",
        ))

    def _records_that_count(self) -> None:
        """The ending: what people heard through notify:, the figures, the announcement."""
        self.act("8. What the records say", "What the team was told through notify: (apprise, "
                 "in the background), every figure against the checklist's targets — graded only "
                 "once there are enough deployments — and production's announcement, all from "
                 "this demo's own records.")
        self._announcements()
        self.rg("dave", "metrics", "--env", "all")
        self.rg("dave", "show", str(self.ids["production 1.2.0"]), "--announcement")

    def _announcements(self) -> None:
        """What people were told (Slack and the status page, as the local server saw it)."""
        for m in self.mocks.messages()[self._told:]:
            first = " — ".join([line.strip() for line in m.text.splitlines() if line.strip()][:2])
            to = " (to subscribers)" if m.subscribers_notified else ""
            self.say(f"{m.service} {m.where}{to}: {first}")
        self._told = len(self.mocks.messages())

    def _soak(self) -> None:
        self.act("Soak", f"1.2.0 must run on staging for the soak time before production "
                 f"(shortened to {DEMO_SOAK_S}s in the demo config; the example says 2h).")
        with self.console.status("soaking on staging…") as status:
            for left in range(DEMO_SOAK_S + 1, 0, -1):
                status.update(f"soaking 1.2.0 on staging… {left}s left")
                time.sleep(1)

    def _with_traffic(self, env: str, action: Callable[[], int]) -> None:
        """Run ``action`` while a client sends steady traffic to ``env``; none may fail."""
        from releasegate.demo.traffic import Traffic

        with Traffic(self.ws.url(env)) as traffic:
            action()
            time.sleep(1)
        self.say(f"{env}: {traffic.summary()}")
        if traffic.failed:
            raise DemoFailed(f"{traffic.failed} requests failed during a zero-downtime release")


def demo(*, keep: bool) -> int:
    from releasegate.demo import mocks as demo_mocks

    console = Console()
    ws = prepare()
    mocks, base = demo_mocks.start()
    os.environ.update(mocks.env())  # notify: and the notify steps post through apprise's json://
    ws.changes.append(f"Slack and the status page are a local server speaking their APIs ({base})")
    story = Story(console, ws, mocks)
    try:
        with Team(ws.config) as team:
            story.team = team
            story.tell()
    except DemoFailed as exc:
        console.print(f"[red]demo failed: {exc}[/red]")
        return Exit.FAILED
    finally:
        mocks.stop()
        if keep:
            console.print(f"--keep: the services are still up: staging {ws.url('staging')}, "
                          f"production {ws.url('production')}")
        else:
            stop_targets(ws)
    return Exit.OK


def stop_targets(ws: Workspace) -> None:
    """Stop what the demo started (each environment's supervisor and its versions)."""
    import asyncio

    from releasegate.errors import ReleasegateError as Failure
    from releasegate.identity import Actor
    from releasegate.service.workspace import Workspace as ServiceWorkspace

    service = ServiceWorkspace(ws.config)
    engine = service.engine(Actor("releasegate-demo", via="system"))
    for env in engine.config.environments:
        call = engine.target_call(env, "stop")
        if call is None:
            continue
        with contextlib.suppress(Failure):  # not running: nothing to stop
            asyncio.run(_awaited(call))
    engine.store.close()


async def _awaited(call: Awaitable[object]) -> object:
    return await call
