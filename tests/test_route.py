import json

import pytest

from routegen.board import Hold, HoldError, load_board, parse_hold
from routegen.grades import GradeError
from routegen.route import (
    MAX_ROW_GAP,
    FixedHoldsError,
    Route,
    RouteError,
    check_fixed,
    check_route,
    format_json,
    format_route,
    format_row_first,
    parse_route,
)

NOTE = "[18H, 17G, 15F, 13C, 10F, 9C, 6E, 5H], Grade: 5"


@pytest.mark.parametrize("text", ["H18", "h18", "18H", "18h", " H18 "])
def test_hold_notations(text):
    assert parse_hold(text) == Hold(7, 18)


@pytest.mark.parametrize("bad", ["Z99", "L5", "A0", "A19", "H", "18", "", "HH18"])
def test_bad_holds_name_the_value(bad):
    with pytest.raises(HoldError) as e:
        parse_hold(bad)
    assert repr(bad) in str(e.value)


def test_boards_have_their_real_holds(board2016, board2017):
    assert len(board2016.holds) == 140 and len(board2017.holds) == 198
    assert Hold(7, 18) in board2016  # H18
    with pytest.raises(HoldError, match="unknown board"):
        load_board("2099")


def test_hold_not_on_board_is_an_error(board2016):
    missing = next(Hold(c, r) for r in range(1, 19) for c in range(11) if Hold(c, r) not in board2016)
    with pytest.raises(HoldError, match=str(missing)):
        parse_route(f"C5 {missing} H18", board=board2016)


def test_row_first_notes_parse_with_grade_and_inferred_roles():
    route, grade = parse_route(NOTE)
    assert grade.font == "6C"
    assert [str(h) for h in route.start] == ["H5", "E6"]
    assert [str(h) for h in route.end] == ["H18"]
    assert len(route.middle) == 5


def test_all_notations_agree():
    a, _ = parse_route("H5, E6, C9, F10, C13, F15, G17, H18")
    b, _ = parse_route(["5H", "6E", "9C", "10F", "13C", "15F", "17G", "18H"])
    c, _ = parse_route("H5 E6 | C9 F10 C13 F15 G17 | H18")
    d, _ = parse_route(NOTE)
    assert a == b == c == d


def test_formatting_round_trips():
    route, grade = parse_route(NOTE)
    assert format_row_first(route, grade) == NOTE
    assert parse_route(format_route(route))[0] == route
    assert parse_route(format_row_first(route))[0] == route
    record = json.loads(format_json(route, "2016", 40))
    assert Route.from_record(record) == route and record["board"] == "2016"


def test_role_inference():
    route, _ = parse_route("C5 F10 C13 H18")  # second lowest above row 6: one start
    assert [str(h) for h in route.start] == ["C5"]
    route, _ = parse_route("C5 E6 F10 A18 H18")  # two row-18 holds both end
    assert [str(h) for h in route.end] == ["A18", "H18"] and len(route.start) == 2


def test_explicit_roles_need_three_groups():
    with pytest.raises(RouteError, match="three groups"):
        parse_route("C5 | H18")


def test_bad_grade_in_notes():
    with pytest.raises(GradeError, match="9Z"):
        parse_route("[18H, 5H], Grade: 9Z")


def test_validity_reasons(board2016):
    ok, _ = parse_route(NOTE)
    assert check_route(ok, board2016).ok
    cases = {
        "start": "F10 | C13 | H18",  # start above row 6
        "end": "C5 | F10 | C13",  # end not on row 18
        "size": "C5 | | H18",  # 2 holds
        "roles": "C5 | C5 F10 | H18",
        "gap": "C5 | | H18",  # 13 rows between 5 and 18
    }
    for rule, text in cases.items():
        route, _ = parse_route(text)
        v = check_route(route, board2016)
        assert rule in v.reasons, (rule, v.reasons)
    too_many, _ = parse_route(
        "C5 E6 | " + " ".join(f"{c}{r}" for c, r in zip("ABCDEFGHIJKABC", range(7, 18))) + " | H18"
    )
    assert "size" in check_route(too_many, board2016).reasons or "on_board" in check_route(too_many, board2016).reasons
    three_starts = Route(tuple(parse_hold(h) for h in ("A5", "C5", "E6")), (parse_hold("F10"),), (parse_hold("H18"),))
    assert "start" in check_route(three_starts, board2016).reasons


def test_gap_rule_is_the_measured_one(board2016):
    # a gap of exactly MAX_ROW_GAP rows is allowed, one more is not
    route = Route((Hold(4, 6),), (Hold(4, 6 + MAX_ROW_GAP),), (Hold(4, 18),))
    assert "gap" not in check_route(route, board2016).reasons
    route = Route((Hold(4, 5),), (Hold(4, 5 + MAX_ROW_GAP + 1),), (Hold(4, 18),))
    assert "gap" in check_route(route, board2016).reasons


def test_a_hold_given_twice_is_kept_so_check_reports_it(board2016):
    route, _ = parse_route("H5, H5, E6, F10, H18")
    assert [str(h) for h in route.holds].count("H5") == 2
    assert "duplicates" in check_route(route, board2016).reasons


def test_no_middle_hold_on_row_18(board2016):
    route, _ = parse_route("F5 | E12 A18 | E18")
    assert "middle_top" in check_route(route, board2016).reasons
    fixed, _ = parse_route("F5 | E18 | A18")
    with pytest.raises(FixedHoldsError, match="row 18"):
        check_fixed(fixed, board2016)


@pytest.mark.parametrize(
    ("fixed_text", "match"),
    [
        ("C5 C5 | | D18", "two roles"),
        ("D9 | | D18", "above row 6"),
        ("C9 | | D18", "above row 6"),
        ("F5 | | D12", "not on row 18"),
        ("C5 | | D17", "not on row 18"),
        ("A5 C5 D5 | | D18", "3 fixed start"),
        ("A5 C5 D5 | | D18", "at most 2"),
        ("A5 | B6 C7 D8 E9 F10 G11 H12 I13 J14 A15 B16 D17 E12 | C18", "at most 14"),
        ("A5 | B6 C7 D8 E9 F10 G11 H12 I13 J14 A15 B16 D17 E12 |", "no room for a start and an end"),
        ("A1 | | D18", "A1 is not on"),
    ],
)
def test_contradictory_fixed_holds_are_errors(board2016, fixed_text, match):
    """Fixed holds no valid route can hold (AR constrained decoding and cGAN decoding both refuse them)."""
    fixed, _ = parse_route(fixed_text)
    with pytest.raises(FixedHoldsError, match=match):
        check_fixed(fixed, board2016)
