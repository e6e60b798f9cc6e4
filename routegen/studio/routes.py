"""The studio's model endpoints: boards, check, grade, similar, generate, complete."""

from __future__ import annotations

from fastapi import APIRouter, Request

from routegen.board import load_board
from routegen.errors import RoutegenError
from routegen.grades import NUMBERED, Grade
from routegen.route import check_route, format_route, format_row_first
from routegen.studio.api import CompleteRequest, GenerateRequest, RouteRequest
from routegen.studio.service import MAX_N, Studio

router = APIRouter()


def _studio(request: Request) -> Studio:
    return request.app.state.studio


@router.get("/boards", summary="the boards, their holds, the models offered for each, and the grades")
async def boards(request: Request):
    studio = _studio(request)
    grades = [{"font": f, "v": Grade.from_number(i).v, "number": i} for i, f in enumerate(NUMBERED, 1)]
    return {"boards": await studio.run(studio.describe), "grades": grades, "max_n": MAX_N}


@router.post("/check", summary="validity of a route: which rules it breaks, and its text forms")
def check(body: RouteRequest):
    route = body.route.to_route(body.board)
    v = check_route(route, load_board(body.board))
    return {"valid": v.ok, "validity": str(v), "reasons": v.reasons, "text": format_route(route),
            "row_first": format_row_first(route)}  # fmt: skip


@router.post("/grade", summary="the critic's grade and its distribution over grades, with validity")
async def grade(body: RouteRequest, request: Request):
    studio = _studio(request)
    route = body.route.to_route(body.board)
    if body.board not in studio.models.critic:
        raise RoutegenError(f"no critic for board {body.board}: start the studio with --critic")
    (critic,) = await studio.run(studio.grade, body.board, [route])
    v = check_route(route, load_board(body.board))
    return {"critic": critic, "valid": v.ok, "validity": str(v), "reasons": v.reasons}


@router.post("/similar", summary="the nearest real problem (name, grade, Jaccard similarity of hold sets)")
async def similar(body: RouteRequest, request: Request):
    studio = _studio(request)
    route = body.route.to_route(body.board)
    index = await studio.run(studio.nearest, body.board)
    (near,) = index.nearest([route]) if index is not None and route.holds else [None]
    return {"nearest": near.to_dict() if near else None}


@router.post("/generate", summary="new routes at a grade, each with critic grade, validity and nearest problem")
async def generate(body: GenerateRequest, request: Request):
    studio = _studio(request)
    grade = body.to_grade()
    studio.check_generator(body.board, body.model)  # an unknown model: the one-line error before queueing
    if body.seed is None:  # unseeded requests share one generate() call with whoever else is waiting
        routes = await studio.batcher.generate(body.board, body.model, grade, body.n)
    else:
        routes = await studio.run(studio.generate, body.board, body.model, grade, body.n, None, body.seed)
    return {"board": body.board, "model": body.model, "grade": grade.font, "routes": routes}


@router.post("/complete", summary="complete the holds placed so far into routes at a grade (they stay fixed)")
async def complete(body: CompleteRequest, request: Request):
    studio = _studio(request)
    grade, fixed = body.to_grade(), body.route.to_route(body.board)
    if not fixed.holds:
        raise RoutegenError("nothing to complete: place at least one hold, or use generate")
    studio.check_generator(body.board, body.model)
    routes = await studio.run(studio.generate, body.board, body.model, grade, body.n, fixed, body.seed)
    return {"board": body.board, "model": body.model, "grade": grade.font, "fixed": fixed.to_record(),
            "routes": routes}  # fmt: skip
