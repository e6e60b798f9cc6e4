"""`routegen grade` and `routegen evaluate`: outputs, input formats, and one-line errors with exit status 2."""

from __future__ import annotations

import json

import pytest
import torch
from grader_helpers import save_grader

from routegen.cli import main

ROUTE = "[18H, 17G, 15F, 13C, 10F, 9C, 6E, 5H]"
FIELDS = {
    "pred_grade_font",
    "pred_grade_v",
    "pred_grade_number",
    "pred_expected_number",
    "pred_confidence",
    "pred_top3",
}


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    return save_grader(tmp_path_factory.mktemp("g") / "grader.ckpt")


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_grade_route_arguments_give_json_lines(ckpt, capsys):
    code, out, err = run_cli(capsys, "grade", "--ckpt", ckpt, ROUTE, "C5 E6 | E8 F11 | D18")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(rows) == 2 and FIELDS <= set(rows[0]) and rows[0]["route"] == ROUTE
    assert rows[0]["pred_grade_v"].startswith("V") and 1 <= rows[0]["pred_grade_number"] <= 16
    assert len(rows[0]["pred_top3"]) == 3 and rows[0]["pred_top3"][0][0] == rows[0]["pred_grade_font"]


def test_grade_input_jsonl_keeps_fields_and_output_is_written(ckpt, tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    record = {"id": "x1", "start": ["H5"], "middle": ["E9", "C13", "F15"], "end": ["H18"], "grade_font": "6C"}
    src.write_text(json.dumps(record) + "\n" + json.dumps(ROUTE) + "\n\n" + "C5 E6 | E8 | D18\n")
    out_path = tmp_path / "out" / "graded.jsonl"
    code, out, _ = run_cli(capsys, "grade", "--ckpt", ckpt, "--input", src, "--output", out_path)
    rows = [json.loads(line) for line in out_path.read_text().splitlines()]
    assert code == 0 and out == "" and len(rows) == 3
    assert rows[0]["id"] == "x1" and rows[0]["grade_font"] == "6C" and FIELDS <= set(rows[0])
    assert rows[1]["route"] == ROUTE and rows[2]["route"] == "C5 E6 | E8 | D18"
    # the same route in two notations gets the same grade
    _, direct, _ = run_cli(capsys, "grade", "--ckpt", ckpt, "H5 | E9 C13 F15 | H18")
    assert json.loads(direct)["pred_expected_number"] == rows[0]["pred_expected_number"]


@pytest.mark.parametrize(
    "args,message",
    [
        (["A5 Z99 D18"], "unknown hold 'Z99'"),
        (["A1 C8 D18"], "hold A1 is not on the MoonBoard 2016"),
        (["[18H, 10F, 5H], Grade: 9Z"], "unknown grade '9Z'"),
        (["--input", "missing.jsonl"], "input file not found: missing.jsonl"),
        ([], "no routes"),
        ([ROUTE, "--board", "2017"], "does not match the grader's board '2016'"),
    ],
)
def test_grade_bad_input_is_one_line_error(ckpt, capsys, args, message):
    code, out, err = run_cli(capsys, "grade", "--ckpt", ckpt, *args)
    assert code == 2 and out == "" and message in err
    assert err.startswith("routegen grade: error:") and err.count("\n") == 1 and "Traceback" not in err


def test_wrong_checkpoints_are_one_line_errors(tmp_path, capsys):
    other = tmp_path / "ar.ckpt"
    torch.save({"state_dict": {}, "routegen_kind": "ar_transformer"}, other)
    junk = tmp_path / "junk.ckpt"
    junk.write_text("hello")
    for path, message in [(other, "needs a checkpoint of kind grader"), (junk, "not a readable checkpoint"),
                          (tmp_path / "nope.ckpt", "checkpoint not found")]:  # fmt: skip
        for cmd in (["grade", ROUTE], ["evaluate"]):
            code, out, err = run_cli(capsys, cmd[0], "--ckpt", path, *cmd[1:])
            assert code == 2 and message in err and err.count("\n") == 1, err


def test_evaluate_labelled_input_prints_table_with_baselines(ckpt, tmp_path, capsys):
    src = tmp_path / "labelled.jsonl"
    rows = [
        {"start": ["H5"], "middle": ["E9", "C13"], "end": ["H18"], "grade_font": "6B+"},
        {"route": "C5 E6 | E8 F11 | D18", "grade_font": "7A"},
        {"route": "A5 | B8 C10 | I18", "grade_v": 5},
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, out, _ = run_cli(capsys, "evaluate", "--ckpt", ckpt, "--input", src)
    assert code == 0 and "3 routes" in out
    for row in ("font model", "v model", "font most frequent", "v median"):
        assert row in out
    code, out, _ = run_cli(capsys, "evaluate", "--ckpt", ckpt, "--input", src, "--json")
    table = json.loads(out)["metrics"]
    assert 0 <= table["font model"]["exact"] <= 1 and table["v model"]["mae"] >= 0


def test_evaluate_unlabelled_row_and_missing_split_settings_are_errors(ckpt, tmp_path, capsys):
    src = tmp_path / "unlabelled.jsonl"
    src.write_text(json.dumps({"route": ROUTE}) + "\n")
    code, _, err = run_cli(capsys, "evaluate", "--ckpt", ckpt, "--input", src)
    assert code == 2 and "line 1 has no grade" in err
    code, _, err = run_cli(capsys, "evaluate", "--ckpt", ckpt)  # saved without data settings
    assert code == 2 and "no saved data settings" in err


def test_evaluate_rebuilds_the_split_from_checkpoint_settings(tmp_path, capsys, data_dir):
    settings = {"dir": None, "board": "2016", "angle": 40, "label": "font", "include_v_only": None, "seed": 0,
                "val_fraction": 0.1, "test_fraction": 0.1}  # fmt: skip
    counts = [0, 0, 0, 7442, 905, 1243, 2731, 1979, 464, 535, 614, 232, 90, 23, 14, 23]  # the real training split
    path = save_grader(tmp_path / "g.ckpt", data_hparams=settings, class_counts=counts)
    code, out, _ = run_cli(capsys, "evaluate", "--ckpt", path, "--split", "val", "--data-dir", data_dir, "--json")
    got = json.loads(out)
    assert code == 0 and got["source"] == "val split" and 1500 < got["n"] < 2500
    # the constant most-frequent baseline answers 6B+, the commonest grade (~46% of problems)
    assert 0.40 < got["metrics"]["font most frequent"]["exact"] < 0.52


def test_gzipped_input_reads_like_plain(ckpt, tmp_path, capsys, data_dir):
    """The data's own format (.jsonl.gz) works for grade and evaluate; gzip is told by its bytes, not its name."""
    import gzip

    rows = [{"start": ["H5"], "middle": ["E9", "C13"], "end": ["H18"], "grade_font": "6B+"},
            {"route": "C5 E6 | E8 F11 | D18", "grade_font": "7A"}]  # fmt: skip
    plain, packed = tmp_path / "in.jsonl", tmp_path / "in.jsonl.gz"
    plain.write_text("".join(json.dumps(r) + "\n" for r in rows))
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    outs = [run_cli(capsys, "grade", "--ckpt", ckpt, "--input", p) for p in (plain, packed)]
    assert outs[0][0] == outs[1][0] == 0 and outs[0][1] == outs[1][1] and len(outs[0][1].splitlines()) == 2
    outs = [run_cli(capsys, "evaluate", "--ckpt", ckpt, "--input", p, "--json") for p in (plain, packed)]
    assert json.loads(outs[0][1])["metrics"] == json.loads(outs[1][1])["metrics"]
    some = tmp_path / "some.jsonl.gz"  # a slice of the real data file, as it is
    with gzip.open(data_dir / "moonboard2016.jsonl.gz", "rt") as f:
        some.write_bytes(gzip.compress("".join(line for _, line in zip(range(20), f)).encode()))
    code, out, err = run_cli(capsys, "evaluate", "--ckpt", ckpt, "--input", some)
    assert code == 0 and "20 routes" in out, err


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"route": "C5 | E8 | D18"}\n\x89PNG\r\n\x1a\n\xff\xfe\x00\n', "line 2 is not UTF-8 text"),
        (b'"C5 | E8 | D18"\n\n{"start": ["C5"], "end": \n', "line 3 is not valid JSON"),
        (b'["C5", "D18"]\n', "line 1 is neither a route string nor a JSON object"),
        (b"\x1f\x8b\x08\x00junk that is no gzip stream", "unreadable gzip data"),
    ],
)
def test_bad_input_files_name_the_file_and_line(ckpt, tmp_path, capsys, body, message):
    src = tmp_path / "bad.jsonl"
    src.write_bytes(body)
    for cmd in ("grade", "evaluate"):
        code, out, err = run_cli(capsys, cmd, "--ckpt", ckpt, "--input", src)
        assert code == 2 and f"{src}: " in err and message in err, err
        assert err.startswith(f"routegen {cmd}: error:") and err.count("\n") == 1
