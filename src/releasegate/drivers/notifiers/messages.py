"""What a notification says: a title and a body per event, from Jinja2 templates.

A team replaces the built-in text of a route with a template file (``notify[].template``):
its first line is the title, the rest the body. Templates see ``event`` (its name) and
every key of the event's data (``deployment``, ``detail``, ``url``…); ``deployment.succeeded``
carries ``announcement``, the deployment's announcement (``announcement.template``) as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import JsonValue

from releasegate.errors import ConfigError

_D = "{{ deployment.version }} to {{ deployment.environment }}"
BUILTIN: dict[str, str] = {
    "deployment.started": f"🚀 Deploying {_D}\n"
    "{{ deployment.kind }} deployment #{{ deployment.id }} started by {{ deployment.user }}.",
    "deployment.blocked": f"⛔ Blocked: {_D}\n{{{{ detail }}}}",
    "deployment.succeeded": f"✅ Deployed {_D}\n"
    "{% if announcement %}{{ announcement }}{% else %}Deployment #{{ deployment.id }} "
    "succeeded{% if duration %} in {{ duration }}{% endif %}.{% endif %}",
    "deployment.failed": f"❌ Failed: {_D}\n"
    "Deployment #{{ deployment.id }} failed: {{ detail }}. A person must act.",
    "deployment.rolled_back": f"↩️ Rolled back: {_D}\n"
    "Deployment #{{ deployment.id }} was rolled back: {{ detail }}",
    "approval.requested": f"🖊️ Approval needed: {_D}\n"
    "Role {{ role }} is asked to approve: releasegate approve {{ deployment.environment }} "
    "{{ deployment.version }} --role {{ role }}",
    "confirmation.requested": "🖊️ Sign-off needed for deployment #{{ deployment.id }}\n"
    "{{ item }}: {{ text }} — releasegate confirm {{ deployment.id }} {{ item }}",
    "freeze.started": "🧊 Freeze started{% if environment %} in {{ environment }}{% endif %}\n"
    "{{ reason }} (until {{ end }})",
    "obligation.overdue": "⏰ Overdue: {{ kind }} for deployment #{{ deployment_id }}\n"
    "{{ text }} was due {{ due_at }}.",
}
_FALLBACK = "{{ event }}\n{{ detail | default('') }}"
_ENV = SandboxedEnvironment(autoescape=False, keep_trailing_newline=False)


@dataclass(frozen=True)
class Message:
    """A rendered notification."""

    title: str
    body: str


def load_template(path: Path) -> str:
    """Read and check a template file; a syntax error is a ConfigError naming the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the template: {exc.strerror}") from exc
    try:
        _ENV.parse(text)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        raise ConfigError(f"{path}:{line}: {exc}" if line else f"{path}: {exc}") from exc
    return text


def render(event: str, data: Mapping[str, JsonValue], template: str | None = None) -> Message:
    """The message for ``event``: ``template`` (the first line titles it) or the built-in
    one. A template that fails at render time falls back to the built-in text: a
    notification goes out rather than not at all."""
    source = template or BUILTIN.get(event, _FALLBACK)
    try:
        text = _ENV.from_string(source).render(event=event, **data)
    except TemplateError:
        text = _ENV.from_string(BUILTIN.get(event, _FALLBACK)).render(event=event, **data)
    title, _, body = text.strip().partition("\n")
    return Message(title.strip(), body.strip())
