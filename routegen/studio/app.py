"""The studio's FastAPI app: JSON API under /api (OpenAPI page at /docs), the static front end at /.

Every bad input is a 4xx with a one-line `detail` naming the value: routegen's own errors (unknown hold, bad
grade, fixed holds no route can contain) are 400, a body that fails the schema is 422, malformed JSON is 400,
an oversized body is 413, a full inference queue is 503. Nothing a client sends should reach a 500.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from routegen.errors import RoutegenError
from routegen.studio.library import Library, NotFound
from routegen.studio.service import Busy, Studio

STATIC = Path(__file__).resolve().parent / "static"
MAX_BODY = 2 * 2**20  # bytes; a library import of ~10k routes fits, a runaway client does not


def create_app(studio: Studio, library: Library, max_body: int = MAX_BODY, warm: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if warm:  # load models and the nearest-problem indexes before the first click, not during it
            studio.pool.submit(studio.warm)
        yield

    app = FastAPI(title="routegen studio", lifespan=lifespan,
                  description="Generate, grade, edit, complete, save and share MoonBoard routes.")  # fmt: skip
    app.state.studio, app.state.library = studio, library
    app.add_middleware(BodyLimit, limit=max_body)
    _errors(app)
    from routegen.studio.routes import router
    from routegen.studio.routes_library import router as library_router

    app.include_router(router, prefix="/api")
    app.include_router(library_router, prefix="/api")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    return app


def _errors(app: FastAPI) -> None:
    @app.exception_handler(RoutegenError)
    async def routegen_error(request: Request, e: RoutegenError):
        status = 404 if isinstance(e, NotFound) else 503 if isinstance(e, Busy) else 400
        return JSONResponse({"detail": one_line(str(e))}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError):
        err = e.errors()[0]
        if err.get("type") == "json_invalid":
            ctx = err.get("ctx") or {}
            return JSONResponse({"detail": f"malformed JSON body: {ctx.get('error', 'cannot parse')}"}, 400)
        where = ".".join(str(x) for x in err.get("loc", ()) if x != "body") or "body"
        got = err.get("input")
        shown = repr(got) if len(repr(got)) <= 60 else repr(got)[:57] + "..."
        return JSONResponse({"detail": one_line(f"{where}: {err.get('msg', 'invalid')} (got {shown})")}, 422)


def one_line(text: str) -> str:
    return " ".join(text.split())


class BodyLimit:
    """Refuse request bodies over `limit` bytes with 413, whether Content-Length says so or a chunked body does."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await self._refuse(int(length), send)
        body, more = b"", True
        while more:  # read the body here (bounded) so a chunked upload cannot grow past the limit
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                return await self._refuse(len(body), send)
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, size: int, send) -> None:
        response = JSONResponse(
            {"detail": f"request body of {size} bytes is over the limit of {self.limit} bytes"}, status_code=413
        )
        await response({"type": "http"}, None, send)
