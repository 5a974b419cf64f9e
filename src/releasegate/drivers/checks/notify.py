"""``notify``: send one message now, as a checklist step that must (or should) get through.

``notify:`` routes tell people of events in the background and never hold a deployment up.
Some of the checklist's messages are items in their own right ("notify team", "deployment
announcement"): this step sends one of them through the same apprise machinery, to a named
``notify:`` route or an apprise URL, and records what went where (receiver, channels, the
message's digest, each delivery's result — never the URL) so that the item is proved.
``required: false`` turns a refused delivery into a warning.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from datetime import timedelta
from pathlib import Path
from typing import ClassVar, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import Field, JsonValue, model_validator

from releasegate.config.types import Duration
from releasegate.drivers.api import Options, StepContext, StepResult
from releasegate.drivers.process import resolve_secret
from releasegate.errors import ConfigError, DriverError

BUILTIN: dict[str, str] = {
    "starting": "🚀 Deploying {{ version }} to {{ environment }}\n"
    "{{ kind }} deployment #{{ deployment }} starts now"
    "{% if previous_version %} (live now: {{ previous_version }}){% endif %}."
    "{% if url %} {{ url }}{% endif %}",
    "deployed": "✅ {{ version }} is live on {{ environment }}\n"
    "Deployment #{{ deployment }}.{% if changes %} Changes:\n"
    "{% for change in changes %}- {{ change }}\n{% endfor %}{% endif %}",
}
_QUERY_CHANNEL = ("json", "jsons", "form", "forms", "xml", "xmls")
_PATH_CHANNEL = ("slack", "discord")


class NotifyOptions(Options):
    """Options of ``notify``."""

    to: str = Field(description="A `notify:` route's name, or an apprise URL (usually a secret "
                    "reference such as ${env:SLACK_NOTIFY_URL}). Never printed.")
    channels: list[str] = Field(default_factory=list, description="Send once to each of these "
                                "channels (#deployments…): a path part of slack:// URLs, the "
                                "`:channel` field of json://, form:// and xml:// webhooks.")
    message: Literal["starting", "deployed", "announcement"] | None = Field(
        None, description="A built-in message: starting, deployed (with the version's changes "
        "from the changelog) or announcement (the checklist's deployment announcement, from "
        "the records, in the config's announcement.template).")
    template: str | None = Field(None, description="A Jinja2 file (relative to the config) "
                                 "instead: its first line is the title. It sees version, "
                                 "environment, kind, previous_version, deployment, url, changes.")
    changelog: str = Field("CHANGELOG.md", description="Where `changes` come from (relative "
                           "to the config); a missing file or entry means no changes.")
    required: bool = Field(True, description="A refused delivery fails the step (false: it warns).")
    timeout: Duration = Field(timedelta(seconds=10), description="Give up on one delivery "
                              "after this long.")

    @model_validator(mode="after")
    def _one_text(self) -> NotifyOptions:
        if (self.message is None) == (self.template is None):
            raise ValueError("give exactly one of message or template")
        return self


class Notify:
    """Sends one message through apprise and records the delivery as evidence."""

    name: ClassVar[str] = "notify"
    Options: ClassVar[type[NotifyOptions]] = NotifyOptions
    safe_to_rerun: ClassVar[bool] = True

    async def run(self, options: NotifyOptions, ctx: StepContext) -> StepResult:
        from releasegate.drivers.notifiers.apprise_send import destination, send_now

        try:
            receiver, url = _receiver(options.to, ctx)
            title, body = _compose(options, ctx)
            targets = [(c, _with_channel(url, c)) for c in options.channels] or [("", url)]
            dests = [(c, destination(u, where=f"notify {receiver}")) for c, u in targets]
        except (DriverError, ConfigError) as exc:
            return StepResult(ok=False, summary=ctx.secrets.redact(str(exc)))
        digest = hashlib.sha256(f"{title}\n{body}".encode()).hexdigest()
        results: list[JsonValue] = []
        for channel, dest in dests:
            try:
                await asyncio.to_thread(send_now, dest, title=title, body=body,
                                        timeout=options.timeout.total_seconds())
                results.append({"channel": channel or None, "result": "sent"})
            except DriverError as exc:
                results.append({"channel": channel or None, "result": "failed",
                                "error": ctx.secrets.redact(str(exc))})
        failed = [r for r in results if isinstance(r, dict) and r["result"] == "failed"]
        where = ", ".join(options.channels) or receiver
        evidence: dict[str, JsonValue] = {
            "receiver": receiver, "channels": list(options.channels),
            "message": options.message or options.template, "title": title,
            "sha256": digest, "deliveries": results,
        }
        if not failed:
            return StepResult(ok=True, summary=f"told {where}: {title}", evidence=evidence)
        errors = "; ".join(str(r.get("error")) for r in failed if isinstance(r, dict))
        summary = f"{len(failed)} of {len(results)} deliveries refused ({errors})"
        if options.required:
            return StepResult(ok=False, summary=summary, evidence=evidence)
        return StepResult(ok=True, summary=f"warning: {summary}", evidence={**evidence, "warning": True})


def _receiver(to: str, ctx: StepContext) -> tuple[str, str]:
    """(the name recorded, the resolved URL)."""
    if "://" in to or "${" in to:
        return "url", resolve_secret(ctx, to, what="to")
    found = ctx.records.receiver(to) if ctx.records is not None else None
    if found is None:
        raise DriverError(f"to: there is no notify: route named {to!r} (give it `name: {to}`, "
                          "or write an apprise URL)")
    return to, resolve_secret(ctx, found, what=f"notify route {to!r}")


def _compose(options: NotifyOptions, ctx: StepContext) -> tuple[str, str]:
    if options.message == "announcement":
        if ctx.records is None:
            raise DriverError("message announcement: only inside a deployment (no records here)")
        text = ctx.records.announcement()
    else:
        from jinja2 import TemplateError  # only when a message is rendered: loading a
        from jinja2.sandbox import SandboxedEnvironment  # config imports neither

        source = BUILTIN[options.message] if options.message else _read(ctx.workdir / str(options.template))
        rel = ctx.release
        try:
            text = SandboxedEnvironment(autoescape=False).from_string(source).render(
                version=rel.version, environment=rel.environment, kind=rel.kind,
                previous_version=rel.previous_version, deployment=ctx.deployment_id,
                url=ctx.url or "", changes=_changes(ctx.workdir / options.changelog, rel.version),
            )
        except TemplateError as exc:
            raise ConfigError(f"notify template: {exc}") from exc
    title, _, body = text.strip().partition("\n")
    return title.strip(), body.strip()


def _read(path: Path) -> str:
    from releasegate.drivers.notifiers.messages import load_template

    return load_template(path)


def _changes(path: Path, version: str) -> list[str]:
    from releasegate.metrics.changelog import changelog_entry, entry_changes

    try:
        entry = changelog_entry(path.read_text(encoding="utf-8"), version)
    except OSError:
        return []
    return entry_changes(entry) if entry else []


def _with_channel(url: str, channel: str) -> str:
    """``url`` aimed at ``channel``: apprise names the channel differently per service."""
    parts = urlsplit(url)
    if parts.scheme in _QUERY_CHANNEL:
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != ":channel"]
        return urlunsplit(parts._replace(query=urlencode([*query, (":channel", channel)])))
    if parts.scheme in _PATH_CHANNEL:  # slack://A/B/C/#channel: '#' is no fragment to apprise
        base, _, tail = url.partition("?")
        base = re.sub(r"(/#[^/]*)+/?$", "", base).rstrip("/")
        return f"{base}/{channel}" + (f"?{tail}" if tail else "")
    raise DriverError(f"channels: a {parts.scheme}:// receiver has no channel to choose; "
                      "give one notify step (or route) per channel")
