"""Design-space sweeps: every design x parameter setting x width x cell library, counted and simulated.

:func:`explore` builds each design point once (optimized with :func:`gatesim.optimize` when the engine
has it, unless ``optimize=False``), counts it under every library (transistors, gates, logic depth),
simulates uniformly random operands once for its toggles and weighs them per library. Points run in
parallel through joblib (``loky`` processes by default; ``dask`` or ``ray`` when installed, for runs that
outgrow one machine). Each (point, library) result is cached on disk as it arrives, keyed by everything
that decides it, so an interrupted sweep resumes and a repeated one is read back. Within each library
and width, the points no other point beats on both transistors and logic depth form the Pareto front.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import GatesimError, did_you_mean
from .library import CellLibrary, load_library

BACKENDS = ("loky", "dask", "ray")
EXPLORE_FORMAT = "gatesim-explore/1"
DEFAULT_VECTORS = 20_000


class ExploreError(GatesimError, ValueError):
    """A sweep cannot be planned or run."""


@dataclass(frozen=True)
class Point:
    """One netlist to build: a registered design at a width with its extra parameters."""

    design: str
    width: int
    params: tuple = ()  # sorted (name, value) pairs

    @property
    def param_dict(self) -> dict:
        return dict(self.params)

    def label(self) -> str:
        extra = ", ".join(f"{k}={v}" for k, v in self.params)
        return f"{self.design}@{self.width}" + (f"({extra})" if extra else "")


@dataclass
class Exploration:
    """Rows (one per point and library, dicts with the keys of :data:`ROW_KEYS`), the points that were
    skipped (design cannot be built at that width) and how the run went."""

    rows: list[dict]
    skipped: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    computed: int = 0  # (point, library) results computed in this run
    cached: int = 0  # read back from the cache
    backend: str = "loky"
    jobs: int = 1

    def to_dict(self) -> dict:
        return {"format": EXPLORE_FORMAT, "rows": self.rows, "skipped": self.skipped,
                "seconds": round(self.seconds, 3), "computed": self.computed, "cached": self.cached,
                "backend": self.backend, "jobs": self.jobs}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def front(self, library: str, width: int) -> list[dict]:
        """The Pareto-front rows of one library and width, by transistors."""
        return sorted((r for r in self.rows if r["pareto"] and r["library"] == library and r["width"] == width),
                      key=lambda r: r["transistors"])


ROW_KEYS = ("design", "width", "params", "library", "optimized", "transistors", "gates", "logic_depth",
            "mean_toggles", "mean_weighted_toggles", "pareto")


# -- planning ------------------------------------------------------------------------------------------
def expand_designs(specs) -> list[str]:
    """Design names from names or kinds (``multiplier`` is every registered multiplier), in order."""
    import circuits

    everything = circuits.designs()
    kinds = sorted({d.kind for d in everything})
    names: list[str] = []
    for spec in specs:
        spec = spec.strip()
        if not spec:
            continue
        of_kind = [d.name for d in everything if d.kind == spec]
        if of_kind:
            names += [n for n in of_kind if n not in names]
            continue
        if spec not in {d.name for d in everything}:
            hint = did_you_mean(spec, [d.name for d in everything] + kinds)
            raise ExploreError(f"unknown design or kind {spec!r}{hint} (kinds: {', '.join(kinds)}; see `gatesim circuits`)")
        if spec not in names:
            names.append(spec)
    if not names:
        raise ExploreError("no designs to explore")
    return names


def plan(designs, widths, params: dict | None = None) -> tuple[list[Point], list[dict]]:
    """Points for every design x width x combination of parameter values that design takes.

    ``params``: parameter name -> list of values to sweep. A design is swept over the parameters it
    has and ignores the others; a parameter no design has is an error. Points outside a design's width
    range are skipped (listed, not fatal).
    """
    import circuits

    params = {k: list(v) for k, v in (params or {}).items()}
    ds = [circuits.get(n) for n in designs]
    for k in params:
        if not any(k in d.params for d in ds):
            allp = sorted({p for d in ds for p in d.params})
            raise ExploreError(f"no design here takes parameter {k!r}{did_you_mean(k, allp)} "
                               f"(their parameters: {', '.join(allp) or 'none'})")
    points, skipped = [], []
    for d in ds:
        own = [k for k in params if k in d.params]
        for values in itertools.product(*(params[k] for k in own)):
            combo = tuple(sorted(zip(own, values)))
            for w in widths:
                top = d.max_width if d.max_width is not None else circuits.registry.MAX_WIDTH
                if not d.min_width <= w <= top:
                    skipped.append({"design": d.name, "width": w, "params": dict(combo),
                                    "reason": f"width out of range {d.min_width}..{top}"})
                    continue
                try:
                    d.check(w, dict(combo))
                except GatesimError as e:
                    raise ExploreError(str(e)) from None
                points.append(Point(d.name, w, combo))
    return points, skipped


# -- one point (runs in a worker) ----------------------------------------------------------------------
def _optimizer():
    import gatesim

    return getattr(gatesim, "optimize", None)


def evaluate(point: Point, libraries: list[CellLibrary], vectors: int, seed: int, optimize: bool,
             plugins: tuple = (), threads: int | None = None) -> list[dict]:
    """Build, (optimize,) count and simulate one point; one row per library (``pareto`` not yet known)."""
    import circuits

    from .compile import compile_netlist
    from .counting import count
    from .simulation import _simulate, set_threads, slot_weights
    from .tables import _random_values

    if plugins:
        circuits.load_plugins(tuple(plugins))
    if threads is not None:
        set_threads(threads)
    net = circuits.build(point.design, point.width, **point.param_dict)
    opt = _optimizer() if optimize else None
    if opt is not None:
        net = opt(net)
    c = compile_netlist(net)
    rng = np.random.default_rng(seed)
    operands = {p: _random_values(rng, len(b), vectors) for p, b in net.inputs.items()}
    _, toggles, n = _simulate(c, operands, want_toggles=True, outputs=False)
    transitions = max(n - 1, 1)
    rows = []
    for lib in libraries:
        k = count(net, lib)
        weighted = float(np.dot(slot_weights(c, lib), toggles))
        rows.append({
            "design": point.design, "width": point.width, "params": point.param_dict, "library": lib.name,
            "optimized": opt is not None, "transistors": k.transistors, "gates": k.gate_count,
            "logic_depth": k.logic_depth, "mean_toggles": round(int(toggles.sum()) / transitions, 6),
            "mean_weighted_toggles": round(weighted / transitions, 6), "pareto": False,
        })
    return rows


# -- cache ---------------------------------------------------------------------------------------------
def _request(point: Point, lib: CellLibrary, vectors: int, seed: int, optimize: bool) -> dict:
    from .tables import _design_sources, code_version

    named = {point.design} | {v for _, v in point.params if isinstance(v, str)}
    return {"design": point.design, "width": point.width, "params": [list(p) for p in point.params],
            "library": lib.to_dict(), "vectors": vectors, "seed": seed,
            "optimize": bool(optimize and _optimizer() is not None), "plugins": _design_sources(named),
            "code": code_version()}


def _key(request: dict) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()[:32]


CACHE_SCHEMA = "gatesim-explore-cache/1"


def _read_cached(path: Path, request: dict) -> dict | None:
    """The cached row answering ``request``, or None (absent; or not a checksummed document for exactly this
    request with sound values: then rebuilt, with one warning line)."""
    from .datafile import read_cache_document

    if not path.exists():
        return None
    usable, row, why = read_cache_document(path, CACHE_SCHEMA, path.stem, request)
    if usable:
        why = _row_problem(row)
        if not why:
            return row
    print(f"warning: ignoring the cached {request['design']} width {request['width']} ({path}): {why}; rebuilding it",
          file=sys.stderr)
    return None


def _row_problem(row) -> str:
    """What is wrong with a cached row (empty when nothing is)."""
    import math

    if not isinstance(row, dict) or not set(ROW_KEYS) <= set(row):
        return "not a result row"
    for k in ("width", "transistors", "gates", "logic_depth"):
        if type(row[k]) is not int or row[k] < 0:
            return f"{k} must be a non-negative integer, got {row[k]!r}"
    for k in ("mean_toggles", "mean_weighted_toggles"):
        v = row[k]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            return f"{k} must be a finite non-negative number, got {v!r}"
    return ""


# -- parallel backends ---------------------------------------------------------------------------------
def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


class _Backend:
    """joblib's backend for ``name``: loky processes, or a local Dask cluster / Ray runtime (started here
    when none is running; Dask: ``address`` names a running scheduler)."""

    def __init__(self, name: str, jobs: int, address: str | None = None):
        if name not in BACKENDS:
            raise ExploreError(f"unknown backend {name!r}{did_you_mean(name, BACKENDS)} (backends: {', '.join(BACKENDS)})")
        self.name, self.jobs, self.address = name, jobs, address
        self._client = None

    def __enter__(self):
        import joblib

        if self.name == "dask":
            try:
                from dask.distributed import Client
            except ImportError:
                raise ExploreError("--backend dask needs dask.distributed: pip install 'gatesim[dask]'") from None
            self._client = Client(self.address) if self.address else Client(
                n_workers=self.jobs, threads_per_worker=1, processes=True, dashboard_address=None)
        elif self.name == "ray":
            try:
                import ray
                from ray.util.joblib import register_ray
            except ImportError:
                raise ExploreError("--backend ray needs ray: pip install 'gatesim[ray]'") from None
            register_ray()
            if not ray.is_initialized():
                ray.init(num_cpus=self.jobs, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
                self._client = ray
        self._config = joblib.parallel_config(backend=self.name, n_jobs=self.jobs)
        self._config.__enter__()
        return self

    def __exit__(self, *exc):
        self._config.__exit__(*exc)
        if self.name == "dask" and self._client is not None:
            self._client.close()
        elif self.name == "ray" and self._client is not None:
            self._client.shutdown()
        return False


# -- the sweep -----------------------------------------------------------------------------------------
def explore(
    designs,
    widths,
    libraries=("static-cmos",),
    params: dict | None = None,
    vectors: int = DEFAULT_VECTORS,
    seed: int = 0,
    optimize: bool = True,
    jobs: int | None = None,
    backend: str = "loky",
    address: str | None = None,
    cache: "bool | str | Path" = True,
    progress: bool | None = None,
    plugins: tuple = (),
) -> Exploration:
    """Sweep ``designs`` (names or kinds) x ``params`` (name -> values) x ``widths`` x ``libraries``.

    ``jobs``: parallel workers (default: the usable CPUs); ``backend``: ``loky``, ``dask`` or ``ray``;
    ``cache``: True for the table cache folder (:func:`gatesim.tables.default_cache_dir`), a folder, or False.
    Returns an :class:`Exploration` whose rows are sorted by library, width, transistors.
    """
    from tqdm import tqdm

    from .tables import default_cache_dir

    t0 = time.perf_counter()
    widths = list(widths)
    for w in widths:
        if isinstance(w, bool) or not isinstance(w, int) or w < 1:
            raise ExploreError(f"widths must be positive integers, got {w!r}")
    if isinstance(vectors, bool) or not isinstance(vectors, int) or vectors < 2:
        raise ExploreError(f"vectors must be an integer >= 2, got {vectors!r}")
    libs = [load_library(lib) for lib in libraries]
    if not libs:
        raise ExploreError("no libraries to price the designs with")
    if len({lib.name for lib in libs}) != len(libs):
        raise ExploreError("two libraries have the same name: " + ", ".join(lib.name for lib in libs))
    jobs = default_jobs() if jobs is None else jobs
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ExploreError(f"jobs must be a positive integer, got {jobs!r}")
    points, skipped = plan(expand_designs(designs), widths, params)
    cache_dir = None if cache is False else (default_cache_dir() if cache is True else Path(cache))
    if cache_dir is not None:
        cache_dir = cache_dir / "explore"
    done: dict[tuple, dict] = {}
    todo: dict[Point, list[CellLibrary]] = {}
    requests = {}
    for p in points:
        for lib in libs:
            req = _request(p, lib, vectors, seed, optimize)
            requests[(p, lib.name)] = req
            row = _read_cached(cache_dir / f"{_key(req)}.json", req) if cache_dir else None
            if row is not None:
                done[(p, lib.name)] = row
            else:
                todo.setdefault(p, []).append(lib)
    n_cached = len(done)
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(total=len(points) * len(libs), initial=n_cached, desc="explore", unit="result", disable=not show,
               file=sys.stderr)
    inline = jobs == 1 or len(todo) <= 1
    threads = None if inline else 1  # parallel processes: one simulation thread each

    def store(point: Point, rows: list[dict]) -> None:
        nonlocal cache_dir
        for row in rows:
            done[(point, row["library"])] = row
            if cache_dir is not None:
                try:
                    cache_dir.mkdir(parents=True, exist_ok=True)
                    from .datafile import write_file_atomic

                    req = requests[(point, row["library"])]
                    from .datafile import cache_document

                    key = _key(req)
                    write_file_atomic(cache_dir / f"{key}.json",
                                      json.dumps(cache_document(CACHE_SCHEMA, key, req, row), default=str))
                except OSError as e:
                    print(f"warning: cannot write the explore cache in {cache_dir} ({e.strerror or e}); "
                          "going on without it (set GATESIM_CACHE_DIR)", file=sys.stderr)
                    cache_dir = None
        bar.update(len(rows))

    work = list(todo.items())
    try:
        if inline:
            for p, ls in work:
                store(p, evaluate(p, ls, vectors, seed, optimize, tuple(plugins)))
        else:
            from joblib import Parallel, delayed

            with _Backend(backend, jobs, address):
                mode = "generator_unordered" if backend == "loky" else "list"
                run = Parallel(n_jobs=jobs, return_as=mode)(
                    delayed(_evaluate_job)(p, ls, vectors, seed, optimize, tuple(plugins), threads) for p, ls in work)
                for p, rows in run:
                    store(p, rows)
    finally:
        bar.close()
    rows = [done[(p, lib.name)] for p in points for lib in libs if (p, lib.name) in done]
    rows = mark_pareto([dict(r, pareto=False) for r in rows])
    rows.sort(key=lambda r: ([lib.name for lib in libs].index(r["library"]), r["width"], r["transistors"], r["design"]))
    return Exploration(rows, skipped, time.perf_counter() - t0, len(rows) - n_cached, n_cached,
                       backend if not inline else "inline", jobs)


def _evaluate_job(point, libraries, vectors, seed, optimize, plugins, threads):
    return point, evaluate(point, libraries, vectors, seed, optimize, plugins, threads)


def mark_pareto(rows: list[dict]) -> list[dict]:
    """Set ``pareto`` on the rows that no row of the same library and width beats on both transistors
    and logic depth (no worse on both, better on one)."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["library"], r["width"]), []).append(r)
    for group in groups.values():
        for r in group:
            r["pareto"] = not any(
                o["transistors"] <= r["transistors"] and o["logic_depth"] <= r["logic_depth"]
                and (o["transistors"] < r["transistors"] or o["logic_depth"] < r["logic_depth"]) for o in group)
    return rows


# -- the picture ---------------------------------------------------------------------------------------
def plot(exp: Exploration, path) -> None:
    """PNG of transistors (log scale) against logic depth, one panel per library, one marker per design,
    the Pareto front of each width joined by a line and ringed."""
    import io

    from matplotlib import colormaps
    from matplotlib.figure import Figure  # not pyplot: no GUI backend, faster to import

    from .datafile import write_file_atomic

    libs = list(dict.fromkeys(r["library"] for r in exp.rows))
    if not libs:
        raise ExploreError("nothing to plot: the sweep has no results")
    labels = list(dict.fromkeys(_row_label(r) for r in exp.rows))
    markers = "osD^v<>ph*"
    colors = colormaps["tab10"]
    fig = Figure(figsize=(6.5 * len(libs), 5))
    axes = fig.subplots(1, len(libs), squeeze=False)
    for ax, lib in zip(axes[0], libs):
        rows = [r for r in exp.rows if r["library"] == lib]
        for i, lab in enumerate(labels):
            mine = [r for r in rows if _row_label(r) == lab]
            if mine:
                ax.scatter([r["transistors"] for r in mine], [r["logic_depth"] for r in mine], s=36,
                           marker=markers[i % len(markers)], color=colors(i % 10), label=lab, zorder=3)
        for w in sorted({r["width"] for r in rows}):
            front = exp.front(lib, w)
            xs, ys = [r["transistors"] for r in front], [r["logic_depth"] for r in front]
            ax.plot(xs, ys, "-", color="0.4", lw=1, zorder=2, drawstyle="steps-post")
            ax.scatter(xs, ys, s=140, facecolors="none", edgecolors="black", linewidths=1.2, zorder=4)
            top = max(rows, key=lambda r: r["logic_depth"] if r["width"] == w else -1)
            ax.annotate(f"{w}-bit", (top["transistors"], top["logic_depth"]), textcoords="offset points",
                        xytext=(4, 4), fontsize=8, color="0.3")
        ax.set_xscale("log")
        ax.set_xlabel("transistors")
        ax.set_ylabel("logic depth (gates)")
        ax.set_title(f"library {lib}")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="upper left")
    fig.suptitle("design space: transistors against logic depth (ringed: Pareto front of each width)")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    write_file_atomic(path, buf.getvalue())


def _row_label(r: dict) -> str:
    extra = ", ".join(f"{k}={v}" for k, v in sorted(r["params"].items()))
    return r["design"] + (f" ({extra})" if extra else "")
