"""The studio in headless Chromium (Debian's /usr/bin/chromium driven by Playwright, never a downloaded browser):
generate, edit with live grading, undo / redo, complete, save + reload + library, share links, escaping.

Skips when no Chromium / Playwright is installed, unless ROUTEGEN_REQUIRE_BROWSER=1 (CI), where that fails.
ROUTEGEN_SCREENSHOT=docs/studio.png saves a screenshot of the generate view; ROUTEGEN_STUDIO_WEIGHTS=routegen/weights
serves real models (a folder of cards with a critic, ar and cgan for 2016) instead of the tiny untrained ones.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time

import pytest

from routegen.board import load_board
from routegen.route import Route, parse_route
from routegen.studio import bluetooth, share
from tests.studio_helpers import make_weights

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _need_browser():
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = "playwright is not installed"
    else:
        missing = None if CHROMIUM else "no chromium on PATH (apt-get install chromium)"
    if missing:
        if os.environ.get("ROUTEGEN_REQUIRE_BROWSER"):
            pytest.fail(f"ROUTEGEN_REQUIRE_BROWSER is set but {missing}")
        pytest.skip(missing)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The studio on a free 127.0.0.1 port (uvicorn in a thread) with tiny models and a fresh library."""
    _need_browser()
    import uvicorn

    from routegen.studio.app import create_app
    from routegen.studio.library import Library
    from routegen.studio.service import Models, Studio

    tmp = tmp_path_factory.mktemp("studio")
    weights = os.environ.get("ROUTEGEN_STUDIO_WEIGHTS") or make_weights(tmp)
    studio = Studio(Models.build(weights))
    studio.warm()  # before the page loads, so no click waits for a model
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(studio, Library(tmp / "lib.sqlite"), warm=False), host="127.0.0.1",
                            port=port, log_level="warning")  # fmt: skip
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.set_default_timeout(15_000)
    pg.goto(server)
    pg.wait_for_selector("body[data-ready='1']")
    yield pg
    context.close()
    assert not errors, errors


def click_hold(page, hold: str):
    seq = page.get_attribute("#live", "data-seq") or "0"
    page.click(f"#board-view .hit[data-hold='{hold}']", force=True)
    return seq


def wait_live(page, after: str):
    """Wait until the live panel shows the answer to an edit made after `after` (its data-seq grew)."""
    page.wait_for_function(f"Number(document.getElementById('live').dataset.seq || 0) > {int(after)}")


def route_text(page) -> str:
    return page.text_content("[data-testid=route-text]")


def test_board_is_drawn_with_its_real_holds_and_labels(page):
    holds = page.eval_on_selector_all("#board-view .hit", "els => els.map(e => e.dataset.hold)")
    assert sorted(holds) == sorted(str(h) for h in load_board("2016").holds)
    labels = page.eval_on_selector_all("#board-svg text", "els => els.map(e => e.textContent)")
    assert {"A", "K", "1", "18"} <= set(labels)


def test_generate_at_7A_draws_the_routes_with_grades_validity_and_nearest(page):
    page.select_option("[data-testid=grade]", "7A")
    page.click("[data-testid=generate]")
    page.wait_for_selector("[data-testid=result] >> nth=5")
    cards = page.query_selector_all("[data-testid=result]")
    assert len(cards) == 6
    for card in cards:
        assert card.query_selector_all("circle[data-role='start']") and card.query_selector_all(
            "circle[data-role='end']"
        )
        assert card.query_selector("[data-testid=critic-grade]") and card.query_selector_all(".bar")
        assert card.query_selector("[data-testid=validity]").text_content() == "valid"
        assert "nearest:" in card.query_selector("[data-testid=nearest]").text_content()
    if path := os.environ.get("ROUTEGEN_SCREENSHOT"):
        cards[0].click()  # a route in the editor too, with its live grade
        page.wait_for_selector("#live [data-testid=critic-grade]")
        page.screenshot(path=path, full_page=True)


def test_clicking_holds_edits_within_the_rules_and_regrades_live_with_undo_redo(page):
    page.click("#clear")
    grades = []
    # F5: start; D8: start is not allowed above row 6, so middle; E18: middle, then end on a second click
    steps = [("F5", "F5 |  | "), ("D8", "F5 | D8 | "), ("F12", "F5 | D8 F12 | "), ("E18", "F5 | D8 F12 E18 | "),
             ("E18", "F5 | D8 F12 | E18")]  # fmt: skip
    for hold, text in steps:
        seq = click_hold(page, hold)
        assert route_text(page) == text
        wait_live(page, seq)
        grades.append(page.text_content("[data-testid=critic-grade]"))
    assert page.text_content("[data-testid=validity]") == "valid"
    assert len(set(grades)) > 1, grades  # the grade (or its confidence) moved with the edits
    seq = click_hold(page, "F12")  # middle -> end is not allowed below row 18: back to none
    assert route_text(page) == "F5 | D8 | E18"
    wait_live(page, seq)
    assert "a gap of 10 rows" in page.text_content("[data-testid=validity]")
    page.click("#undo")
    assert route_text(page) == "F5 | D8 F12 | E18"
    page.click("#redo")
    assert route_text(page) == "F5 | D8 | E18"


def test_complete_keeps_two_fixed_holds(page):
    page.click("#clear")
    click_hold(page, "F5")
    click_hold(page, "E18")
    click_hold(page, "E18")
    page.select_option("[data-testid=model]", "cgan")
    page.click("[data-testid=complete]")
    page.wait_for_selector("[data-testid=result]")
    for title in page.eval_on_selector_all("[data-testid=result]", "els => els.map(e => e.title)"):
        route, _ = parse_route(title)
        assert "F5" in [str(h) for h in route.start] and "E18" in [str(h) for h in route.end], title


def test_save_reload_and_find_it_in_the_library(page, server):
    page.click("#clear")
    for hold in ("F5", "D8", "F12", "E18", "E18"):
        click_hold(page, hold)
    page.fill("[data-testid=route-name]", "<b>Crimp & run</b>")  # markup in a name stays text
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=library-item]")
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert route_text(page) == "F5 | D8 F12 | E18"  # work in progress survives the reload (localStorage)
    item = page.wait_for_selector("[data-testid=library-item]")
    assert item.query_selector(".lib-name").text_content() == "<b>Crimp & run</b>"
    assert not item.query_selector("b")


def test_a_share_link_restores_the_route_and_grade(page, server):
    route, _ = parse_route("C5 | E8 F11 | D18")
    fragment = share.encode("2016", route, None).replace("r=", "g=6Cp&r=")
    page.goto(server + "#" + fragment)
    page.wait_for_selector("body[data-ready='1']")
    assert route_text(page) == "C5 | E8 F11 | D18"
    assert page.input_value("[data-testid=grade]") == "6C+"
    assert page.eval_on_selector_all("#board-svg circle[data-role='middle']", "e => e.length") == 2


def test_the_javascript_encodings_mirror_the_python_ones(page):
    route = Route.from_record({"start": ["A5", "B6"], "middle": ["K11", "C9"], "end": ["D18"]})
    got = page.evaluate(
        """async (r) => { const c = await import('/static/codec.js');
            return [c.encodeShare('2017', r, '7B+'), c.encodeLed(r), c.formatRoute(r), c.formatRowFirst(r),
                    c.decodeShare('#' + c.encodeShare('2017', r, '7B+'))]; }""",
        json.loads(json.dumps(route.to_record())),
    )
    from routegen.grades import parse_grade
    from routegen.route import format_route, format_row_first

    assert got[0] == share.encode("2017", route, parse_grade("7B+"))
    assert got[1] == bluetooth.encode(route)
    assert got[2:4] == [format_route(route), format_row_first(route)]
    assert got[4] == {"board": "2017", "route": route.to_record(), "grade": "7B+"}
    has_bluetooth = page.evaluate("() => !!navigator.bluetooth")
    assert page.is_hidden("#bluetooth") != has_bluetooth
