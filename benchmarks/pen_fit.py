"""How long `gatesim fit --pen` takes end to end, as a new user runs it, and what the counting speedups buy.

    python benchmarks/pen_fit.py [--peer]

1. `gatesim fit --pen` in a fresh process with an EMPTY table cache (a fresh clone: the fp32/int64 transistor-table
   entries PEN needs are built and simulated first), then again with the cache warm. Wall and CPU seconds of the
   whole process; the target is 20 s.
2. With --peer: counting every PEN run (no fit) with the speedups (meta shape cache, repeated blocks counted twice
   and extrapolated, optimizer steps from probes) against the same counting without them (fast=False), in this
   process, and checks that both give identical records.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed_cli(args, env) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "gatesim.cli", *args], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode:
        raise SystemExit(f"gatesim {' '.join(args)} failed: {p.stderr[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), p.stdout


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peer", action="store_true", help="also time counting without the speedups (about a minute)")
    args = ap.parse_args(argv)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as cache:
        env["GATESIM_CACHE_DIR"] = cache
        for label in ("cold table cache", "warm table cache"):
            wall, cpu, out = timed_cli(["fit", "--pen"], env)
            print(f"gatesim fit --pen, {label}: {wall:.1f} s wall, {cpu:.1f} s CPU (load average {load:.1f}, "
                  f"{os.cpu_count()} cores)", flush=True)
    if args.peer:
        sys.path.insert(0, str(ROOT))
        from calibration.pen import count_runs, load_splits

        s = load_splits()
        runs = s["training"] + s["test"]
        count_runs(runs[:1], table="paper", uncountable="exclude")  # table entries and imports out of the way
        res = {}
        for fast in (True, False):
            t, c = time.perf_counter(), time.process_time()
            res[fast] = count_runs(runs, table="paper", uncountable="exclude", fast=fast)
            print(f"count_runs(fast={fast}): {time.perf_counter() - t:.1f} s wall, {time.process_time() - c:.1f} s CPU",
                  flush=True)
        print("identical records:", res[True] == res[False])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
