"""Deployment communication: Slack and the status page (standard library only).

    python scripts/notify.py slack --channel '#deployments' [--channel '#qa'] --about starting
    python scripts/notify.py slack --channel '#announcements' --about announcement
    python scripts/notify.py statuspage open | complete
    python scripts/notify.py statuspage customers --about downtime|changes

``slack`` posts to a Slack incoming webhook (JSON ``{"text", "channel"}``; Slack answers
200 ``ok``). ``about``: ``starting`` (a deployment begins), ``deployed`` (it is live, with
the version's changes), ``announcement`` (the checklist's deployment announcement: version,
time, duration, downtime, changes from CHANGELOG.md, and a live health and version check).

``statuspage`` follows Atlassian Statuspage's REST API v1: ``open`` creates a scheduled
maintenance for the deployment (status ``in_progress``), ``customers`` adds an update that
is delivered to the page's subscribers (``deliver_notifications``) — ``--about changes``
only when the version's CHANGELOG.md entry has user-facing sections — and ``complete``
marks the maintenance ``completed`` with a completion message and checks that it left the
active maintenances (the maintenance notice is gone).

Environment: SLACK_WEBHOOK_URL (a secret), STATUSPAGE_PAGE_URL
(``https://api.statuspage.io/v1/pages/PAGE_ID``), STATUSPAGE_API_KEY (sent as ``Authorization:
OAuth KEY``) and the RELEASEGATE_* variables releasegate sets for every step. Neither the
webhook URL nor the key is ever printed. Exit 0 done, 1 the service refused or could not be
reached (or the live check failed), 2 usage or configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

USER_FACING = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")
"""CHANGELOG.md sections that customers are told about (Keep a Changelog's categories)."""


class Failed(Exception):
    """The service refused, or could not be reached (exit 1)."""


class Usage(Exception):
    """Missing or bad configuration (exit 2)."""


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if not value:
        raise Usage(f"{name} is not set")
    return value


def release() -> dict[str, str]:
    return {
        "version": env("RELEASEGATE_VERSION"),
        "environment": env("RELEASEGATE_ENVIRONMENT"),
        "kind": os.environ.get("RELEASEGATE_KIND", "normal"),
        "id": os.environ.get("RELEASEGATE_DEPLOYMENT_ID", "?"),
        "previous": os.environ.get("RELEASEGATE_PREVIOUS_VERSION") or "none",
        "url": os.environ.get("RELEASEGATE_URL", ""),
    }


def request(what: str, url: str, method: str, body: Any = None,
            headers: dict[str, str] | None = None) -> tuple[int, str]:
    """(status, body). ``what`` names the service in messages: the URL is never shown."""
    if not re.match(r"https?://", url):
        raise Usage(f"{what}: the configured URL is not an http(s) URL")
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", "User-Agent": "camarketplace-notify/1", **(headers or {}),
    })
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")
    except urllib.error.URLError as exc:
        raise Failed(f"{what}: cannot reach the service ({exc.reason})") from None
    except (TimeoutError, OSError) as exc:
        raise Failed(f"{what}: {exc.__class__.__name__}: {exc.strerror or 'no answer'}") from None


# -- what to say ---------------------------------------------------------------------------
def changes(version: str, changelog: Path, only_user_facing: bool = False) -> list[str]:
    """``[Section] text`` of each bullet of the version's CHANGELOG.md entry."""
    entry: list[str] = []
    inside = seen = False
    heading = re.compile(rf"^##\s*\[?v?{re.escape(version)}\]?(\s|$)")
    for line in changelog.read_text(encoding="utf-8").splitlines():
        if re.match(r"^##\s", line):
            inside = heading.match(line) is not None
            seen = seen or inside
        elif inside:
            entry.append(line)
    if not seen:
        raise Usage(f"{changelog}: no entry for {version}")
    found: list[str] = []
    section = ""
    keep = False
    for line in entry:
        if line.startswith("### "):
            section, keep = line[4:].strip(), False
        elif re.match(r"^\s*[-*]\s", line):
            keep = section in USER_FACING or not only_user_facing
            if keep:
                found.append(f"[{section or 'Change'}] {line.strip()[2:]}")
        elif keep and line.startswith("  ") and line.strip():
            found[-1] += " " + line.strip()
    # the first sentence of each, without markdown emphasis
    return [re.split(r"(?<=\.)\s", item.replace("**", ""), maxsplit=1)[0] for item in found]


def downtime(kind: str) -> str:
    return ("a maintenance page for a few minutes during the release (major release)"
            if kind == "major" else "none (zero-downtime deployment)")


def started_at(state_dir: Path, rel: dict[str, str]) -> datetime:
    """When this deployment's communication began (recorded by the first call)."""
    path = state_dir / f"{rel['environment']}-{rel['id']}.json"
    if path.is_file():
        return datetime.fromisoformat(json.loads(path.read_text(encoding="utf-8"))["started"])
    now = datetime.now(UTC)
    state_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"started": now.isoformat()}), encoding="utf-8")
    return now


def live_check(url: str, version: str) -> list[str]:
    """Health and version of the live service, asked now; Failed when either is wrong."""
    if not url:
        raise Usage("RELEASEGATE_URL is not set: cannot check the live service")
    status, body = request("health check", url + "/monitoring/health", "GET")
    if status != 200 or '"ok"' not in body:
        raise Failed(f"not announcing: GET /monitoring/health answered {status}")
    status, body = request("version check", url + "/monitoring/version", "GET")
    try:
        live = json.loads(body).get("version") if status == 200 else None
    except (ValueError, AttributeError):
        live = None
    if live != version:
        raise Failed(f"not announcing: /monitoring/version says {live}, expected {version}")
    return ["✓ All health checks passing (/monitoring/health: ok)", f"✓ Version {version} serving"]


def message(about: str, rel: dict[str, str], args: argparse.Namespace) -> str:
    v, env_name = rel["version"], rel["environment"]
    if about == "starting":
        if env_name == "production":
            return (f"Production deployment of camarketplace v{v} starts now (releasegate "
                    f"deployment #{rel['id']}, {rel['kind']}; live now: {rel['previous']}). "
                    f"Expected downtime: {downtime(rel['kind'])}.")
        return (f"Deploying camarketplace v{v} to {env_name} now (releasegate deployment "
                f"#{rel['id']}, {rel['kind']}). QA: v{v} is yours to test on {rel['url']} once "
                f"this deployment succeeds; tracker: `releasegate history {env_name}`.")
    items = changes(v, args.changelog)
    listed = "\n".join(f"- {c}" for c in items) or "- (no changes listed)"
    if about == "deployed":
        return f"camarketplace v{v} is live on {env_name} (deployment #{rel['id']}).\nChanges:\n{listed}"
    now = datetime.now(UTC)
    took = now - started_at(args.state_dir, rel)
    verified = "\n".join(live_check(rel["url"], v))
    return (f"✅ {env_name.capitalize()} Deployment Complete\n\n"
            f"Version: v{v}\nDeployed: {now:%Y-%m-%d %H:%M} UTC\n"
            f"Duration: {_minutes(took)} (from the first deployment notice)\n"
            f"Downtime: {downtime(rel['kind']).capitalize()}\n\nChanges:\n{listed}\n\n"
            f"Verification:\n{verified}\n✓ Every deploy step passed (health, version, smoke, "
            f"logs, performance: releasegate deployment #{rel['id']})\n\nMetrics: {rel['url']}/metrics\n"
            f"Record: releasegate show {rel['id']}")


def _minutes(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds // 60} min {seconds % 60} s"


# -- the services ---------------------------------------------------------------------------
def slack(channels: list[str], text: str) -> None:
    url = env("SLACK_WEBHOOK_URL")
    for channel in channels:
        status, body = request(f"slack {channel}", url, "POST", {"text": text, "channel": channel})
        if not 200 <= status < 300 or body.strip() != "ok":
            raise Failed(f"slack {channel}: HTTP {status}: {body.strip()[:200] or '(empty)'}")
        print(f"slack {channel}: ok")


class StatusPage:
    def __init__(self, rel: dict[str, str]) -> None:
        self.base = env("STATUSPAGE_PAGE_URL").rstrip("/")
        self.headers = {"Authorization": f"OAuth {env('STATUSPAGE_API_KEY')}"}
        self.rel = rel
        self.name = f"camarketplace v{rel['version']} deployment ({rel['environment']})"

    def call(self, method: str, path: str, body: Any = None) -> Any:
        status, text = request("statuspage", self.base + path, method, body, self.headers)
        if not 200 <= status < 300:
            raise Failed(f"statuspage {method} {path}: HTTP {status}: {text.strip()[:200]}")
        try:
            return json.loads(text)
        except ValueError:
            raise Failed(f"statuspage {method} {path}: the answer is not JSON") from None

    def open_maintenance(self) -> dict[str, Any] | None:
        for incident in self.call("GET", "/incidents/active_maintenance"):
            if incident.get("name") == self.name:
                return dict(incident)
        return None

    def update(self, fields: dict[str, Any]) -> dict[str, Any]:
        incident = self.open_maintenance()
        if incident is None:
            raise Failed(f"statuspage: no active maintenance {self.name!r} (run `statuspage open` first)")
        answer: dict[str, Any] = self.call("PATCH", f"/incidents/{incident['id']}", {"incident": fields})
        return answer

    def open(self, expected: timedelta) -> None:
        found = self.open_maintenance()
        if found:
            print(f"statuspage: maintenance {self.name!r} already open ({found['status']})")
            return
        now = datetime.now(UTC)
        kind = self.rel["kind"]
        body = (f"We are deploying version {self.rel['version']} of CA Marketplace. "
                f"Expected downtime: {downtime(kind)}.")
        made = self.call("POST", "/incidents", {"incident": {
            "name": self.name, "status": "in_progress", "body": body,
            "scheduled_for": now.isoformat(), "scheduled_until": (now + expected).isoformat(),
            "scheduled_remind_prior": False, "scheduled_auto_in_progress": False,
            "scheduled_auto_completed": False, "deliver_notifications": False,
            "impact_override": "maintenance" if kind == "major" else "none",
        }})
        print(f"statuspage: maintenance {self.name!r} open ({made.get('status')})")

    def customers(self, about: str, changelog: Path) -> None:
        v = self.rel["version"]
        if about == "downtime":
            body = (f"During the release of version {v} CA Marketplace shows a maintenance "
                    "page for a few minutes. We will post here when it is complete.")
        else:
            items = changes(v, changelog, only_user_facing=True)
            if not items:
                print(f"no user-facing changes in CHANGELOG.md for {v}: customers not notified")
                return
            body = f"Version {v} of CA Marketplace is live. What changes for you:\n" + "\n".join(
                f"- {c}" for c in items)
        self.update({"body": body, "deliver_notifications": True})
        print(f"statuspage: subscribers notified ({about})")

    def complete(self) -> None:
        now = datetime.now(UTC)
        done = self.update({"status": "completed", "deliver_notifications": False, "body": (
            f"The deployment of version {self.rel['version']} completed at {now:%H:%M} UTC. "
            "All systems operational.")})
        if done.get("status") != "completed":
            raise Failed(f"statuspage: maintenance is {done.get('status')}, not completed")
        if self.open_maintenance() is not None:
            raise Failed("statuspage: the maintenance notice is still active")
        print(f"statuspage: maintenance {self.name!r} completed; notice removed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--changelog", type=Path, default=Path("CHANGELOG.md"))
    parser.add_argument("--state-dir", type=Path, default=Path(".releasegate/notify"))
    sub = parser.add_subparsers(dest="service", required=True)
    s = sub.add_parser("slack")
    s.add_argument("--channel", action="append", required=True)
    s.add_argument("--about", choices=["starting", "deployed", "announcement"], required=True)
    p = sub.add_parser("statuspage")
    p.add_argument("action", choices=["open", "customers", "complete"])
    p.add_argument("--about", choices=["downtime", "changes"], default="changes")
    p.add_argument("--expected-minutes", type=int, default=30)
    args = parser.parse_args(argv)
    try:
        rel = release()
        started_at(args.state_dir, rel)
        if args.service == "slack":
            slack(args.channel, message(args.about, rel, args))
        else:
            page = StatusPage(rel)
            if args.action == "open":
                page.open(timedelta(minutes=args.expected_minutes))
            elif args.action == "customers":
                page.customers(args.about, args.changelog)
            else:
                page.complete()
    except Usage as exc:
        print(f"notify.py: {exc}", file=sys.stderr)
        return 2
    except Failed as exc:
        print(f"notify.py: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
