"""Reliability promises of the CLI and the sampling pipeline: warnings for invalid routes, chunked and streamed
sampling, fresh PNG folders, progress only on a terminal, arguments checked before anything loads."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from generator_helpers import save_ar
from grader_helpers import save_grader

from routegen.cli import main
from routegen.errors import RoutegenError
from routegen.generation.sampling import iter_samples, sample_routes, write_samples
from routegen.progress import Progress

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def ar(tmp_path_factory):
    return save_ar(tmp_path_factory.mktemp("ar") / "ar.ckpt")


@pytest.fixture(scope="module")
def module(ar):
    from routegen.checkpoints import load_module

    return load_module(ar, expect="ar_transformer")


@pytest.fixture(scope="module")
def grader(tmp_path_factory):
    return save_grader(tmp_path_factory.mktemp("g") / "grader.ckpt")


def test_grade_warns_once_per_invalid_route_and_strict_refuses(grader, capsys, board2016):
    middles = [str(h) for h in board2016.holds if 7 <= h.row <= 17][:28]
    thirty = f"C5 | {' '.join(middles)} | D18"
    routes = [thirty, "C5 | E8 F11 C13 |", "C5 | C5 E8 F11 | D18", "C5 E6 | E8 F11 | D18"]
    assert main(["grade", "--ckpt", str(grader), *routes]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 4  # every route still graded
    warnings = err.splitlines()
    assert len(warnings) == 3 and all(w.startswith("routegen grade: warning: argument ") for w in warnings)
    assert "argument 1" in warnings[0] and "size" in warnings[0]
    assert "argument 2" in warnings[1] and "end" in warnings[1] and "C5 | E8 F11 C13 |" in warnings[1]
    assert "argument 3" in warnings[2] and "roles" in warnings[2]
    assert main(["grade", "--ckpt", str(grader), "--strict", *routes]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and "argument 1" in err and "--strict" in err


def test_grade_warnings_name_the_file_and_line(grader, tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text('"C5 E6 | E8 F11 | D18"\n\n{"id": "x", "start": ["C5"], "middle": ["E8"], "end": []}\n')
    assert main(["grade", "--ckpt", str(grader), "--input", str(src)]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"routegen grade: warning: {src}: line 3: ") and err.count("\n") == 1


def test_check_reports_a_hold_given_twice(capsys):
    assert main(["check", "H5, H5, E6, F10, H18"]) == 1
    assert "a hold repeated among the start holds" in capsys.readouterr().out


def test_sampling_goes_in_chunks_and_keeps_the_first_routes(module):
    chunks = list(iter_samples(module, 7, 10, chunk=4, seed=5, keep_copies=True))
    assert [len(c) for c in chunks] == [4, 4, 2]
    alone = sample_routes(module, 7, 4, chunk=4, seed=5, keep_copies=True)
    assert [s.route for s in alone] == [s.route for s in chunks[0]]  # -n 4 and -n 10 share the first chunk
    # the first chunk draws as unchunked sampling did: generate(seed)
    assert [s.route for s in sample_routes(module, 7, 3, seed=5)] == module.generate([7] * 3, seed=5)
    with pytest.raises(RoutegenError, match="--top-k must be an integer >= 1"):
        sample_routes(module, 7, 2, top_k=0)  # the library checks the same domains as the CLI


def test_streamed_output_is_atomic(module, tmp_path, board2016, capsys):
    out = tmp_path / "routes.jsonl"
    out.write_text("old\n")

    def failing():
        yield from iter_samples(module, 7, 2, chunk=2, keep_copies=True)
        raise RoutegenError("stopped half way")

    with pytest.raises(RoutegenError):
        write_samples(failing(), 4, board2016, 40, "seed", out)
    assert out.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["routes.jsonl"]
    assert write_samples(iter_samples(module, 7, 5, chunk=2, keep_copies=True), 5, board2016, 40, "seed", out) == 5
    assert len([json.loads(line) for line in out.read_text().splitlines()]) == 5
    capsys.readouterr()


def test_png_folder_holds_this_runs_pictures_only(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "route_notes.png").write_bytes(b"not ours")
    routes = ["C5 E6 | E8 F11 | D18", "[18H, 17G, 15F, 13C, 10F, 9C, 6E, 5H]", "C5 | E8 F11 C13 | D18"]
    assert main(["render", *routes, "--png", str(tmp_path)]) == 0
    assert main(["render", routes[0], "--png", str(tmp_path)]) == 0
    capsys.readouterr()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "route_000.png", "route_notes.png"]


def test_sample_png_folder_is_fresh(ar, tmp_path, capsys):
    argv = ["sample", "--ckpt", str(ar), "--grade", "7A", "--no-critic", "--keep-copies", "--png", str(tmp_path)]
    assert main([*argv, "-n", "3"]) == 0
    assert main([*argv, "-n", "1"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["route_000.png"]
    assert "removed 2 route_*.png" in capsys.readouterr().err


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_only_on_a_terminal():
    tty, pipe = Terminal(), io.StringIO()
    for stream in (tty, pipe):
        with Progress(100, "routes sampled", delay=0, stream=stream) as p:
            p.advance(50)
            p.advance(50)
    assert "100/100 routes sampled" in tty.getvalue() and pipe.getvalue() == ""
    quick = Terminal()
    with Progress(100, "routes", delay=60, stream=quick) as p:  # work shorter than the delay shows nothing
        p.advance(100)
    assert quick.getvalue() == ""


def test_arguments_are_checked_before_the_checkpoint_loads(tmp_path, capsys):
    missing = str(tmp_path / "nope.ckpt")  # loading it would fail: the bad argument must be reported instead
    for argv, word in [
        (["sample", "--ckpt", missing, "--grade", "7A", "--top-k", "0"], "--top-k"),
        (["sample", "--ckpt", missing, "--grade", "7A", "--output", str(tmp_path)], "--output"),
        (["sample", "--ckpt", missing, "--grade", "7A", "--fixed", "F5 | E18 | A18"], "row 18"),
        (["grade", "--ckpt", missing, "Z9 A5"], "unknown hold"),
        (["grade", "--ckpt", missing, "--input", str(tmp_path / "in.jsonl")], "input file not found"),
        (["evaluate", "--ckpt", missing, "--input", str(tmp_path / "in.jsonl")], "input file not found"),
        (["calibrate", "--ckpt", missing, "--out", str(tmp_path)], "--out"),
    ]:
        assert main(argv) == 2
        assert word in capsys.readouterr().err


def test_a_bad_grade_is_reported_in_well_under_a_second():
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "routegen.cli", "sample", "--grade", "9Z"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    elapsed = time.monotonic() - start
    assert done.returncode == 2 and "unknown grade '9Z'" in done.stderr
    assert elapsed < 2.0, f"{elapsed:.1f} s to the first error (was ~6 s when every command imported torch)"
