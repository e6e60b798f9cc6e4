"""The studio's library endpoints: list / filter, save, read, update, delete, export and import JSON Lines."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from routegen.errors import RoutegenError
from routegen.grades import parse_grade
from routegen.route import Route
from routegen.studio import share
from routegen.studio.api import LibraryIn, LibraryPatch
from routegen.studio.library import Library

router = APIRouter(prefix="/library")


def _library(request: Request) -> Library:
    return request.app.state.library


def _with_share(row: dict) -> dict:
    grade = parse_grade(row["grade_font"]) if row.get("grade_font") else None
    return {**row, "share": share.encode(row["board"], Route.from_record(row), grade)}


@router.get("", summary="saved routes, newest first; filter by board and by the setter's grade")
def list_routes(request: Request, board: str | None = None, grade: str | None = None):
    return {"routes": [_with_share(r) for r in _library(request).list(board, grade)]}


@router.post("", status_code=201, summary="save a route")
def save(body: LibraryIn, request: Request):
    return _with_share(_library(request).add(body.model_dump()))


@router.get("/export", summary="every saved route (of a board) as JSON Lines in the data schema")
def export(request: Request, board: str | None = None):
    headers = {"Content-Disposition": 'attachment; filename="routegen-library.jsonl"'}
    return Response(_library(request).export_jsonl(board), media_type="application/x-ndjson", headers=headers)


@router.post("/import", summary="add routes from JSON Lines (data schema rows); all or nothing")
async def import_rows(request: Request):
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise RoutegenError("import body is not UTF-8 text (JSON Lines expected)") from None
    return {"imported": await run_in_threadpool(_library(request).import_jsonl, text)}


@router.get("/{route_id}", summary="one saved route")
def get(route_id: int, request: Request):
    return _with_share(_library(request).get(route_id))


@router.put("/{route_id}", summary="change a saved route (only the fields given)")
def update(route_id: int, body: LibraryPatch, request: Request):
    return _with_share(_library(request).update(route_id, body.model_dump(exclude_none=True)))


@router.delete("/{route_id}", status_code=204, summary="delete a saved route")
def delete(route_id: int, request: Request):
    _library(request).delete(route_id)
    return Response(status_code=204)
