"""The console's web app (aiohttp): read-only pages over the decision log and chat health.

Every page is a GET; the only other methods are the login form's POST (it checks a
token and sets the session cookie) and the logout POST (it clears it): nothing writes
to the store. Blocking reads run on the console's own threads (``CONSOLE_THREADS``),
never on the event loop the gRPC server shares, nor on the gRPC worker threads; one
replay runs at a time.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import jinja2
from aiohttp import web

from firekeeper.console.charts import matches_chart, outcomes_chart
from firekeeper.console.data import MAX_COUNTED, MAX_REPLAYED, ConsoleData
from firekeeper.console.session import COOKIE, SESSION_SECONDS, Refused, Sessions, Viewer
from firekeeper.console.stats import MAX_BUCKETS, Bucket
from firekeeper.domain.chats import ChatKey
from firekeeper.domain.events import Platform
from firekeeper.errors import ChatNotFound, FirekeeperError, StoreUnavailable
from firekeeper.tools.runner import describe_action

log = logging.getLogger(__name__)

CONSOLE_THREADS = 2
MAX_DECISIONS = 200
MAX_REPLAY_HOURS = 24 * 30
MAX_FIELD = 256  # characters of a tenant or chat id in a query

# Who is looking, set by the guard for the handler it calls (the same task).
_VIEWER: contextvars.ContextVar[Viewer | None] = contextvars.ContextVar("viewer", default=None)
_T = TypeVar("_T")

# No script runs on any page; styles: the console's sheet and the SVG charts' own.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" on
    # the login POST, which the origin check must refuse
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}

_PUBLIC = frozenset({"/login", "/console.css"})


class BadQuery(ValueError):
    """A query parameter that cannot be used; the message says which and why."""


class NotYours(Exception):
    """The viewer's credential does not cover the tenant or platform asked for (403)."""


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("firekeeper.console", "templates"),
        autoescape=True,  # every page is HTML: escape everything not marked safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["action"] = lambda a: describe_action(a).rsplit("  [", 1)[0]
    env.filters["when"] = lambda at: at.strftime("%Y-%m-%d %H:%M:%S") if at else ""
    env.filters["share"] = lambda v: "n/a" if v is None else f"{v:.1%}"
    return env


class Console:
    """The web app over ``data``; ``sessions`` decides who may look."""

    def __init__(self, data: ConsoleData, sessions: Sessions, *, secure_cookie: bool) -> None:
        self.data = data
        self.sessions = sessions
        self._secure = secure_cookie
        self._env = _env()
        self._threads = ThreadPoolExecutor(CONSOLE_THREADS, thread_name_prefix="firekeeper-console")
        self._replaying = asyncio.Lock()

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard], client_max_size=16 * 1024)
        app.router.add_get("/", self.index)
        app.router.add_get("/rules", self.rules)
        app.router.add_get("/chat", self.chat)
        app.router.add_get("/replay", self.replay)
        app.router.add_get("/login", self.login_form)
        app.router.add_post("/login", self.login)
        app.router.add_post("/logout", self.logout)
        app.router.add_get("/console.css", self.css)
        app.on_cleanup.append(self._close)
        return app

    async def _close(self, _app: web.Application) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ plumbing

    async def _run(self, fn: Callable[[], _T]) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._threads, fn)

    def _page(self, template: str, http_status: int = 200, **values: Any) -> web.Response:
        html = self._env.get_template(template).render(**values)
        return web.Response(
            text=html, status=http_status, content_type="text/html", charset="utf-8"
        )

    def _error(self, request: web.Request, status: int, message: str) -> web.Response:
        viewer = _VIEWER.get()
        return self._page("error.html", status, viewer=viewer, status=status, message=message)

    @web.middleware
    async def _guard(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            response = await self._admitted(request, handler)
        except web.HTTPException as exc:  # 404, 405 and redirects
            if exc.status < 400:
                raise
            response = self._error(request, exc.status, exc.reason)
        for name, value in _HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    async def _admitted(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path not in _PUBLIC:
            try:
                viewer = self.sessions.viewer(
                    request.headers.get("Authorization"), request.cookies.get(COOKIE)
                )
            except Refused as exc:
                if exc.status == 401 and "Authorization" not in request.headers:
                    why = {"why": exc.reason} if COOKIE in request.cookies else {}
                    query = urlencode({"next": request.path_qs, **why})
                    raise web.HTTPSeeOther(f"/login?{query}") from None
                refused = self._error(request, exc.status, exc.reason)
                if exc.status == 401:
                    refused.headers["WWW-Authenticate"] = 'Bearer realm="firekeeper console"'
                return refused
            _VIEWER.set(viewer)
        try:
            return await handler(request)
        except BadQuery as exc:
            return self._error(request, 400, str(exc))
        except NotYours as exc:
            return self._error(request, 403, str(exc))
        except ChatNotFound as exc:
            return self._error(request, 404, str(exc))
        except StoreUnavailable as exc:
            return self._error(request, 503, str(exc))
        except FirekeeperError as exc:
            return self._error(request, 500, str(exc))
        except web.HTTPException:
            raise
        except Exception:
            log.exception("console page failed", extra={"path": request.path})
            return self._error(request, 500, "the page failed; the service log has the details")

    def _viewer(self, _request: web.Request) -> Viewer:
        viewer = _VIEWER.get()
        if viewer is None:  # only the public paths skip the guard's check
            raise web.HTTPUnauthorized(reason="sign in first")
        return viewer

    def _tenant(self, request: web.Request, viewer: Viewer, *, required: bool) -> str:
        tenant = _text(request, "tenant", required=required)
        if not viewer.sees(tenant):
            raise NotYours(
                f"credential {viewer.name!r} may not look at "
                + (f"tenant {tenant!r}" if tenant else "every tenant: choose one of yours")
            )
        return tenant

    def _chat(self, request: web.Request, viewer: Viewer) -> ChatKey:
        raw = _text(request, "platform", required=True)
        try:
            platform = Platform(raw)
        except ValueError:
            names = ", ".join(p.value for p in Platform if p.value != "unspecified")
            raise BadQuery(f"platform: {raw!r} is not one of {names}") from None
        tenant = _text(request, "tenant", required=True)
        if not viewer.sees(tenant, platform.value):
            raise NotYours(f"credential {viewer.name!r} may not look at {platform.value}/{tenant}")
        return ChatKey(platform, tenant, _text(request, "chat", required=True))

    # ------------------------------------------------------------------ pages

    async def index(self, request: web.Request) -> web.Response:
        viewer = self._viewer(request)
        tenants = sorted(viewer.credential.tenants or ()) if viewer.credential else []
        platforms = [p.value for p in Platform if p.value != "unspecified"]
        return self._page("index.html", viewer=viewer, tenants=tenants, platforms=platforms)

    async def rules(self, request: web.Request) -> web.Response:
        viewer = self._viewer(request)
        tenant = self._tenant(request, viewer, required=False)
        raw = request.query.get("bucket", "day")
        try:
            bucket = Bucket(raw)
        except ValueError:
            raise BadQuery(f"bucket: {raw!r} must be hour or day") from None
        default = 24 if bucket is Bucket.HOUR else 14
        count = _number(request, "last", default, 1, MAX_BUCKETS[bucket])
        platforms = viewer.credential.platforms if viewer.credential else None

        def page() -> web.Response:  # reads and renders on a console thread, off the loop
            stats = self.data.rule_stats(tenant or None, bucket, count, platforms=platforms)
            return self._page(
                "rules.html",
                viewer=viewer,
                tenant=tenant,
                stats=stats,
                last=count,
                limit=MAX_COUNTED,
                corrections=self.data.false_positives is not None,
                matches_svg=matches_chart(stats),
                outcomes_svg=outcomes_chart(stats),
            )

        return await self._run(page)

    async def chat(self, request: web.Request) -> web.Response:
        viewer = self._viewer(request)
        key = self._chat(request, viewer)
        limit = _number(request, "limit", 30, 1, MAX_DECISIONS)

        def page() -> web.Response:
            health = self.data.chat_health(key)
            recent = self.data.recent(key, limit)
            return self._page(
                "chat.html", viewer=viewer, key=key, health=health, recent=recent, limit=limit
            )

        return await self._run(page)

    async def replay(self, request: web.Request) -> web.Response:
        viewer = self._viewer(request)
        key = self._chat(request, viewer)
        hours = _number(request, "hours", 24, 1, MAX_REPLAY_HOURS)

        def page() -> web.Response:
            result = self.data.replay(key, hours)
            return self._page(
                "replay.html", viewer=viewer, key=key, hours=hours, result=result,
                limit=MAX_REPLAYED,
            )  # fmt: skip

        async with self._replaying:  # one at a time: a replay is CPU work on this process
            return await self._run(page)

    async def css(self, _request: web.Request) -> web.Response:
        css = self._env.get_template("console.css").render()
        return web.Response(text=css, content_type="text/css", charset="utf-8")

    # ------------------------------------------------------------------ sign in and out

    async def login_form(self, request: web.Request) -> web.Response:
        if self.sessions.open:
            raise web.HTTPSeeOther("/")
        return self._page(
            "login.html",
            viewer=None,
            next=_next(request.query.get("next", "/")),
            why=request.query.get("why", "")[:200],
        )

    async def login(self, request: web.Request) -> web.StreamResponse:
        if not _same_origin(request):
            return self._error(request, 403, "a sign-in from another site is refused")
        form = await request.post()
        token = form.get("token")
        target = _next(str(form.get("next", "/")))
        if not isinstance(token, str):
            token = ""
        try:
            viewer, digest = self.sessions.by_token(token.strip())
        except Refused as exc:
            log.info("console sign-in refused", extra={"status": exc.status})
            return self._page("login.html", exc.status, viewer=None, next=target, why=exc.reason)
        log.info("console sign-in", extra={"credential": viewer.name})
        response = web.Response(status=303, headers={"Location": target})
        response.set_cookie(
            COOKIE,
            self.sessions.issue(viewer, digest),
            max_age=SESSION_SECONDS,
            httponly=True,
            samesite="Strict",
            secure=self._secure,
            path="/",
        )
        return response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        if not _same_origin(request):
            return self._error(request, 403, "a sign-out from another site is refused")
        response = web.Response(status=303, headers={"Location": "/login"})
        response.del_cookie(COOKIE, path="/")
        return response


def _text(request: web.Request, name: str, *, required: bool) -> str:
    value = request.query.get(name, "").strip()
    if required and not value:
        raise BadQuery(f"{name}: required")
    if len(value) > MAX_FIELD or not value.isprintable():
        raise BadQuery(f"{name}: at most {MAX_FIELD} printable characters")
    return value


def _number(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name, "")
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise BadQuery(f"{name}: {raw[:20]!r} must be a whole number from {low} to {high}")
    return int(raw)


def _next(target: str) -> str:
    """Only a path of this console: never another site (``//host``, ``https://...``)."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return origin is None
    return origin == f"{request.scheme}://{request.host}"
