"""``gatesim explore``: design-space sweeps (every design x parameter x width x library) with a Pareto plot."""
from __future__ import annotations

import json

import click

from .base import _emit, _fail_usage, _params, _plugins, _positive, _table, cli


def _list(value: str, what: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        _fail_usage(f"{what} needs at least one value")
    return items


def _widths(value: str) -> list[int]:
    out = []
    for v in _list(value, "--widths"):
        try:
            w = int(v)
        except ValueError:
            _fail_usage(f"--widths: {v!r} is not an integer")
        if w < 1:
            _fail_usage(f"--widths: {w} is not a positive integer")
        out.append(w)
    return out


def _sweep_params(items: tuple[str, ...]) -> dict:
    """``--param KEY=V1,V2`` -> {key: [v1, v2]} (each value parsed like ``count --param``)."""
    out: dict = {}
    for item in items:
        if "=" not in item:
            raise click.BadParameter(f"expected KEY=VALUE[,VALUE...], got {item!r}", param_hint="--param")
        key, values = item.split("=", 1)
        out.setdefault(key, []).extend(_params((f"{key}={v}",))[key] for v in _list(values, f"--param {key}"))
    return out


@cli.command("explore")
@click.option("--designs", "-d", required=True, metavar="LIST",
              help="Comma-separated design names or kinds (multiplier: every registered multiplier).")
@click.option("--widths", "-w", required=True, metavar="LIST", help="Comma-separated operand widths in bits.")
@click.option("--libraries", "-l", default="static-cmos", show_default=True, metavar="LIST",
              help="Comma-separated cell libraries (built-in names or TOML/JSON files).")
@click.option("--param", "params", multiple=True, metavar="KEY=V1[,V2...]",
              help="Sweep a design parameter over values, e.g. adder=ripple-carry-adder,kogge-stone-adder (repeatable).")
@click.option("--vectors", type=int, default=20_000, show_default=True, callback=_positive,
              help="Uniformly random operands per point for switching activity.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--raw", is_flag=True, help="Count the netlists as built (default: optimized, when the engine has gatesim.optimize).")
@click.option("--jobs", "-j", type=int, callback=_positive, help="Parallel workers (default: the usable CPUs).")
@click.option("--backend", type=click.Choice(["loky", "dask", "ray"]), default="loky", show_default=True,
              help="joblib backend: local processes, or a Dask cluster / Ray runtime (optional extras).")
@click.option("--scheduler", metavar="ADDRESS", help="Address of a running Dask scheduler (with --backend dask).")
@click.option("--no-cache", is_flag=True, help="Recompute every point instead of reading the on-disk cache.")
@click.option("--plot", "png", type=click.Path(dir_okay=False), default="explore.png", show_default=True,
              help="PNG of transistors against logic depth with the Pareto fronts.")
@click.option("--no-plot", is_flag=True, help="Draw no PNG.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the table or JSON to FILE instead of stdout.")
@click.pass_obj
def explore_cmd(obj, designs, widths, libraries, params, vectors, seed, raw, jobs, backend, scheduler, no_cache, png,
                no_plot, as_json, output):
    """Count and simulate every design x parameter x width x library; mark the Pareto fronts."""
    from ..explore import explore, plot

    if scheduler and backend != "dask":
        _fail_usage("--scheduler goes with --backend dask")
    if vectors < 2:
        _fail_usage("--vectors must be at least 2 (toggles compare consecutive vectors)")
    _plugins(obj)
    exp = explore(_list(designs, "--designs"), _widths(widths), _list(libraries, "--libraries"), _sweep_params(params),
                  vectors=vectors, seed=seed, optimize=not raw, jobs=jobs, backend=backend, address=scheduler,
                  cache=not no_cache, plugins=tuple((obj or {}).get("plugins", ())))
    if not no_plot and exp.rows:
        try:
            plot(exp, png)
        except OSError as e:
            raise click.ClickException(f"cannot write {png}: {e.strerror or e}")
        click.echo(f"wrote {png} (transistors against logic depth, Pareto fronts ringed)", err=True)
    if as_json:
        doc = exp.to_dict()
        if not no_plot and exp.rows:
            doc["plot"] = png
        _emit(json.dumps(doc, indent=2) + "\n", output)
        return
    import io
    from contextlib import redirect_stdout

    buf = io.StringIO()
    with redirect_stdout(buf):
        rows = [(r["library"], r["width"], r["design"] + "".join(f" {k}={v}" for k, v in sorted(r["params"].items())),
                 f"{r['transistors']:,}", r["gates"], r["logic_depth"], f"{r['mean_weighted_toggles']:,.0f}",
                 "*" if r["pareto"] else "") for r in exp.rows]
        _table(["library", "width", "design", "transistors", "gates", "depth", "weighted toggles/op", "pareto"], rows)
        for s in exp.skipped:
            click.echo(f"skipped {s['design']} at width {s['width']}: {s['reason']}")
        click.echo(f"{len(exp.rows)} results ({exp.computed} computed, {exp.cached} from the cache) in {exp.seconds:.1f} s, "
                   f"{exp.jobs} jobs ({exp.backend}); optimized: {'yes' if any(r['optimized'] for r in exp.rows) else 'no'}")
    _emit(buf.getvalue(), output)
