"""Formal equivalence of the design families, as a Markdown table: every pair of a family proven equal, per method.

Run: python benchmarks/equiv.py [--adders 32] [--multipliers 8] [--methods abc,sat,exhaustive] [--timeout 300]
Each cell gives CPU seconds of one gatesim.equivalent call, its own and its Yosys subprocesses' (so other load
on the machine does not count), and wall-clock seconds in brackets; no random simulation first, so the time
is the proof's. ``exhaustive`` simulation is listed
for the pairs whose inputs allow it (at most 2^20 combinations).
"""
from __future__ import annotations

import argparse
import itertools
import resource

import circuits
from gatesim import equivalent

FAMILIES = {
    "adder": ["ripple-carry-adder", "kogge-stone-adder", "carry-lookahead-adder"],
    "multiplier": ["booth-wallace-multiplier", "wallace-multiplier", "dadda-multiplier", "array-multiplier"],
}


def cpu() -> float:
    """CPU seconds of this process and its finished subprocesses."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--adders", type=int, default=32, help="adder width")
    ap.add_argument("--multipliers", type=int, default=8, help="multiplier width")
    ap.add_argument("--methods", default="abc,sat,exhaustive")
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args()
    methods = args.methods.split(",")
    widths = {"adder": args.adders, "multiplier": args.multipliers}
    print("| design A | design B | width | " + " | ".join(f"{m}: CPU s (wall)" for m in methods) + " |")
    print("|---|---|---:|" + "---:|" * len(methods))
    for family, names in FAMILIES.items():
        w = widths[family]
        nets = {n: circuits.build(n, w) for n in names}
        for a, b in itertools.combinations(names, 2):
            cells = []
            for m in methods:
                if m == "exhaustive" and 2 * w + (family == "adder") > 20:
                    cells.append("-")
                    continue
                cpu0 = cpu()
                r = equivalent(nets[a], nets[b], method=m, vectors=0, timeout=args.timeout)
                verdict = {True: "", False: " DIFFERENT", None: " undecided"}[r.equal]
                cells.append(f"{cpu() - cpu0:.1f} ({r.seconds:.0f}){verdict}")
            print(f"| {a} | {b} | {w} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
