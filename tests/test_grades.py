import pytest

from routegen.grades import FONT_GRADES, NUMBERED, Grade, GradeError, parse_grade, v_to_number


@pytest.mark.parametrize(
    "text,font",
    [("6b+", "6B+"), ("6B+", "6B+"), (" 7a ", "7A"), ("V4", "6B"), ("v8", "7B"), ("5", "6C"), (5, "6C"), ("1", "6A"),
     ("16", "8B+"), ("8C+", "8C+"), ("5+", "5+")],
)  # fmt: skip
def test_parse_grade_forms(text, font):
    assert parse_grade(text).font == font


@pytest.mark.parametrize("bad", ["9Z", "6D", "V99", "0", "17", "", "7A++", "abc", "-1"])
def test_bad_grades_name_the_value(bad):
    with pytest.raises(GradeError, match="grade|V"):
        parse_grade(bad)


def test_numbered_scale_is_6a_to_8b_plus():
    assert [Grade.from_number(n).font for n in (1, 16)] == ["6A", "8B+"]
    assert len(NUMBERED) == 16


def test_conversions_round_trip():
    for font in FONT_GRADES:
        g = Grade.from_font(font)
        assert parse_grade(g.font) == g
        if g.number is not None:
            assert parse_grade(str(g.number)) == g
            assert Grade.from_number(g.number) == g
        # V -> Font gives the easiest Font grade of that V, which maps back to the same V
        assert Grade.from_v(g.v).v == g.v
    for n in range(1, 17):
        v = Grade.from_number(n).v
        assert Grade.from_v(v).v == v and Grade.from_number(v_to_number(v)).v == v


def test_v_table_matches_data_readme():
    table = {
        "6A": 3,
        "6B+": 4,
        "6C": 5,
        "6C+": 5,
        "7A": 6,
        "7A+": 7,
        "7B": 8,
        "7B+": 8,
        "7C": 9,
        "7C+": 10,
        "8A": 11,
        "8B+": 14,
    }
    for font, v in table.items():
        assert Grade.from_font(font).v == v


def test_grades_are_ordered():
    assert parse_grade("6B+") < parse_grade("7A") < parse_grade("V14")
