"""One log line per request, with its request id: method, route (the template, never the ids in the
path or the query), status, duration, bytes sent and who asked. The id comes from the caller's
`X-Request-ID` when it is a plain token (a proxy's or the workstation's), else a new one; it is
answered in the same header and carried by every log line written while the request runs."""

from __future__ import annotations

import re
import time
import traceback
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cobro_tui import logs

HEADER = b"x-request-id"
_PLAIN = re.compile(rb"[A-Za-z0-9._:-]{8,64}")
log = logs.get("server.requests")


def _incoming(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        # A plain token that does not look like personal data (a phone, a card) is kept.
        if name == HEADER and _PLAIN.fullmatch(value) and logs.redacted(value.decode()) == value.decode():
            return value.decode()
    return uuid.uuid4().hex


def _frames(exc: BaseException) -> list[traceback.FrameSummary]:
    return traceback.extract_tb(exc.__traceback__)[-6:]


class RequestLog:
    """Pure ASGI middleware (no body buffering): the push route's speed is not touched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming(scope)
        token = logs.request_id.set(rid)
        state = scope.setdefault("state", {})
        seen: dict[str, int] = {"status": 500, "bytes": 0}

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                message["headers"] = [*message.get("headers", ()), (HEADER, rid.encode())]
            elif message["type"] == "http.response.body":
                seen["bytes"] += len(message.get("body", b""))
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, answer)
        except Exception as exc:
            # A bug: where it happened (code lines only, never the values), under this request's id.
            where = " | ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in _frames(exc))
            log.error("unhandled %s at %s", type(exc).__name__, where, extra={"event": "error"})
            raise
        finally:
            ms = round((time.perf_counter() - started) * 1000, 1)
            route = getattr(scope.get("route"), "path", None) or "-"
            status = seen["status"]
            log.log(
                30 if status >= 500 else 20,
                "%s %s %d %.1f ms",
                scope["method"],
                route,
                status,
                ms,
                extra={
                    "event": "request",
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "ms": ms,
                    "bytes": seen["bytes"],
                    "user": state.get("user") if isinstance(state, dict) else None,
                },
            )
            logs.request_id.reset(token)
