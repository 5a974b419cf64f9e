"""The dashboard's pages: server-rendered, readable without JavaScript; a few lines of
vendored script (``static/live.js``) follow a running deployment over SSE."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from releasegate.errors import IdentityError, ReleasegateError
from releasegate.identity import Actor
from releasegate.service import (
    browse,
    dashboard,
    metrics,
    queue_cancel,
    records,
    show,
    signoffs,
    tokens,
)
from releasegate.web import session, views
from releasegate.web.errors import status_of
from releasegate.web.sse import event_stream
from releasegate.web.state import state_of

HERE = Path(__file__).parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)
Field = Annotated[str, Form()]
Optional = Annotated[str | None, Form()]


def mount_static(app: FastAPI) -> None:
    """Serve ``web/static`` (the script and the stylesheet: nothing from a CDN) at ``/static``."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")


def _render(
    request: Request, name: str, actor: Actor | None, code: int = 200, **data: Any
) -> HTMLResponse:
    return templates.TemplateResponse(
        request, name, {"actor": actor, "csrf": session.csrf_token(request), **data},
        status_code=code,
    )


def _to_login(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)


def _refused(request: Request, actor: Actor | None, exc: ReleasegateError) -> HTMLResponse:
    status, kind = status_of(exc)
    return _render(request, "error.html", actor, code=status, kind=kind, message=str(exc))


@router.get("/login")
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    """The sign-in form."""
    return _render(request, "login.html", None, next=_local(next), problem=None)


@router.post("/login")
def login(request: Request, token: Field, next: Field = "/") -> Response:
    """Sign in with an API token: the session cookie holds it (HttpOnly, SameSite=Strict)."""
    state = state_of(request)
    try:
        tokens.authenticate(state.workspace, token.strip(), os_user=state.os_user)
    except IdentityError as exc:
        return _render(request, "login.html", None, code=401, next=_local(next), problem=str(exc))
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(
        session.COOKIE, token.strip(), httponly=True, samesite="strict",
        secure=bool(request.app.state.secure_cookies), path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request, csrf: Optional = None) -> Response:
    """Sign out (a form with the CSRF token)."""
    session.check_csrf(request, csrf)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(session.COOKIE, path="/")
    return response


def _local(target: str) -> str:
    """Only a path on this server (never ``//elsewhere``): no open redirect."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/")
def matrix(request: Request) -> Response:
    """The environments × versions matrix, and what is deploying now."""
    actor = session.page_actor(request)
    if actor is None:
        return _to_login(request)
    ws = state_of(request).workspace
    return _render(request, "matrix.html", actor, matrix=views.matrix(ws, actor))


@router.get("/history")
def history(
    request: Request, environment: str | None = None, status: str | None = None, page: int = 0
) -> Response:
    """Deployments, newest first, filtered, 50 a page."""
    actor = session.page_actor(request)
    if actor is None:
        return _to_login(request)
    ws = state_of(request).workspace
    env = environment or None
    try:
        rows = browse.deployments(
            ws, actor, env=env, status=status or None, offset=max(page, 0) * 50, limit=50
        )
    except ReleasegateError as exc:
        return _refused(request, actor, exc)
    return _render(
        request, "history.html", actor, rows=rows, environment=env, status=status or "",
        page=max(page, 0), environments=list(ws.config.environments), statuses=browse.STATUSES,
    )


def _deployment(request: Request, actor: Actor, id: int) -> dict[str, Any]:
    ws = state_of(request).workspace
    shown = show.show(ws, actor, id)
    waiting = records.waiting_signatures(ws, actor, id)
    return {
        "d": shown, "waiting": waiting, "buttons": views.buttons(ws, actor, shown, waiting),
        "verified": dashboard.has_verification(ws, actor, id),
    }


@router.get("/deployments/{id}")
def deployment(request: Request, id: int) -> Response:
    """A deployment as a filled-in checklist, followed live while it runs."""
    actor = session.page_actor(request)
    if actor is None:
        return _to_login(request)
    try:
        data = _deployment(request, actor, id)
    except ReleasegateError as exc:
        return _refused(request, actor, exc)
    return _render(request, "deployment.html", actor, **data)


@router.get("/deployments/{id}/verification.svg")
def verification_chart(request: Request, id: int) -> Response:
    """The deployment's verification chart (``show --chart``): the samples of each stage,
    its thresholds and the baseline."""
    actor = session.page_actor(request)
    if actor is None:
        return Response(status_code=401)
    try:
        svg = dashboard.verification_svg(state_of(request).workspace, actor, id)
    except ReleasegateError as exc:
        return _refused(request, actor, exc)
    # matplotlib's SVG styles its shapes inline: allowed in this image, which runs no script
    policy = "default-src 'none'; style-src 'unsafe-inline'"
    return Response(svg, media_type="image/svg+xml", headers={"Content-Security-Policy": policy})


@router.get("/deployments/{id}/live")
def deployment_live(request: Request, id: int) -> Response:
    """The live part of the deployment's page (what ``live.js`` swaps in on each event)."""
    actor = session.page_actor(request)
    if actor is None:
        return Response(status_code=401)
    try:
        data = _deployment(request, actor, id)
    except ReleasegateError as exc:
        return _refused(request, actor, exc)
    return _render(request, "_live.html", actor, **data)


@router.get("/deployments/{id}/stream")
def deployment_stream(request: Request, id: int) -> Response:
    """The deployment's events for the page (the session's token, not a header)."""
    actor = session.page_actor(request)
    if actor is None:
        return Response(status_code=401)
    ws = state_of(request).workspace
    try:
        browse.events(ws, actor, id, limit=1)
    except ReleasegateError as exc:
        return _refused(request, actor, exc)
    last = request.headers.get("last-event-id", "")
    after = int(last) if last.isdigit() else 0
    return StreamingResponse(
        event_stream(request, lambda after: browse.events(ws, actor, id, after=after), after),
        media_type="text/event-stream",
    )


@router.post("/deployments/{id}/confirm")
def confirm(request: Request, id: int, item: Field, note: Optional = None, csrf: Optional = None) -> Response:
    """Sign a checklist item the deployment waits for (the use case decides who may)."""
    actor = session.page_actor(request)
    if actor is None:
        return _to_login(request)
    try:
        session.check_csrf(request, csrf)
        signoffs.confirm(state_of(request).workspace, actor, id, item, note=note or None)
    except ReleasegateError as exc:
        return _refused(request, actor, exc)
    return RedirectResponse(f"/deployments/{id}", status_code=303)


@router.post("/deployments/{id}/approve")
def approve(request: Request, id: int, role: Field, note: Optional = None, csrf: Optional = None) -> Response:
    """Approve the deployment's version for its environment in a role."""
    actor = session.page_actor(request)
    if actor is None:
        return _to_login(request)
    ws = state_of(request).workspace
    try:
        session.check_csrf(request, csrf)
        dep = show.show(ws, actor, id)["deployment"]
        assert isinstance(dep, dict)
        signoffs.approve(ws, actor, str(dep["environment"]), str(dep["version"]), role=role, note=note or None)
    except ReleasegateError as exc:
        return _refused(request, actor, exc)
    return RedirectResponse(f"/deployments/{id}", status_code=303)


@router.get("/audit")
def audit(request: Request) -> Response:
    """Whether the record verifies: the chain, the seals, the anchors, the signatures."""
    actor = session.page_actor(request)
    if actor is None:
        return _to_login(request)
    try:
        found = records.audit_verify(state_of(request).workspace, actor)
    except ReleasegateError as exc:
        return _refused(request, actor, exc)
    return _render(request, "audit.html", actor, audit=found)


@router.get("/calendar")
def calendar(request: Request) -> Response:
    """The next two weeks per environment: when deploying is allowed, and why not."""
    actor = session.page_actor(request)
    if actor is None:
        return _to_login(request)
    ws = state_of(request).workspace
    return _render(request, "calendar.html", actor, calendar=views.calendar(ws, actor))


METRICS_VIEWS_KEPT = 16
"""How many drawn metrics pages a server keeps (the newest; a page is ~200 KB of SVG)."""
PERIODS = [("7d", "7 days"), ("30d", "30 days"), ("90d", "90 days"), ("365d", "a year")]


@router.get("/delivery")
def metrics_page(request: Request, environment: str | None = None, since: str = "90d") -> Response:
    """The figures of ``releasegate metrics`` against their targets, and the report's
    charts (at ``/delivery``: ``/metrics`` is the server's Prometheus endpoint)."""
    import base64

    actor = session.page_actor(request)
    if actor is None:
        return _to_login(request)
    state = state_of(request)
    ws = state.workspace
    try:
        where = metrics.scope(ws, env=environment or None, since=since)
        key = dashboard.view_key(ws, actor, where)
        view = state.metrics_views.get(key)
        if not isinstance(view, dashboard.MetricsView):
            view = dashboard.metrics_view(ws, actor, where)
            while len(state.metrics_views) >= METRICS_VIEWS_KEPT:
                state.metrics_views.pop(next(iter(state.metrics_views)))
            state.metrics_views[key] = view
    except ReleasegateError as exc:
        return _refused(request, actor, exc)
    charts = [(name, base64.b64encode(svg.encode()).decode()) for name, svg in view.charts.items()]
    return _render(
        request, "metrics.html", actor, view=view, charts=charts, chart_text=dashboard.CHART_TEXT,
        environments=list(ws.config.environments), since=since, periods=PERIODS,
    )


@router.post("/environments/{environment}/approve")
def approve_version(
    request: Request, environment: str, version: Field, role: Field, note: Optional = None,
    csrf: Optional = None,
) -> Response:
    """Approve a version for an environment in a role, from the matrix."""
    actor = session.page_actor(request)
    if actor is None:
        return _to_login(request)
    try:
        session.check_csrf(request, csrf)
        done = signoffs.approve(
            state_of(request).workspace, actor, environment, version.strip(), role=role,
            note=note or None,
        )
    except ReleasegateError as exc:
        return _refused(request, actor, exc)
    return _render(request, "done.html", actor, text=done.text)


@router.post("/queue/{id}/cancel")
def cancel_queued(request: Request, id: int, csrf: Optional = None) -> Response:
    """Cancel a queued deployment before a worker starts it, from the matrix."""
    actor = session.page_actor(request)
    if actor is None:
        return _to_login(request)
    try:
        session.check_csrf(request, csrf)
        done = queue_cancel.cancel(state_of(request).workspace, actor, id)
    except ReleasegateError as exc:
        return _refused(request, actor, exc)
    r = done.record
    what = f"{r.version} → {r.environment}" if r.version else f"{r.action} {r.environment}"
    return _render(request, "done.html", actor, text=f"q{id} ({what}) cancelled: it will not run.")
