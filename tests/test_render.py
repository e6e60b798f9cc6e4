"""Route pictures: a real PNG per route, written atomically, holds drawn where they are."""

from __future__ import annotations

import matplotlib.image as mpimg

from routegen.render import draw_route, save_route_pngs
from routegen.route import parse_route


def test_png_per_route_and_no_temp_files(tmp_path, board2016):
    routes = [parse_route(t)[0] for t in ("C5 E6 | E8 F11 C13 D15 | D18", "[18H, 17G, 15F, 13C, 10F, 9C, 6E, 5H]")]
    paths = save_route_pngs(routes, board2016, tmp_path / "out", ["7A", ""])
    assert [p.name for p in paths] == ["route_000.png", "route_001.png"]
    img = mpimg.imread(paths[0])
    assert img.ndim == 3 and img.shape[0] > img.shape[1] > 200  # portrait: 18 rows x 11 columns
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["route_000.png", "route_001.png"]


def test_drawing_marks_each_role_and_labels_the_grid(board2016):
    route, _ = parse_route("C5 E6 | E8 F11 | D18")
    fig = draw_route(route, board2016, "7A")
    ax = fig.axes[0]
    by_label = {c.get_label(): c.get_offsets() for c in ax.collections}
    assert len(by_label["start"]) == 2 and len(by_label["middle"]) == 2 and len(by_label["end"]) == 1
    assert [tuple(map(float, xy)) for xy in by_label["end"]] == [(3.0, 18.0)]  # D18: column index 3, row 18
    assert [t.get_text() for t in ax.get_xticklabels()] == list("ABCDEFGHIJK")
    assert len(ax.get_yticklabels()) == 18 and ax.get_title() == "7A"
