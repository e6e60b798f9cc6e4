"""The studio's JSON API (FastAPI TestClient, tiny models): every endpoint, every kind of bad input as a one-line
4xx, the library under concurrent saves, and the share / LED encodings."""

from __future__ import annotations

import json
import threading
import warnings

import pytest

from routegen import shipped
from routegen.cli import main
from routegen.grades import parse_grade
from routegen.route import parse_route
from routegen.studio import bluetooth, share
from routegen.studio.app import create_app
from routegen.studio.library import Library, default_db_path
from routegen.studio.service import Models, Studio
from tests.studio_helpers import make_weights

with warnings.catch_warnings():  # starlette's TestClient nudges towards httpx2; httpx is what FastAPI documents
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ROUTE = {"start": ["C5", "E6"], "middle": ["E8", "F11", "C13", "D15"], "end": ["D18"]}  # a real 6B+ problem


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return make_weights(tmp_path_factory.mktemp("studio"))


@pytest.fixture(scope="module")
def studio(weights):
    """One studio for the module: models and the nearest-problem index load once."""
    return Studio(Models.build(weights))


@pytest.fixture
def client(studio, tmp_path):
    app = create_app(studio, Library(tmp_path / "lib.sqlite"), max_body=64 * 1024, warm=False)
    with TestClient(app) as c:
        yield c


def one_line_error(r, status: int, *needles: str) -> None:
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail
    for n in needles:
        assert n in detail, detail


def test_boards_lists_holds_models_and_grades(client):
    data = client.get("/api/boards").json()
    b2016, b2017 = data["boards"]
    assert b2016["critic"] and [g["name"] for g in b2016["generators"]] == ["ar", "cgan"]
    assert b2016["generators"][0]["label"] == "transformer" and 7 in b2016["generators"][0]["grades"]
    assert "C5" in b2016["holds"] and len(b2016["holds"]) == 140 and b2017["generators"] == []
    assert data["grades"][6] == {"font": "7A", "v": 6, "number": 7} and data["max_n"] == 12


def test_check_grade_and_similar(client):
    r = client.post("/api/check", json={"board": "2016", "route": ROUTE}).json()
    assert r["valid"] and r["text"] == "C5 E6 | E8 F11 C13 D15 | D18" and r["row_first"].startswith("[18D, 15D")
    bad = client.post("/api/check", json={"route": {"start": ["C5"], "end": ["D8"]}}).json()
    assert not bad["valid"] and "end" in bad["reasons"]
    g = client.post("/api/grade", json={"route": ROUTE}).json()
    assert g["valid"] and parse_grade(g["critic"]["grade"])
    names = [n for n, _ in g["critic"]["distribution"]]
    assert names[0] == "6A" and names[-1] == "8B+" and abs(sum(p for _, p in g["critic"]["distribution"]) - 1) < 1e-2
    near = client.post("/api/similar", json={"route": ROUTE}).json()["nearest"]
    assert near == {"id": "19215", "name": "Far from the Madding Crowd", "grade": "6B+", "similarity": 1.0}


@pytest.mark.parametrize("model", ["ar", "cgan"])
def test_generate_gives_graded_valid_routes_with_nearest_and_share(client, model):
    body = {"board": "2016", "model": model, "grade": "V6", "n": 3, "seed": 1}
    r = client.post("/api/generate", json=body).json()
    assert r["grade"] == "7A" and len(r["routes"]) == 3
    for x in r["routes"]:
        assert x["valid"] and x["target"] == "7A" and x["critic"]["grade"] and 0 <= x["nearest"]["similarity"] < 1
        assert share.decode(x["share"])[1] == parse_route(x["text"])[0]
    assert client.post("/api/generate", json=body).json() == r  # a seed gives the same routes


def test_unseeded_requests_batched_together_each_get_their_own_grade_or_error(client):
    grades = ["7A", "6C+", "7B", "6A", "7A"]
    answers = [None] * len(grades)

    def ask(i):
        answers[i] = client.post("/api/generate", json={"grade": grades[i], "n": 2 + i})

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(grades))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, (grade, r) in enumerate(zip(grades, answers)):
        if grade == "6A":  # never trained on: its own error, the others unharmed
            one_line_error(r, 400, "6A", "never seen in training")
            continue
        assert r.status_code == 200, r.text
        routes = r.json()["routes"]
        assert len(routes) == 2 + i and {x["target"] for x in routes} == {grade} and all(x["valid"] for x in routes)


def test_a_full_inference_queue_is_a_503(client, studio):
    taken = 0
    while studio._slots.acquire(blocking=False):
        taken += 1
    try:
        one_line_error(client.post("/api/grade", json={"route": ROUTE}), 503, "busy")
        one_line_error(client.post("/api/generate", json={"grade": "7A"}), 503, "busy")
    finally:
        for _ in range(taken):
            studio._slots.release()
    assert client.post("/api/grade", json={"route": ROUTE}).status_code == 200


@pytest.mark.parametrize("model", ["ar", "cgan"])
def test_complete_keeps_the_fixed_holds(client, model):
    fixed = {"start": ["F5"], "middle": ["D8"], "end": ["E18"]}
    r = client.post("/api/complete", json={"model": model, "grade": "7A", "n": 2, "route": fixed, "seed": 0})
    assert r.status_code == 200, r.text
    for x in r.json()["routes"]:
        for role, holds in fixed.items():
            assert set(holds) <= set(x["route"][role]), (role, x["text"])


@pytest.mark.parametrize(
    "path, body, status, needles",
    [
        ("/api/grade", {"route": {"start": ["Z5"]}}, 400, ["'Z5'"]),
        ("/api/grade", {"route": {"start": ["H1"]}}, 400, ["H1", "not on the MoonBoard 2016"]),
        ("/api/grade", {"board": "2019", "route": ROUTE}, 400, ["'2019'"]),
        ("/api/grade", {"board": "2017", "route": ROUTE}, 400, ["no critic for board 2017"]),
        ("/api/check", {"route": {"start": "C5"}}, 422, ["route.start", "'C5'"]),
        ("/api/check", {"route": ROUTE, "colour": "red"}, 422, ["colour"]),
        ("/api/check", {"route": {"middle": ["C9"] * 21}}, 422, ["route.middle", "at most 20"]),
        ("/api/similar", {}, 422, ["route", "Field required"]),
        ("/api/generate", {"grade": "9Z"}, 400, ["'9Z'"]),
        ("/api/generate", {"grade": "6A"}, 400, ["6A", "never seen in training"]),
        ("/api/generate", {"grade": "7A", "n": 50}, 422, ["n:", "12", "(got 50)"]),
        ("/api/generate", {"grade": "7A", "n": 0}, 422, ["n:", "(got 0)"]),
        ("/api/generate", {"grade": "7A", "model": "vae"}, 400, ["'vae'", "ar (transformer), cgan (GAN)"]),
        ("/api/generate", {"grade": "7A", "board": "2017"}, 400, ["no 'ar' generator for board 2017"]),
        ("/api/complete", {"grade": "7A", "route": {}}, 400, ["place at least one hold"]),
        ("/api/complete", {"grade": "7A", "route": {"start": ["D8"]}}, 400, ["D8", "above row 6"]),
        ("/api/library", {"name": "x", "start": ["Q1"]}, 400, ["'Q1'"]),
        ("/api/library", {"name": "x"}, 400, ["at least one hold"]),
        ("/api/library", {"name": "x", "grade_font": "9Z", **ROUTE}, 400, ["'9Z'"]),
    ],
)
def test_bad_input_is_a_one_line_4xx_naming_the_value(client, path, body, status, needles):
    one_line_error(client.post(path, json=body), status, *needles)


def test_malformed_oversized_and_non_json_bodies(client):
    one_line_error(client.post("/api/grade", content=b'{"route": ', headers={"content-type": "application/json"}),
                   400, "malformed JSON")  # fmt: skip
    big = json.dumps({"route": ROUTE, "pad": "x" * 100_000})
    one_line_error(
        client.post("/api/grade", content=big, headers={"content-type": "application/json"}), 413, "over the limit"
    )

    def chunked():  # no Content-Length: the limit still holds
        for _ in range(100):
            yield b"x" * 1024

    one_line_error(client.post("/api/library/import", content=chunked()), 413, "over the limit")
    one_line_error(client.post("/api/library/import", content=b"\xff\xfe"), 400, "UTF-8")
    one_line_error(client.get("/api/library/999"), 404, "999")
    one_line_error(client.delete("/api/library/999"), 404, "999")


def test_library_save_list_filter_update_delete_export_import(client):
    a = client.post("/api/library", json={"name": "Crimp", "grade_font": "7a", "notes": "hi", **ROUTE})
    assert a.status_code == 201
    a = a.json()
    assert a["grade_font"] == "7A" and a["created"] == a["updated"] and a["share"].startswith("b=2016&g=7A&r=C5.E6|")
    b = client.post("/api/library", json={"name": "Slab", "grade_font": "6B", "start": ["F5"], "end": ["E18"]}).json()
    assert [r["name"] for r in client.get("/api/library").json()["routes"]] == ["Slab", "Crimp"]
    assert [r["name"] for r in client.get("/api/library?grade=V6").json()["routes"]] == ["Crimp"]
    assert client.get("/api/library?board=2017").json()["routes"] == []
    up = client.put(f"/api/library/{b['id']}", json={"notes": "wet", "middle": ["D8"]}).json()
    assert up["notes"] == "wet" and up["middle"] == ["D8"] and up["name"] == "Slab"
    assert client.get(f"/api/library/{b['id']}").json() == up
    exported = client.get("/api/library/export")
    assert exported.headers["content-type"].startswith("application/x-ndjson")
    rows = [json.loads(line) for line in exported.text.splitlines()]
    assert {"start", "middle", "end", "grade_font", "board", "angle", "name"} <= set(rows[0])
    assert client.delete(f"/api/library/{a['id']}").status_code == 204
    assert client.post("/api/library/import", content=exported.text).json() == {"imported": 2}
    assert len(client.get("/api/library").json()["routes"]) == 3
    bad = exported.text + '{"start": ["C5"], "end": ["D18"], "grade_font": "nope"}\n'
    one_line_error(client.post("/api/library/import", content=bad), 400, "import line 3", "'nope'")
    assert len(client.get("/api/library").json()["routes"]) == 3  # all or nothing


def test_twenty_concurrent_saves_lose_nothing(tmp_path):
    library = Library(tmp_path / "lib.sqlite")
    errors = []

    def save(i):
        try:
            library.add({"name": f"route {i}", "grade_font": "7A", **ROUTE})
        except Exception as e:  # noqa: BLE001 - any failure is the test's failure
            errors.append(e)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(r["name"] for r in library.list()) == sorted(f"route {i}" for i in range(20))
    assert len({r["id"] for r in library.list()}) == 20


def test_the_front_end_and_openapi_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and 'src="/static/app.js"' in page.text
    assert "http" not in page.text.split("<body>")[0].replace("http-equiv", "")  # nothing from a CDN
    for name in ("app.js", "board.js", "codec.js", "views.js", "library.js", "net.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200, name
    paths = client.get("/openapi.json").json()["paths"]
    for p in ("/api/generate", "/api/complete", "/api/grade", "/api/check", "/api/similar", "/api/library"):
        assert p in paths, p
    assert client.get("/docs").status_code == 200


def test_share_links_round_trip_and_name_bad_values():
    route, _ = parse_route("C5 E6 | E8 F11 | D18")
    text = share.encode("2016", route, parse_grade("6C+"))
    assert text == "b=2016&g=6Cp&r=C5.E6|E8.F11|D18"
    assert share.decode("#" + text) == ("2016", route, parse_grade("6C+"))
    with pytest.raises(Exception, match="'Z9'"):
        share.decode("b=2016&r=Z9||D18")


def test_led_numbers_follow_the_serpentine_strip():
    from routegen.board import Hold

    assert [bluetooth.led_number(Hold(c, r)) for c, r in [(0, 1), (0, 18), (1, 18), (1, 1), (2, 1), (10, 18)]] == [
        0, 17, 18, 35, 36, 197]  # fmt: skip
    assert all(bluetooth.hold_of_led(n) == h for n, h in ((bluetooth.led_number(h), h) for h in
               [Hold(c, r) for c in range(11) for r in range(1, 19)]))  # fmt: skip
    route, _ = parse_route("A5 | B6 | D18")
    assert bluetooth.encode(route) == "l#S4,P30,E54#"
    assert b"".join(bluetooth.chunks("l#" + "S1," * 20 + "#")) == ("l#" + "S1," * 20 + "#").encode()
    assert all(len(c) <= 20 for c in bluetooth.chunks("l#" + "S1," * 20 + "#"))


def test_default_db_path_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_db_path() == tmp_path / "routegen" / "library.sqlite"


def test_studio_command_is_registered(capsys):
    assert main(["studio", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--port" in out and "--db" in out and "--weights-dir" in out


SHIPPED = [c for c in shipped.cards() if c["name"] in shipped.GENERATORS]


@pytest.mark.parametrize("card", SHIPPED, ids=[f"{c['board']}/{c['name']}" for c in SHIPPED])
def test_the_studio_opens_on_the_shipped_models(card, tmp_path):
    app = create_app(Studio(Models.shipped()), Library(tmp_path / "lib.sqlite"), warm=False)
    with TestClient(app) as c:
        board = next(b for b in c.get("/api/boards").json()["boards"] if b["name"] == card["board"])
        assert card["name"] in [g["name"] for g in board["generators"]]
        grade = card["trained_grades"][len(card["trained_grades"]) // 2]
        body = {"board": card["board"], "model": card["name"], "grade": grade, "n": 2}
        r = c.post("/api/generate", json=body)
        assert r.status_code == 200, r.text
        assert all(x["valid"] and (x["critic"] is not None) == board["critic"] for x in r.json()["routes"])
