"""Design-space sweeps: gatesim.explore and `gatesim explore`."""
import json

import pytest
from click.testing import CliRunner

import circuits
import gatesim
from gatesim import count
from gatesim.cli import cli
from gatesim.explore import ExploreError, explore, mark_pareto, plan

MULTIPLIERS = ["array-multiplier", "booth-wallace-multiplier", "dadda-multiplier", "wallace-multiplier"]


def _counted(design, width, library, **params):
    net = circuits.build(design, width, **params)
    opt = getattr(gatesim, "optimize", None)
    return count(opt(net) if opt else net, library)


def _key(rows):
    return [(r["design"], r["width"], r["library"], tuple(sorted(r["params"].items())), r["transistors"],
             r["logic_depth"], r["mean_weighted_toggles"], r["pareto"]) for r in rows]


def test_sweep_counts_every_point_under_every_library(tmp_path):
    exp = explore(["multiplier"], [4, 6], ["static-cmos", "yosys-cmos"], vectors=500, jobs=1, cache=tmp_path)
    assert sorted({r["design"] for r in exp.rows}) == MULTIPLIERS
    assert len(exp.rows) == 4 * 2 * 2 and exp.computed == 16 and exp.cached == 0
    for r in exp.rows:
        k = _counted(r["design"], r["width"], r["library"])
        assert (r["transistors"], r["gates"], r["logic_depth"]) == (k.transistors, k.gate_count, k.logic_depth)
        assert r["mean_weighted_toggles"] > r["mean_toggles"] > 0
    # sorted by library, width, transistors; every (library, width) has a non-empty front
    keys = [(r["library"], r["width"], r["transistors"]) for r in exp.rows]
    assert keys == sorted(keys, key=lambda k: (["static-cmos", "yosys-cmos"].index(k[0]), k[1], k[2]))
    for lib in ("static-cmos", "yosys-cmos"):
        for w in (4, 6):
            front = exp.front(lib, w)
            assert front and front[0]["transistors"] == min(r["transistors"] for r in exp.rows
                                                             if r["library"] == lib and r["width"] == w)


def test_cache_resumes_and_damaged_entries_are_recomputed(tmp_path):
    first = explore(["dadda-multiplier", "array-multiplier"], [5], ["paper"], vectors=300, jobs=1, cache=tmp_path)
    again = explore(["dadda-multiplier", "array-multiplier"], [5], ["paper"], vectors=300, jobs=1, cache=tmp_path)
    assert again.computed == 0 and again.cached == 2 and _key(again.rows) == _key(first.rows)
    files = sorted((tmp_path / "explore").glob("*.json"))
    assert len(files) == 2
    files[0].write_text("{not json")
    doc = json.loads(files[1].read_text())
    doc["request"]["vectors"] = 1  # an entry answering another request is not used
    files[1].write_text(json.dumps(doc))
    third = explore(["dadda-multiplier", "array-multiplier"], [5], ["paper"], vectors=300, jobs=1, cache=tmp_path)
    assert third.computed == 2 and _key(third.rows) == _key(first.rows)
    other = explore(["dadda-multiplier"], [5], ["paper"], vectors=301, jobs=1, cache=tmp_path)
    assert other.computed == 1  # the vectors are part of the key


def test_parallel_processes_give_the_same_rows(tmp_path):
    inline = explore(["multiplier"], [4, 8], ["static-cmos"], vectors=400, jobs=1, cache=False)
    par = explore(["multiplier"], [4, 8], ["static-cmos"], vectors=400, jobs=2, cache=False)
    assert par.backend == "loky" and _key(par.rows) == _key(inline.rows)


def test_parameter_sweep_and_skipped_widths():
    key = "adder"
    points, skipped = plan(["dadda-multiplier", "magnitude-comparator"], [8, 70],
                           {key: ["ripple-carry-adder", "kogge-stone-adder"]})
    assert {p.label() for p in points} == {f"dadda-multiplier@8({key}=ripple-carry-adder)",
                                           f"dadda-multiplier@8({key}=kogge-stone-adder)", "magnitude-comparator@8",
                                           "magnitude-comparator@70"}  # it takes no such parameter: swept once
    assert {(s["design"], s["width"]) for s in skipped} == {("dadda-multiplier", 70)}
    exp = explore(["dadda-multiplier"], [6], ["static-cmos"], {key: ["ripple-carry-adder", "kogge-stone-adder"]},
                  vectors=300, jobs=1, cache=False)
    by = {r["params"][key]: r for r in exp.rows}
    assert by["kogge-stone-adder"]["transistors"] == _counted("dadda-multiplier", 6, "static-cmos",
                                                               **{key: "kogge-stone-adder"}).transistors
    assert by["kogge-stone-adder"]["logic_depth"] < by["ripple-carry-adder"]["logic_depth"]


@pytest.mark.parametrize("kwargs,message", [
    (dict(designs=["dadda"]), "unknown design or kind 'dadda'; did you mean 'dadda-multiplier'"),
    (dict(designs=["multiplier"], params={"addr": ["x"]}), "no design here takes parameter 'addr'"),
    (dict(designs=["multiplier"], widths=[0]), "widths must be positive integers"),
    (dict(designs=["multiplier"], libraries=["static-cmos", "static-cmos"]), "same name"),
    (dict(designs=["multiplier"], backend="spark", jobs=2), "unknown backend 'spark'"),
])
def test_bad_sweeps_fail_with_one_line(kwargs, message):
    args = dict(designs=["multiplier"], widths=[4], libraries=["static-cmos"], vectors=100, cache=False)
    args.update(kwargs)
    with pytest.raises(ExploreError, match=message):
        explore(**args)


def test_pareto_front():
    rows = [dict(library="l", width=8, transistors=t, logic_depth=d) for t, d in
            [(100, 10), (90, 12), (120, 9), (100, 11), (130, 9), (90, 12)]]
    marked = [r["pareto"] for r in mark_pareto(rows)]
    assert marked == [True, True, True, False, False, True]


def test_cli_json_text_and_plot(tmp_path):
    png = tmp_path / "space.png"
    r = CliRunner().invoke(cli, ["explore", "--designs", "multiplier", "--widths", "4,6", "--libraries",
                                 "static-cmos,yosys-cmos", "--vectors", "300", "--jobs", "1", "--json", "--plot", str(png)])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["format"] == "gatesim-explore/1" and len(doc["rows"]) == 16 and doc["plot"] == str(png)
    assert set(doc["rows"][0]) >= {"design", "width", "params", "library", "transistors", "gates", "logic_depth",
                                   "mean_weighted_toggles", "pareto", "optimized"}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = CliRunner().invoke(cli, ["explore", "-d", "dadda-multiplier,array-multiplier", "-w", "4", "--jobs", "1",
                                 "--vectors", "300", "--no-plot"])
    assert r.exit_code == 0 and "pareto" in r.output and "*" in r.output and "from the cache" in r.output
    for args, message in [(["-d", "multiplier", "-w", "4,x"], "'x' is not an integer"),
                          (["-d", "multiplier", "-w", "4", "--scheduler", "tcp://x:1"], "--scheduler goes with --backend dask"),
                          (["-d", "mul", "-w", "4"], "did you mean 'multiplier'")]:
        r = CliRunner().invoke(cli, ["explore", *args, "--no-plot"])
        assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output


def test_dask_backend(tmp_path):
    distributed = pytest.importorskip("dask.distributed", reason="dask[distributed] is not installed (pip install 'gatesim[dask]')")
    inline = explore(["dadda-multiplier", "array-multiplier"], [4, 5], ["static-cmos"], vectors=200, jobs=1, cache=False)
    # a running scheduler named by address (in-process here, to start quickly), as `--scheduler` does
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        par = explore(["dadda-multiplier", "array-multiplier"], [4, 5], ["static-cmos"], vectors=200, jobs=2,
                      backend="dask", address=cluster.scheduler_address, cache=False)
    assert par.backend == "dask" and _key(par.rows) == _key(inline.rows)


@pytest.mark.slow
def test_ray_backend(tmp_path):
    pytest.importorskip("ray", reason="ray is not installed (pip install 'gatesim[ray]')")
    inline = explore(["dadda-multiplier", "array-multiplier"], [4, 5], ["static-cmos"], vectors=200, jobs=1, cache=False)
    par = explore(["dadda-multiplier", "array-multiplier"], [4, 5], ["static-cmos"], vectors=200, jobs=2,
                  backend="ray", cache=False)
    assert par.backend == "ray" and _key(par.rows) == _key(inline.rows)
