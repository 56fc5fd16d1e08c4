"""Simulation throughput: gatesim's numba kernel vs PyRTL's CompiledSimulation, in one run.

Prints vectors/s and lane-gate-evaluations/s (one vector through one gate) on one core for:
  * gatesim's 24-bit ripple-carry adder (and the 24x24 Booth-Wallace multiplier when registered);
  * PyRTL's own 24x24 tree multiplier (Wallace reducer, Kogge-Stone final adder), simulated by
    PyRTL's CompiledSimulation (C code compiled with the system compiler), and the very same
    synthesized gate netlist imported into gatesim, so the ratio compares equal work.

Run: python benchmarks/simulate.py [--vectors N]   (needs the bench extra: pip install -e '.[bench]')
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np

import circuits
from gatesim import Netlist, compile_netlist, count, simulate
from gatesim import kernels
from gatesim.simulation import CHUNK_WORDS, pack_inputs


def best_of(fn, repeat=5):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def gatesim_rate(net: Netlist, n_vectors: int, seed: int = 0) -> dict:
    """Kernel-only and end-to-end (packing included) throughput of ``net`` on random vectors."""
    c = compile_netlist(net)
    rng = np.random.default_rng(seed)
    inputs = {p: rng.integers(0, 1 << min(len(s), 63), n_vectors, dtype=np.uint64) for p, s in c.inputs.items()}
    planes, n = pack_inputs(c, inputs)
    out_slots = c.output_slots
    run = lambda: kernels.simulate_planes(c.op, c.fanin, c.n_inputs, c.n_sources, out_slots, planes, n, CHUNK_WORDS, False)  # noqa: E731
    run()  # compile / warm up
    t_kernel = best_of(run)
    simulate(net, **{p: v[:128] for p, v in inputs.items()})
    t_e2e = best_of(lambda: simulate(net, **inputs), repeat=3)
    return {
        "gates": c.n_gates,
        "kernel_vps": n / t_kernel,
        "kernel_lge": n * c.n_gates / t_kernel,
        "e2e_vps": n / t_e2e,
    }


def pyrtl_multiplier(width: int, synthesized: bool):
    """PyRTL's 24x24 tree multiplier as written (word-level adders) or synthesized to 1-bit gates."""
    import pyrtl
    from pyrtl.rtllib import multipliers

    pyrtl.reset_working_block()
    a, b = pyrtl.Input(width, "a"), pyrtl.Input(width, "b")
    p = pyrtl.Output(2 * width, "p")
    p <<= multipliers.tree_multiplier(a, b)
    if synthesized:
        pyrtl.synthesize()
        pyrtl.optimize()
    return pyrtl.working_block()


def import_pyrtl_block(block) -> Netlist:
    """A synthesized PyRTL block (1-bit &, |, ^, ~, n, x nets, wires, concats, selects) as a gatesim Netlist."""
    import pyrtl

    net = Netlist(name="pyrtl_tree_multiplier")
    bits: dict = {}  # wirevector -> list of node ids
    for w in sorted(block.wirevector_subset(pyrtl.Input), key=lambda w: w.name):
        bits[w] = net.input(w.name, w.bitwidth)
    for w in block.wirevector_subset(pyrtl.Const):
        bits[w] = [net.const((w.val >> i) & 1) for i in range(w.bitwidth)]
    gate = {"&": "AND2", "|": "OR2", "^": "XOR2", "~": "NOT", "n": "NAND2"}
    for lnet in block:  # topologically sorted
        args = [bits[x] for x in lnet.args]
        if lnet.op == "w":
            res = args[0]
        elif lnet.op == "c":  # concat: first argument is most significant
            res = [b for arg in reversed(args) for b in arg]
        elif lnet.op == "s":
            res = [args[0][i] for i in lnet.op_param]
        elif lnet.op == "x":  # select ? b : a  (args: sel, a, b)
            res = [net.MUX(args[0][0], args[1][0], args[2][0])]
        elif lnet.op in gate:
            res = [net.gate(gate[lnet.op], *(arg[0] for arg in args))]
        else:
            raise ValueError(f"unsupported PyRTL op {lnet.op!r} after synthesis")
        bits[lnet.dests[0]] = res
    for w in block.wirevector_subset(pyrtl.Output):
        net.output(w.name, bits[w])
    return net


def pyrtl_rate(block, width: int, n_vectors: int, seed: int = 0) -> float:
    import pyrtl

    rng = np.random.default_rng(seed)
    a = [int(x) for x in rng.integers(0, 1 << width, n_vectors)]
    b = [int(x) for x in rng.integers(0, 1 << width, n_vectors)]
    out = next(iter(block.wirevector_subset(pyrtl.Output)))
    sim = pyrtl.CompiledSimulation(tracer=pyrtl.SimulationTrace([out], block=block), block=block)
    sim.step_multiple({"a": a[:100], "b": b[:100]})
    t0 = time.perf_counter()
    sim.step_multiple({"a": a, "b": b})
    return n_vectors / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vectors", type=int, default=1 << 20, help="vectors for gatesim (default 1M)")
    ap.add_argument("--pyrtl-vectors", type=int, default=100_000, help="vectors for PyRTL (default 100k)")
    args = ap.parse_args()

    print(f"one core; gatesim: {args.vectors} vectors, {CHUNK_WORDS} words of 64 vectors per chunk\n")
    rows = []
    rca = circuits.build("ripple-carry-adder", 24)
    rows.append(("gatesim ripple-carry-adder 24", gatesim_rate(rca, args.vectors)))
    try:
        bw = circuits.build("booth-wallace-multiplier", 24)
        rows.append(("gatesim booth-wallace-multiplier 24x24", gatesim_rate(bw, args.vectors)))
    except Exception as e:  # not registered yet
        print(f"(booth-wallace-multiplier unavailable: {e})")
    try:
        block = pyrtl_multiplier(24, synthesized=True)
    except ImportError:
        print("PyRTL is not installed: pip install -e '.[bench]'")
        block = None
    if block is not None:
        imported = import_pyrtl_block(block)
        check = simulate(imported, a=[3, (1 << 24) - 1], b=[5, (1 << 24) - 1])["p"].tolist()
        assert check == [15, ((1 << 24) - 1) ** 2], check
        g = gatesim_rate(imported, args.vectors)
        rows.append(("gatesim on PyRTL's 24x24 tree multiplier", g))
    print(f"{'circuit':45s} {'gates':>7s} {'kernel vec/s':>14s} {'lane-gate-evals/s':>18s} {'simulate() vec/s':>17s}")
    for name, r in rows:
        print(f"{name:45s} {r['gates']:7d} {r['kernel_vps']:14.3e} {r['kernel_lge']:18.3e} {r['e2e_vps']:17.3e}")
    if block is not None:
        p_gates = pyrtl_rate(block, 24, args.pyrtl_vectors)
        p_words = pyrtl_rate(pyrtl_multiplier(24, synthesized=False), 24, args.pyrtl_vectors)
        print("\nPyRTL CompiledSimulation, 24x24 tree multiplier:")
        print(f"  as written (word-level adders): {p_words:.3e} vectors/s")
        print(f"  synthesized to 1-bit gates ({imported.number_of_nodes()} nets): {p_gates:.3e} vectors/s")
        best = max(p_words, p_gates)
        print(f"ratio gatesim (on PyRTL's gate netlist) / PyRTL (faster of the two): "
              f"kernel {g['kernel_vps'] / best:.0f}x, simulate() {g['e2e_vps'] / best:.0f}x")
        print(f"(PyRTL netlist under yosys-cmos: {count(imported, 'yosys-cmos').transistors} transistors)")


if __name__ == "__main__":
    main()
