"""Full verification of the IEEE 754 units (issue 10): every fp8 operand pair, 1,000,000 vectors per
operation for fp16, bf16 and fp32 and 200,000 for fp64 (a quarter special or boundary cases), bit for
bit against numpy/torch (``y`` where the platform has the format) and the exact model (flags,
FMA). The netlists verified are the optimized ones (``gatesim.optimize``, what ``gatesim count`` prices);
``--raw`` verifies them as built. Prints one row per run: vectors, mismatches, seconds, reference, then a
unit x format summary; exits 1 on any mismatch.

Run: python benchmarks/verify_fp.py [--formats ...] [--units ...] [--vectors 1000000] [--fp64-vectors 200000]
     [--rounding rne] [--ftz] [--raw] [--fp8-fma-exhaustive] [--json results.json]
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import circuits
from gatesim import optimize, verify
from gatesim.datafile import write_file_atomic

UNITS = ["fp-adder", "fp-multiplier", "fp-fma", "fp-divider", "fp-sqrt", "fp-compare", "fp-convert"]
CONVERT_TO = {"fp8-e4m3": "fp16", "fp8-e5m2": "fp16", "fp16": "fp8-e4m3", "bf16": "fp8-e5m2", "fp32": "bf16",
              "fp64": "fp32"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--formats", default="fp8-e4m3,fp8-e5m2,fp16,bf16,fp32,fp64")
    ap.add_argument("--units", default=",".join(UNITS))
    ap.add_argument("--vectors", type=int, default=1_000_000)
    ap.add_argument("--fp64-vectors", type=int, default=200_000)
    ap.add_argument("--rounding", default="rne")
    ap.add_argument("--ftz", action="store_true")
    ap.add_argument("--raw", action="store_true", help="verify the netlists as built, not optimized")
    ap.add_argument("--fp8-fma-exhaustive", action="store_true", help="all 2**24 fp8 FMA triples (minutes)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--json", help="also write the rows to this JSON file")
    args = ap.parse_args()
    rows, failed = [], 0
    print("| unit | format | vectors | exhaustive | mismatches | seconds | reference |")
    print("|---|---|---:|---|---:|---:|---|")
    for unit in args.units.split(","):
        for fmt in args.formats.split(","):
            kw = dict(format=fmt, ftz=args.ftz)
            if unit != "fp-compare":
                kw["rounding"] = args.rounding
            if unit == "fp-convert":
                kw["to"] = CONVERT_TO[fmt]
            net = circuits.build(unit, **kw)
            if not args.raw:
                net = optimize(net)
            ref = circuits.reference(unit, **kw)
            n = args.fp64_vectors if fmt == "fp64" else args.vectors
            limit = (1 << 24) if (unit == "fp-fma" and args.fp8_fma_exhaustive) else (1 << 20)
            t0 = time.perf_counter()
            r = verify(net, ref, vectors=n, seed=args.seed, exhaustive_limit=limit,
                       stimulus=circuits.stimulus(unit, **kw), describe=circuits.decoder(unit, **kw))
            dt = time.perf_counter() - t0
            name = unit + (f" -> {kw['to']}" if unit == "fp-convert" else "")
            row = {"unit": name, "format": fmt, "vectors": r.vectors, "exhaustive": r.exhaustive,
                   "mismatches": r.mismatches, "seconds": round(dt, 1), "reference": ref.description,
                   "first_failure": r.first_failure and r.first_failure.get("decoded")}
            rows.append(row)
            failed += r.mismatches > 0
            print(f"| {name} | {fmt} | {r.vectors:,} | {'yes' if r.exhaustive else 'no'} | {r.mismatches} | {dt:.1f} | "
                  f"{ref.description} |", flush=True)
            if r.mismatches:
                print(f"  first failure: {r.first_failure.get('decoded')}", flush=True)
    total = sum(r["vectors"] for r in rows)
    print(f"\n{total:,} vectors, {sum(r['mismatches'] for r in rows)} mismatches, "
          f"{sum(r['seconds'] for r in rows):.0f} s\n")
    summary(rows)
    if args.json:
        write_file_atomic(args.json, json.dumps(rows, indent=2))
    sys.exit(1 if failed else 0)


def summary(rows):
    """One row per unit, one column per format: vectors (mismatches, seconds); e = every input combination."""
    fmts = list(dict.fromkeys(r["format"] for r in rows))
    print("| unit | " + " | ".join(fmts) + " |")
    print("|---|" + "---:|" * len(fmts))
    for unit in dict.fromkeys(r["unit"].split(" ->")[0] for r in rows):
        cells = []
        for f in fmts:
            r = next((r for r in rows if r["unit"].split(" ->")[0] == unit and r["format"] == f), None)
            cells.append("" if r is None else f"{r['vectors']:,}{' (all)' if r['exhaustive'] else ''}, "
                                              f"{r['mismatches']} wrong, {r['seconds']:.1f} s")
        print(f"| {unit} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
