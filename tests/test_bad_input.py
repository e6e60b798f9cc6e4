"""Every CLI command against a table of bad values: exit status 2, exactly one line on stderr (`routegen <command>:
error: ...`), nothing on stdout, and no file created or changed. In-process (routegen.cli.main), so fast: the
bad value is found before any model loads."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
from generator_helpers import save_ar
from grader_helpers import save_grader

from routegen.cli import main

ROUTE = "[18H, 17G, 15F, 13C, 10F, 9C, 6E, 5H]"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Checkpoints and bad input files, in a folder of their own (the cases run in another, watched one)."""
    root = tmp_path_factory.mktemp("inputs")
    save_ar(root / "ar.ckpt")
    save_grader(root / "grader.ckpt")
    (root / "junk.bin").write_bytes(bytes(range(256)) * 8)
    (root / "nul.jsonl").write_bytes(b"C5 | E8 | D18\n\x00\x00\x00\x00\n")
    (root / "empty.jsonl").write_text("")
    (root / "blank.jsonl.gz").write_bytes(gzip.compress(b"\n\n"))
    (root / "badjson.jsonl").write_text('"C5 | E8 | D18"\n["A5", "B6"\n')
    (root / "badhold.jsonl").write_text('{"start": ["A5"], "middle": ["Q9"], "end": ["D18"]}\n')
    (root / "nonstring.jsonl").write_text('{"route": 5}\n')
    (root / "badtypes.jsonl").write_text('{"start": "A5", "end": ["D18"]}\n')
    (root / "figures.json").write_text("{not json")
    return root


# bad values several commands refuse alike: case -> (the commands, the arguments). "grade+route" is grade
# with a route to write (its output cases); each command has more cases of its own below.
INPUT, SAMPLING, OUTPUT = ("grade", "evaluate"), ("sample", "gen"), ("grade+route", "sample")
SHARED = {
    "binary-input": (INPUT, ["--input", "{files}/junk.bin"]),
    "empty-input": (INPUT, ["--input", "{files}/empty.jsonl"]),
    "missing-input": (INPUT, ["--input", "{here}/missing.jsonl"]),
    # the sampling options' domains (routegen/options.py) and fixed holds
    "temperature-nan": (SAMPLING, ["--temperature", "nan"]),
    "temperature-neg": (SAMPLING, ["--temperature", "-1"]),
    "top-k-0": (SAMPLING, ["--top-k", "0"]),
    "top-p-0": (SAMPLING, ["--top-p", "0"]),
    "top-p-above-1": (SAMPLING, ["--top-p", "1.5"]),
    "guidance-neg": (SAMPLING, ["--guidance", "-2"]),
    "realism-0": (SAMPLING, ["--realism", "0"]),
    "match-0": (SAMPLING, ["--match", "0"]),
    "n-0": (SAMPLING, ["-n", "0"]),
    "fixed-unknown-hold": (SAMPLING, ["--fixed", "Z9"]),
    # output paths no command may write
    "output-is-a-dir": (OUTPUT, ["--output", "{here}"]),
    "output-in-sys": (OUTPUT, ["--output", "/sys/x/y.jsonl"]),
    "output-in-proc": (OUTPUT, ["--output", "/proc/x.jsonl"]),
}


def cases():
    """(id, argv) with {ar}, {grader}, {files} and {here} (the watched folder) filled in per test."""
    sample = ["sample", "--ckpt", "{ar}", "--grade", "7A"]
    gen = ["evaluate-generator", "--ckpt", "{ar}", "--critic", "{grader}", "--judge", "{grader}"]
    grade = ["grade", "--ckpt", "{grader}"]
    evaluate = ["evaluate", "--ckpt", "{grader}"]
    bases = {"grade": grade, "grade+route": [*grade, ROUTE], "evaluate": evaluate, "sample": sample, "gen": gen}
    table = {
        **{f"{cmd.split('+')[0]}-{case}": [*bases[cmd], *args] for case, (cmds, args) in SHARED.items() for cmd in cmds},
        # grade
        "grade-unknown-hold": [*grade, "A5 Z99 D18"],
        "grade-nul-input": [*grade, "--input", "{files}/nul.jsonl"],
        "grade-blank-gz-input": [*grade, "--input", "{files}/blank.jsonl.gz"],
        "grade-malformed-json-line": [*grade, "--input", "{files}/badjson.jsonl"],
        "grade-bad-hold-in-record": [*grade, "--input", "{files}/badhold.jsonl"],
        "grade-route-not-a-string": [*grade, "--input", "{files}/nonstring.jsonl"],
        "grade-holds-not-a-list": [*grade, "--input", "{files}/badtypes.jsonl"],
        "grade-input-is-a-dir": [*grade, "--input", "{here}"],
        "grade-strict-invalid": [*grade, "--strict", "C5 | E8 | A18 B18 D18"],
        "grade-strict-duplicate": [*grade, "--board", "2016", "--strict", "H5, H5, E6, F10, H18"],
        "grade-no-routes": [*grade],
        # evaluate
        "evaluate-bad-split": [*evaluate, "--split", "nope"],
        "evaluate-missing-ckpt": ["evaluate", "--ckpt", "{here}/nope.ckpt"],
        # sample: more option domains, a PNG folder, fixed holds
        "sample-top-k-neg": [*sample, "--top-k", "-3"],
        "sample-top-k-float": [*sample, "--top-k", "2.5"],
        "sample-temperature-inf": [*sample, "--temperature", "inf"],
        "sample-guidance-nan": [*sample, "--guidance", "nan"],
        "sample-rerank-0": [*sample, "--critic-rerank", "0"],
        "sample-match-no-critic": [*sample, "--match", "4", "--no-critic"],
        "sample-match-and-rerank": [*sample, "--match", "4", "--critic-rerank", "4"],
        "sample-bad-grade": ["sample", "--ckpt", "{ar}", "--grade", "9Z"],
        "sample-png-is-a-file": [*sample, "--png", "{files}/empty.jsonl"],
        "sample-png-in-sys": [*sample, "--png", "/sys/x"],
        "sample-fixed-middle-on-18": [*sample, "--fixed", "F5 | E18 | A18"],
        "sample-top-k-not-a-number": [*sample, "--top-k", "x"],
        "sample-missing-ckpt": ["sample", "--ckpt", "{here}/nope.ckpt", "--grade", "7A"],
        # evaluate-generator
        "gen-threads-0": [*gen, "--threads", "0"],
        "gen-rerank-0": [*gen, "--rerank", "1,0"],
        "gen-bad-grades": [*gen, "--grades", "6B+,9Z"],
        "gen-output-is-a-dir": [*gen, "--output", "{here}"],
        "gen-output-in-sys": [*gen, "--output", "/sys/x/y.json"],
        # calibrate
        "calibrate-realism-0": ["calibrate", "--ckpt", "{grader}", "--realism", "0"],
        "calibrate-n-0": ["calibrate", "--ckpt", "{grader}", "-n", "0"],
        "calibrate-move-weight": ["calibrate", "--ckpt", "{grader}", "--move-weight", "x"],
        "calibrate-out-is-a-dir": ["calibrate", "--ckpt", "{grader}", "--out", "{here}"],
        "calibrate-out-in-sys": ["calibrate", "--ckpt", "{grader}", "--out", "/sys/x/g.ckpt"],
        "calibrate-missing-ckpt": ["calibrate", "--ckpt", "{here}/nope.ckpt"],
        # render
        "render-png-is-a-file": ["render", ROUTE, "--png", "{files}/empty.jsonl"],
        "render-png-in-sys": ["render", ROUTE, "--png", "/sys/x"],
        "render-unknown-hold": ["render", "A5 Z9 D18", "--png", "{here}/out"],
        "render-bad-board": ["render", ROUTE, "--board", "2099", "--png", "{here}/out"],
        # check
        "check-unknown-hold": ["check", "A5 Z9 D18"],
        "check-bad-board": ["check", ROUTE, "--board", "2099"],
        "check-four-groups": ["check", "A5 | B9 | C12 | D18"],
        # models
        "models-export-without-board": ["models", "--export", "{ar}"],
        "models-figures-missing": ["models", "--export", "{ar}", "--board", "2016", "--name", "ar",
                                   "--figures", "{here}/nope.json", "--weights-dir", "{here}/w"],
        "models-figures-not-json": ["models", "--export", "{ar}", "--board", "2016", "--name", "ar",
                                    "--figures", "{files}/figures.json", "--weights-dir", "{here}/w"],
        "models-export-missing-run": ["models", "--export", "{here}/nope", "--board", "2016", "--name", "ar",
                                      "--weights-dir", "{here}/w"],
        "models-bad-board": ["models", "--board", "2099"],
    }  # fmt: skip
    return list(table.items())


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize(("case", "argv"), cases(), ids=[c for c, _ in cases()])
def test_bad_value_is_one_line_exit_2_and_touches_nothing(files, tmp_path, monkeypatch, capsys, case, argv):
    here = tmp_path / "watched"
    here.mkdir()
    monkeypatch.chdir(here)
    fill = {"ar": str(files / "ar.ckpt"), "grader": str(files / "grader.ckpt"), "files": str(files), "here": str(here)}
    argv = [a.format(**fill) for a in argv]
    before_inputs, before_here = snapshot(files), snapshot(here)
    code = main(argv)
    out, err = capsys.readouterr()
    command = argv[0]
    assert code == 2, (case, code, err)
    assert out == "", out
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), err
    assert lines[0].startswith(f"routegen {command}: error: "), err
    assert "Traceback" not in err
    assert snapshot(here) == before_here and snapshot(files) == before_inputs
    assert not list(Path("/proc").glob(".x.jsonl*")) and os.path.exists("/sys/x") is False
