"""Every CLI command against a table of bad values: exit status 2, exactly one line on stderr (`routegen <command>:
error: ...`), nothing on stdout, and no file created or changed. In-process (routegen.cli.main), so fast: the
bad value is found before any model loads."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from grader_helpers import save_grader

from routegen.ar.module import ARTransformerModule
from routegen.cli import main

ROUTE = "[18H, 17G, 15F, 13C, 10F, 9C, 6E, 5H]"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Checkpoints and bad input files, in a folder of their own (the cases run in another, watched one)."""
    root = tmp_path_factory.mktemp("inputs")
    torch.manual_seed(0)
    ar = ARTransformerModule(net={"n_layer": 1, "n_head": 2, "n_embd": 32}, class_counts=[0] * 3 + [10] * 12 + [0])
    trainer = pl.Trainer(max_steps=0, logger=False, enable_checkpointing=False, enable_progress_bar=False)
    trainer.strategy.connect(ar)
    trainer.save_checkpoint(root / "ar.ckpt")
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


def cases():
    """(id, argv) with {ar}, {grader}, {files} and {here} (the watched folder) filled in per test."""
    sample = ["sample", "--ckpt", "{ar}", "--grade", "7A"]
    gen = ["evaluate-generator", "--ckpt", "{ar}", "--critic", "{grader}", "--judge", "{grader}"]
    grade = ["grade", "--ckpt", "{grader}"]
    table = {
        # grade
        "grade-unknown-hold": [*grade, "A5 Z99 D18"],
        "grade-binary-input": [*grade, "--input", "{files}/junk.bin"],
        "grade-nul-input": [*grade, "--input", "{files}/nul.jsonl"],
        "grade-empty-input": [*grade, "--input", "{files}/empty.jsonl"],
        "grade-blank-gz-input": [*grade, "--input", "{files}/blank.jsonl.gz"],
        "grade-malformed-json-line": [*grade, "--input", "{files}/badjson.jsonl"],
        "grade-bad-hold-in-record": [*grade, "--input", "{files}/badhold.jsonl"],
        "grade-route-not-a-string": [*grade, "--input", "{files}/nonstring.jsonl"],
        "grade-holds-not-a-list": [*grade, "--input", "{files}/badtypes.jsonl"],
        "grade-missing-input": [*grade, "--input", "{here}/missing.jsonl"],
        "grade-input-is-a-dir": [*grade, "--input", "{here}"],
        "grade-output-is-a-dir": [*grade, ROUTE, "--output", "{here}"],
        "grade-output-in-sys": [*grade, ROUTE, "--output", "/sys/x/y.jsonl"],
        "grade-output-in-proc": [*grade, ROUTE, "--output", "/proc/x.jsonl"],
        "grade-strict-invalid": [*grade, "--strict", "C5 | E8 | A18 B18 D18"],
        "grade-strict-duplicate": [*grade, "--board", "2016", "--strict", "H5, H5, E6, F10, H18"],
        "grade-no-routes": [*grade],
        # evaluate
        "evaluate-binary-input": ["evaluate", "--ckpt", "{grader}", "--input", "{files}/junk.bin"],
        "evaluate-empty-input": ["evaluate", "--ckpt", "{grader}", "--input", "{files}/empty.jsonl"],
        "evaluate-missing-input": ["evaluate", "--ckpt", "{grader}", "--input", "{here}/missing.jsonl"],
        "evaluate-bad-split": ["evaluate", "--ckpt", "{grader}", "--split", "nope"],
        "evaluate-missing-ckpt": ["evaluate", "--ckpt", "{here}/nope.ckpt"],
        # sample: option domains (routegen/options.py), output paths, fixed holds
        "sample-top-k-0": [*sample, "--top-k", "0"],
        "sample-top-k-neg": [*sample, "--top-k", "-3"],
        "sample-top-k-float": [*sample, "--top-k", "2.5"],
        "sample-temperature-nan": [*sample, "--temperature", "nan"],
        "sample-temperature-neg": [*sample, "--temperature", "-1"],
        "sample-temperature-inf": [*sample, "--temperature", "inf"],
        "sample-top-p-above-1": [*sample, "--top-p", "1.5"],
        "sample-top-p-0": [*sample, "--top-p", "0"],
        "sample-guidance-neg": [*sample, "--guidance", "-2"],
        "sample-guidance-nan": [*sample, "--guidance", "nan"],
        "sample-n-0": [*sample, "-n", "0"],
        "sample-realism-0": [*sample, "--realism", "0"],
        "sample-rerank-0": [*sample, "--critic-rerank", "0"],
        "sample-bad-grade": ["sample", "--ckpt", "{ar}", "--grade", "9Z"],
        "sample-output-is-a-dir": [*sample, "--output", "{here}"],
        "sample-output-in-sys": [*sample, "--output", "/sys/x/y.jsonl"],
        "sample-output-in-proc": [*sample, "--output", "/proc/x.jsonl"],
        "sample-png-is-a-file": [*sample, "--png", "{files}/empty.jsonl"],
        "sample-png-in-sys": [*sample, "--png", "/sys/x"],
        "sample-fixed-middle-on-18": [*sample, "--fixed", "F5 | E18 | A18"],
        "sample-fixed-unknown-hold": [*sample, "--fixed", "Z9"],
        "sample-top-k-not-a-number": [*sample, "--top-k", "x"],
        "sample-missing-ckpt": ["sample", "--ckpt", "{here}/nope.ckpt", "--grade", "7A"],
        # evaluate-generator: the same domains
        "gen-temperature-nan": [*gen, "--temperature", "nan"],
        "gen-temperature-neg": [*gen, "--temperature", "-1"],
        "gen-top-k-0": [*gen, "--top-k", "0"],
        "gen-top-p-0": [*gen, "--top-p", "0"],
        "gen-top-p-above-1": [*gen, "--top-p", "1.5"],
        "gen-guidance-neg": [*gen, "--guidance", "-2"],
        "gen-realism-0": [*gen, "--realism", "0"],
        "gen-n-0": [*gen, "-n", "0"],
        "gen-threads-0": [*gen, "--threads", "0"],
        "gen-rerank-0": [*gen, "--rerank", "1,0"],
        "gen-bad-grades": [*gen, "--grades", "6B+,9Z"],
        "gen-output-is-a-dir": [*gen, "--output", "{here}"],
        "gen-output-in-sys": [*gen, "--output", "/sys/x/y.json"],
        "gen-fixed-unknown-hold": [*gen, "--fixed", "Z9"],
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
