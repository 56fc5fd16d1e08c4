"""Commands on one design: ``circuits``, ``count``, ``verify``, ``activity``, ``export``."""
from __future__ import annotations

import json
import sys

import click

from .base import EXIT_FAILURE, _emit, _params, _plugins, _positive, _table, cli, np_rng


@cli.command("circuits")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def circuits_cmd(obj, as_json):
    """List the registered circuit designs."""
    circuits = _plugins(obj)
    ds = circuits.designs()
    if as_json:
        click.echo(json.dumps([
            {"name": d.name, "kind": d.kind, "description": d.description, "min_width": d.min_width,
             "max_width": d.max_width, "params": d.params} for d in ds
        ], indent=2))
        return
    rows = [(d.name, d.kind, f"{d.min_width}..{d.max_width or ''}", d.description) for d in ds]
    _table(["design", "kind", "widths", "description"], rows)


def _build(obj, design, width, params):
    circuits = _plugins(obj)
    return circuits, circuits.build(design, width, **_params(params))


_design_options = [
    click.argument("design"),
    click.option("--width", "-w", type=int, required=True, callback=_positive, help="Operand width in bits."),
    click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="Extra design parameter (repeatable)."),
]


def design_options(f):
    for opt in reversed(_design_options):
        f = opt(f)
    return f


@cli.command("count")
@design_options
@click.option("--library", "-l", "libraries", multiple=True, default=("static-cmos",), show_default=True,
              help="Cell library: built-in name or TOML/JSON file (repeatable).")
@click.option("--raw", is_flag=True, help="Count the netlist as built (default: optimized, see gatesim.optimize).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def count_cmd(obj, design, width, params, libraries, raw, as_json):
    """Count gates, transistors and logic depth of DESIGN at --width bits (optimized unless --raw)."""
    from ..counting import count
    from ..optimization import optimize

    _, net = _build(obj, design, width, params)
    counted = net if raw else optimize(net)
    results = [count(counted, lib) for lib in libraries]
    if as_json:
        docs = [dict(r.to_dict(), design=design, params=net.params, optimized=not raw) for r in results]
        click.echo(json.dumps(docs[0] if len(docs) == 1 else docs, indent=2))
        return
    for r in results:
        click.echo(f"{design} (width {width}, {'as built' if raw else 'optimized'}) under library {r.library}")
        rows = [(g, n) for g, n in r.gates.items()]
        _table(["gate", "count"], rows)
        if r.cells:
            click.echo("cells priced as one: " + ", ".join(f"{c} x{n}" for c, n in r.cells.items()))
        click.echo(f"gates {r.gate_count}   transistors {r.transistors}   logic depth {r.logic_depth}\n")


@cli.command("verify")
@design_options
@click.option("--vectors", "-n", type=int, default=100_000, show_default=True, callback=_positive,
              help="Random vectors (besides edge cases) when the input space is too large to enumerate.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the random vectors.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def verify_cmd(obj, design, width, params, vectors, seed, as_json):
    """Simulate DESIGN against its Python-integer reference; exit 1 on any mismatch."""
    from tqdm import tqdm

    from ..verify import verify

    circuits, net = _build(obj, design, width, params)
    ref = circuits.reference(design, width, **_params(params))
    bar = tqdm(unit="vec", unit_scale=True, disable=as_json or not sys.stderr.isatty(), file=sys.stderr)
    last = [0]

    def progress(done):
        bar.update(done - last[0])
        last[0] = done

    result = verify(net, ref, vectors=vectors, seed=seed, progress=progress)
    bar.close()
    if as_json:
        click.echo(json.dumps(dict(result.to_dict(), design=design, params=net.params), indent=2))
    else:
        how = "exhaustive" if result.exhaustive else f"edge cases + {vectors} random (seed {seed})"
        click.echo(f"{design} width {width}: {result.vectors} vectors ({how}) in {result.seconds:.2f} s: "
                   + ("all match" if result.ok else f"{result.mismatches} MISMATCHES"))
        if not result.ok:
            f = result.first_failure
            fmt = lambda d: ", ".join(f"{k}={v:#x}" for k, v in d.items())  # noqa: E731
            click.echo(f"first failing vector: {fmt(f['inputs'])}")
            click.echo(f"  expected {fmt(f['expected'])}")
            click.echo(f"  got      {fmt(f['got'])}")
    if not result.ok:
        sys.exit(EXIT_FAILURE)


@cli.command("activity")
@design_options
@click.option("--library", "-l", default="static-cmos", show_default=True, help="Cell library for the transistor weights.")
@click.option("--vectors", "-n", type=int, default=100_000, show_default=True, callback=_positive,
              help="Uniformly random input vectors, applied one after another.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--operands", "operand_specs", multiple=True, metavar="SPEC",
              help="Operand distribution, one run per option: DIST for every port, DIST+DIST for the ports in "
                   "order, or a=DIST+b=DIST. DIST: uniform, normal:MEAN,STD, relu-normal:MEAN,STD, sparse:P,STD, "
                   "zeros, constant:V, repeated:RUN,STD, lowbits:BITS,STD, sorted:STD.")
@click.option("--format", "fmt", default=None, help="Encode real operands in this number format (fp32, bf16, ...): "
              "ports as wide as the format take its bit pattern, as wide as its significand the significand.")
@click.option("--no-cache", is_flag=True, help="Simulate even when the result is cached.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def activity_cmd(obj, design, width, params, library, vectors, seed, operand_specs, fmt, no_cache, as_json):
    """Switching activity of DESIGN: toggles per operation, under uniformly random operands or named
    distributions (--operands), compared with uniform."""
    from ..simulation import switching_activity
    from ..verify import random_vectors

    _, net = _build(obj, design, width, params)
    if operand_specs or fmt:
        from .operands import activity_under_operands

        activity_under_operands(net, design, width, library, vectors, seed, operand_specs or ("uniform",), fmt,
                                not no_cache, as_json)
        return
    widths = {p: len(b) for p, b in net.inputs.items()}
    act = switching_activity(net, library=library, **random_vectors(widths, vectors, np_rng(seed)))
    if as_json:
        click.echo(json.dumps(dict(act.to_dict(), design=design, params=net.params), indent=2))
        return
    click.echo(f"{design} (width {width}), {act.vectors} random vectors, weights from library {act.library}")
    _table(["gate", "toggles", "per operation"], [(g, t, f"{t / max(act.transitions, 1):.2f}") for g, t in act.toggles.items()])
    click.echo(f"toggles per operation {act.mean_toggles:.2f}   transistor-weighted toggles per operation {act.mean_weighted_toggles:.1f}")


@cli.command("export")
@design_options
@click.option("--format", "fmt", type=click.Choice(["verilog", "json"]), default="verilog", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="File to write (default: stdout).")
@click.pass_obj
def export_cmd(obj, design, width, params, fmt, output):
    """Write DESIGN's netlist as structural Verilog (Yosys gate cells) or gatesim JSON."""
    from ..export import to_json, to_verilog

    _, net = _build(obj, design, width, params)
    text = to_verilog(net) if fmt == "verilog" else to_json(net)
    _emit(text, output, f"{fmt}, {net.number_of_nodes()} nets")
