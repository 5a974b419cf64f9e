"""``smoke``: declarative HTTP flows (login, payment, upload...) with captured variables."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar

from pydantic import Field, JsonValue

from releasegate.config.types import Duration
from releasegate.drivers.api import Options, StepContext, StepResult
from releasegate.drivers.checks.smoke_flows import Flow, SmokeRequest, interpolate, load_flows
from releasegate.drivers.httpcheck_common import (
    Expect,
    Outcome,
    http_client,
    join_url,
    json_path,
    request,
)
from releasegate.drivers.process import resolve_secret
from releasegate.errors import DriverError

if TYPE_CHECKING:
    import httpx


class SmokeOptions(Options):
    """Options of ``smoke``."""

    flows: str | list[Flow] = Field(
        description="A YAML file or a directory of *.yaml files (relative to the config), "
        "or the flows inline."
    )
    url: str | None = Field(None, description="Base URL; defaults to the environment's url.")
    vars: dict[str, str] = Field(
        default_factory=dict,
        description="Extra variables for {{name}}; values may be secret references.",
    )
    request_timeout: Duration = Field(timedelta(seconds=10), description="Per-request timeout.")


def _capture(outcome: Outcome, source: str) -> str:
    response = outcome.response
    assert response is not None
    if source == "status":
        return str(response.status_code)
    kind, _, rest = source.partition(".")
    if kind == "header" and rest in response.headers:
        return response.headers[rest]
    if kind == "json":
        try:
            value = json_path(response.json(), rest)
        except (ValueError, KeyError):
            raise DriverError(f"cannot capture {source}: not in the response") from None
        return value if isinstance(value, str) else str(value)
    raise DriverError(f"cannot capture {source}: write json.PATH, header.NAME or status")


async def _send(
    client: httpx.AsyncClient, req: SmokeRequest, base: str | None, variables: dict[str, str], ctx: StepContext
) -> Outcome:
    url = join_url(base, str(interpolate(req.path, variables)))
    headers = {k: str(interpolate(v, variables)) for k, v in req.headers.items()}
    kwargs: dict[str, object] = {"headers": headers}
    if req.json_ is not None:
        kwargs["json"] = interpolate(req.json_, variables)
    if req.form:
        kwargs["data"] = {k: str(interpolate(v, variables)) for k, v in req.form.items()}
    with ExitStack() as stack:
        if req.files:
            files = {}
            for field, rel in req.files.items():
                path = ctx.workdir / rel
                if not path.is_file():
                    raise DriverError(f"file {rel} for field {field} does not exist")
                files[field] = (path.name, stack.enter_context(path.open("rb")))
            kwargs["files"] = files
        expect = Expect.model_validate(
            interpolate(req.expect.model_dump(mode="json", by_alias=True), variables)
        )
        return await request(client, req.method.upper(), url, expect, **kwargs)


async def _run_flow(
    client: httpx.AsyncClient, flow: Flow, base: str | None, variables: dict[str, str], ctx: StepContext
) -> dict[str, JsonValue]:
    variables = dict(variables)
    steps: list[JsonValue] = []
    ok = True
    for req in flow.requests:
        try:
            outcome = await _send(client, req, base, variables, ctx)
            if outcome.ok:
                for name, source in req.capture.items():
                    variables[name] = _capture(outcome, source)
        except DriverError as exc:
            steps.append({"request": req.title, "ok": False, "problems": [str(exc)]})
            ok = False
            break
        evidence = outcome.evidence()
        evidence["url"] = ctx.secrets.redact(outcome.url)
        steps.append({"request": req.title, **evidence})
        if not outcome.ok:
            ok = False
            break
    skipped = len(flow.requests) - len(steps)
    return {"flow": flow.name, "ok": ok, "requests": steps, "skipped": skipped}


class Smoke:
    """Runs every flow; a flow stops at its first failing request, other flows still run."""

    name: ClassVar[str] = "smoke"
    Options: ClassVar[type[SmokeOptions]] = SmokeOptions
    safe_to_rerun: ClassVar[bool] = True

    async def run(self, options: SmokeOptions, ctx: StepContext) -> StepResult:
        try:
            flows = (
                load_flows(options.flows, ctx.workdir)
                if isinstance(options.flows, str)
                else options.flows
            )
            variables = {
                "version": ctx.release.version,
                "environment": ctx.release.environment,
                **{k: resolve_secret(ctx, v, what=f"vars.{k}") for k, v in options.vars.items()},
            }
        except DriverError as exc:
            return StepResult(ok=False, summary=str(exc))
        base = options.url or ctx.url
        results: list[dict[str, JsonValue]] = []
        async with http_client(timeout=options.request_timeout.total_seconds()) as client:
            for flow in flows:
                results.append(await _run_flow(client, flow, base, variables, ctx))
        failed = [r for r in results if not r["ok"]]
        evidence: dict[str, JsonValue] = {"flows": list(results)}
        if not failed:
            count = sum(len(f.requests) for f in flows)
            return StepResult(
                ok=True, summary=f"{len(flows)} flows passed ({count} requests)", evidence=evidence
            )
        first = failed[0]
        requests = first["requests"]
        assert isinstance(requests, list)
        last = requests[-1]
        assert isinstance(last, dict)
        problems = last.get("problems")
        reason = "; ".join(str(p) for p in problems) if isinstance(problems, list) else ""
        summary = f"flow {first['flow']} failed at {last.get('request')}: {reason}"
        if len(failed) > 1:
            summary += f" ({len(failed)} of {len(results)} flows failed)"
        return StepResult(ok=False, summary=ctx.secrets.redact(summary), evidence=evidence)
