"""The default energy profile: published 45 nm per-operation energies fitted to gatesim's transistor tables.

For each built-in table (``default``: what ``gatesim table`` and ``gatesim estimate`` use with no flags; the
``gpu-like`` and ``paper`` profiles) this fits joules per TO and per switching TO to the published energies of
calibration/data/published-energies.toml (non-negative least squares in relative error,
``calibration.published.fit_published``), prints the fit per operation and writes
calibration/data/default-energy.json, the shipped profile, with its provenance.

Run: python benchmarks/default_energy.py [--write]
"""
from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path

from calibration.published import DEFAULT_ENERGY_FORMAT, fit_published, load_published, reference_formats
from gatesim.datafile import write_file_atomic
from gatesim.hardware import default_profile, load_hardware
from gatesim.tables import code_version

OUT = Path(__file__).resolve().parents[1] / "calibration" / "data" / "default-energy.json"
PROFILES = ("default", "gpu-like", "paper")


def fits() -> dict:
    out = {}
    for name in PROFILES:
        prof = default_profile() if name == "default" else load_hardware(name)
        tab = prof.build_table(reference_formats(), operations=["add", "mul"])
        out[name] = fit_published(tab)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--write", action="store_true", help=f"write {OUT.relative_to(OUT.parents[2])}")
    args = ap.parse_args()
    pub = load_published()
    got = fits()
    print("| table | J per TO | J per switching TO | J per byte (DRAM / on-chip) |")
    print("|---|---:|---:|---:|")
    for name, f in got.items():
        print(f"| {name} | {f.joules_per_to:.3g} | {f.joules_per_switching_to:.3g} | "
              f"{f.joules_per_byte:.3g} / {f.joules_per_byte_onchip:.3g} |")
    print("\npredicted / published energy per operation (from TOs; from switching TOs):\n")
    ops = [f"{op}.{fmt}" for op, fmt, *_ in got["default"].rows]
    print("| operation | published pJ | " + " | ".join(f"{n}: TOs | {n}: switching" for n in got) + " |")
    print("|---|---:|" + "---:|" * (2 * len(got)))
    for k in ops:
        q = {n: f.fit_quality()[k] for n, f in got.items()}
        print(f"| {k} | {q['default']['published_pj']:g} | "
              + " | ".join(f"{v['from_tos']:.2f} | {v['from_switching']:.2f}" for v in q.values()) + " |")
    if args.write:
        doc = {"format": DEFAULT_ENERGY_FORMAT,
               "what": "joules per transistor operation (TO), per switching TO and per byte fitted to published 45 nm "
                       "per-operation energies; an ESTIMATE from published figures, not a measurement",
               "published": pub.name, "sources": list(pub.sources),
               "method": "non-negative least squares in relative error of E = a*T (and E = b*W) over the published "
                         "(operation, format) energies, T transistors and W transistor-weighted toggles per operation "
                         "of the table's unit under its own random operands; bytes at the published DRAM (and SRAM) "
                         "access energy",
               "produced_by": "python benchmarks/default_energy.py --write",
               "created": datetime.date.today().isoformat(), "gatesim_code": code_version(),
               "fits": {n: f.to_dict() for n, f in got.items()}}
        write_file_atomic(OUT, json.dumps(doc, indent=2) + "\n")
        print(f"\nwrote {OUT}")


if __name__ == "__main__":
    main()
