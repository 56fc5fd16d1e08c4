"""Commands on one design: ``circuits``, ``count``, ``verify``, ``activity``, ``export``."""
from __future__ import annotations

import json
import sys

import click

from ..verify import MAX_VECTORS
from .base import EXIT_FAILURE, _emit, _params, _plugins, _positive, _table, cli, np_rng

EXHAUSTIVE_MAX_BITS = 28  # --exhaustive enumerates at most 2**28 input vectors


@cli.command("circuits")
@click.option("--kind", "kinds", multiple=True, metavar="KIND",
              help="Only designs of this kind (adder, multiplier, float, shifter, ...; repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def circuits_cmd(obj, kinds, as_json):
    """List the registered circuit designs (floating-point units: --kind float)."""
    circuits = _plugins(obj)
    from circuits.registry import MAX_WIDTH

    ds = circuits.designs()
    if kinds:
        known = sorted({d.kind for d in ds})
        bad = [k for k in kinds if k not in known]
        if bad:
            raise click.BadParameter(f"unknown kind {bad[0]!r} (kinds: {', '.join(known)})", param_hint="--kind")
        ds = [d for d in ds if d.kind in kinds]
    if as_json:
        click.echo(json.dumps([
            {"name": d.name, "kind": d.kind, "description": d.description, "sized_by": d.sized_by,
             "min_width": d.min_width, "max_width": d.max_width or (MAX_WIDTH if d.sized_by == "width" else None),
             "params": d.params, "roles": list(d.roles)}
            for d in ds
        ], indent=2))
        return
    if kinds and all(d.sized_by == "format" for d in ds):  # the FP units: show their parameters
        rows = [(d.name, ", ".join(f"{k}={v}" for k, v in d.params.items()), d.description) for d in ds]
        _table(["unit (--format FMT)", "parameters (defaults)", "description"], rows)
        return
    rows = [(d.name, d.kind, "format" if d.sized_by == "format" else f"{d.min_width}..{d.max_width or MAX_WIDTH}",
             d.description) for d in ds]
    _table(["design", "kind", "size", "description"], rows)


def _build(obj, design, width, params, number_format=None, rounding=None):
    """(circuits, netlist, params): ``--format`` and ``--rounding`` join the ``--param`` values."""
    circuits = _plugins(obj)
    p = _params(params)
    if number_format is not None:
        p["format"] = number_format
    if rounding is not None:
        p["rounding"] = rounding
    return circuits, circuits.build(design, width, **p), p


def _size_text(net) -> str:
    p = net.params
    return f"format {p['format']}" if "format" in p else f"width {p.get('width')}"


def design_options(f=None, *, format_option="--format"):
    """The options every command on one design takes: DESIGN, --width or --format (the number format of a
    floating-point unit; ``format_option`` names it where --format means something else), --rounding, --param."""

    def deco(f):
        opts = [
            click.argument("design"),
            click.option("--width", "-w", type=int, callback=_positive,
                         help="Operand width in bits (integer designs; an imported design's file gives it)."),
            click.option(format_option, "number_format", metavar="FMT",
                         help="Number format of a floating-point unit: fp8-e4m3, fp8-e5m2, fp16, bf16, tf32, fp32, "
                              "fp64, eXmY (eXmYfn: no infinities), intN (fp-convert's source)."),
            click.option("--rounding", type=click.Choice(["rne", "rtz", "rdn", "rup", "rmm"]),
                         help="Rounding mode of a floating-point unit (default rne)."),
            click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
                         help="Extra design parameter (repeatable), e.g. adder=kogge-stone-adder, ftz=true, to=bf16."),
        ]
        for opt in reversed(opts):
            f = opt(f)
        return f

    return deco(f) if f is not None else deco


@cli.command("count")
@design_options
@click.option("--library", "-l", "libraries", multiple=True, default=("static-cmos",), show_default=True,
              help="Cell library: built-in name or TOML/JSON file (repeatable).")
@click.option("--raw", is_flag=True, help="Count the netlist as built (default: optimized, see gatesim.optimize).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def count_cmd(obj, design, width, number_format, rounding, params, libraries, raw, as_json):
    """Count gates, transistors and logic depth of DESIGN at --width bits (a floating-point unit: --format);
    optimized unless --raw."""
    from ..counting import count
    from ..optimization import optimize

    _, net, _ = _build(obj, design, width, params, number_format, rounding)
    counted = net if raw else optimize(net)
    results = [count(counted, lib) for lib in libraries]
    if as_json:
        docs = [dict(r.to_dict(), design=design, params=net.params, optimized=not raw) for r in results]
        click.echo(json.dumps(docs[0] if len(docs) == 1 else docs, indent=2))
        return
    for r in results:
        click.echo(f"{design} ({_size_text(net)}, {'as built' if raw else 'optimized'}) under library {r.library}")
        rows = [(g, n) for g, n in r.gates.items()]
        _table(["gate", "count"], rows)
        if r.cells:
            click.echo("cells priced as one: " + ", ".join(f"{c} x{n}" for c, n in r.cells.items()))
        click.echo(f"gates {r.gate_count}   transistors {r.transistors}   logic depth {r.logic_depth}\n")


@cli.command("verify")
@design_options
@click.option("--vectors", "-n", type=click.IntRange(1, MAX_VECTORS), default=100_000, show_default=True,
              help="Random vectors (besides edge cases) when the input space is too large to enumerate.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the random vectors.")
@click.option("--exhaustive", is_flag=True, help=f"Enumerate every input combination (up to 2**{EXHAUSTIVE_MAX_BITS}).")
@click.option("--reference", "-r", "reference_name", metavar="NAME",
              help="Reference to check against: add, sub, mul, smul, ... (gatesim.references) or a registered "
                   "design (default: DESIGN's own; an imported design needs one).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def verify_cmd(obj, design, width, number_format, rounding, params, vectors, seed, exhaustive, reference_name, as_json):
    """Simulate DESIGN against its reference model; exit 1 on any mismatch.

    Floating-point units are checked bit for bit against numpy/torch arithmetic where the platform has the
    format and rounding, and against an exact rational model elsewhere (flags always)."""
    from tqdm import tqdm

    from ..verify import EXHAUSTIVE_LIMIT, verify

    circuits, net, p = _build(obj, design, width, params, number_format, rounding)
    if reference_name:
        ref = reference_for(circuits, reference_name, net)
    elif circuits.get(design).kind == "imported":
        raise click.UsageError(f"{design} is imported and has no reference of its own: give --reference "
                               "(add, sub, mul, smul, ..., or a registered design)")
    else:
        ref = circuits.reference(design, width, **p)
    bits = sum(len(b) for b in net.inputs.values())
    if exhaustive and bits > EXHAUSTIVE_MAX_BITS:
        raise click.BadParameter(f"{design} has {bits} input bits: 2**{bits} vectors are too many to enumerate "
                                 f"(at most 2**{EXHAUSTIVE_MAX_BITS})", param_hint="--exhaustive")
    bar = tqdm(unit="vec", unit_scale=True, disable=as_json or not sys.stderr.isatty(), file=sys.stderr)
    last = [0]

    def progress(done):
        bar.update(done - last[0])
        last[0] = done

    result = verify(net, ref, vectors=vectors, seed=seed, progress=progress,
                    exhaustive_limit=(1 << bits) if exhaustive else EXHAUSTIVE_LIMIT,
                    stimulus=None if reference_name else circuits.stimulus(design, width, **p),
                    describe=None if reference_name else circuits.decoder(design, width, **p))
    bar.close()
    reference = getattr(ref, "description", None) or reference_name
    if as_json:
        doc = dict(result.to_dict(), design=design, params=net.params)
        if reference:
            doc["reference"] = reference
        click.echo(json.dumps(doc, indent=2))
    else:
        how = "exhaustive" if result.exhaustive else f"edge cases + {vectors} random (seed {seed})"
        click.echo(f"{design} {_size_text(net)}: {result.vectors} vectors ({how}) in {result.seconds:.2f} s: "
                   + ("all match" if result.ok else f"{result.mismatches} MISMATCHES")
                   + (f" (reference: {reference})" if reference else ""))
        if not result.ok:
            f = result.first_failure
            shown = f.get("decoded") or {side: {k: f"{v:#x}" for k, v in f[side].items()} for side in f}
            fmt = lambda d: ", ".join(f"{k}={v}" for k, v in d.items())  # noqa: E731
            click.echo(f"first failing vector: {fmt(shown['inputs'])}")
            click.echo(f"  expected {fmt(shown['expected'])}")
            click.echo(f"  got      {fmt(shown['got'])}")
    if not result.ok:
        sys.exit(EXIT_FAILURE)


@cli.command("activity")
@design_options
@click.option("--library", "-l", default="static-cmos", show_default=True, help="Cell library for the transistor weights.")
@click.option("--vectors", "-n", type=click.IntRange(min=2), default=100_000, show_default=True,
              help="Uniformly random input vectors, applied one after another (2 or more: toggles need a pair).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--operands", "operand_specs", multiple=True, metavar="SPEC",
              help="Operand distribution, one run per option: DIST for every port, DIST+DIST for the ports in "
                   "order, or a=DIST+b=DIST. DIST: uniform, normal:MEAN,STD, relu-normal:MEAN,STD, sparse:P,STD, "
                   "zeros, constant:V, repeated:RUN,STD, lowbits:BITS,STD, sorted:STD.")
@click.option("--no-cache", is_flag=True, help="Simulate even when the result is cached.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def activity_cmd(obj, design, width, number_format, rounding, params, library, vectors, seed, operand_specs, no_cache,
                 as_json):
    """Switching activity of DESIGN: toggles per operation, under uniformly random operands (bit patterns) or named
    distributions (--operands), compared with uniform. --format is a floating-point unit's format, and the format
    real operands are encoded in (any design: ports as wide as the format take its bit pattern, as wide as its
    significand the significand)."""
    from ..simulation import switching_activity
    from ..verify import random_vectors

    circuits = _plugins(obj)
    unit = circuits.get(design).sized_by == "format"
    _, net, _ = _build(obj, design, width, params, number_format if unit else None, rounding)
    if operand_specs or (number_format and not unit):
        from .operands import activity_under_operands

        activity_under_operands(net, design, width, library, vectors, seed, operand_specs or ("uniform",), number_format,
                                not no_cache, as_json)
        return
    widths = {p: len(b) for p, b in net.inputs.items()}
    act = switching_activity(net, library=library, **random_vectors(widths, vectors, np_rng(seed)))
    if as_json:
        click.echo(json.dumps(dict(act.to_dict(), design=design, params=net.params), indent=2))
        return
    click.echo(f"{design} ({_size_text(net)}), {act.vectors} random vectors, weights from library {act.library}")
    _table(["gate", "toggles", "per operation"], [(g, t, f"{t / max(act.transitions, 1):.2f}") for g, t in act.toggles.items()])
    click.echo(f"toggles per operation {act.mean_toggles:.2f}   transistor-weighted toggles per operation {act.mean_weighted_toggles:.1f}")


EXPORT_FORMATS = ("verilog", "yosys-verilog", "yosys-json", "blif", "json")


@cli.command("export")
@design_options(format_option="--number-format")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="verilog", show_default=True,
              help="verilog: plain structural Verilog (Verilator, Icarus, Yosys read it as is); yosys-verilog: Yosys "
                   "internal gate cells (read_verilog -icells); yosys-json: Yosys write_json format; blif; json: gatesim's own.")
@click.option("--raw", is_flag=True, help="Export the netlist as built (default: optimized, as `count` counts it).")
@click.option("--module", metavar="NAME", help="Module (model) name in the file (default: the netlist's name).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="File to write (default: stdout).")
@click.pass_obj
def export_cmd(obj, design, width, number_format, rounding, params, fmt, raw, module, output):
    """Write DESIGN's netlist (optimized unless --raw) as Verilog, Yosys JSON, BLIF or gatesim JSON (an FP unit:
    --number-format)."""
    from ..export import to_json
    from ..hdl import to_blif, to_verilog, to_yosys_json
    from ..optimization import optimize

    _, net, _ = _build(obj, design, width, params, number_format, rounding)
    if not raw:
        net = optimize(net)
    writers = {
        "verilog": lambda: to_verilog(net, module),
        "yosys-verilog": lambda: to_verilog(net, module, style="yosys"),
        "yosys-json": lambda: to_yosys_json(net, module),
        "blif": lambda: to_blif(net, module),
        "json": lambda: to_json(net),
    }
    text = writers[fmt]()
    _emit(text, output, f"{fmt}, {net.number_of_nodes()} nets")


def reference_for(circuits, name: str, net):
    """The reference function ``name`` for ``net``: a named word-level reference (gatesim.references) bound to
    its ports, or a registered design's reference at the netlist's width (its widest input), its ports matched
    by name, else by order."""
    from ..references import REFERENCES, named_reference

    if name in REFERENCES:
        return named_reference(name, net)
    d = circuits.get(name)
    if d.kind == "imported":
        raise click.UsageError(f"--reference must be a named reference or a registered design, not {name!r}")
    width = max(len(b) for b in net.inputs.values())
    ref = circuits.reference(name, width)
    model = circuits.build(name, width)
    rename_in = _match_ports(net.inputs, model.inputs, name, "input")
    rename_out = _match_ports(net.outputs, model.outputs, name, "output")
    back = {theirs: ours for ours, theirs in rename_out.items()}

    def bound(v):
        out = ref({rename_in[p]: x for p, x in v.items()})
        return {back[p]: x for p, x in out.items() if p in back}

    return bound


def _match_ports(ours: dict, theirs: dict, name: str, kind: str) -> dict:
    """Our port -> the reference design's port: by name when the names agree, else in declaration order."""
    if set(ours) == set(theirs):
        pairs = [(p, p) for p in ours]
    elif len(ours) == len(theirs):
        pairs = list(zip(ours, theirs))
    else:
        raise click.UsageError(f"{name} has {kind}s {', '.join(theirs)}; the design has {', '.join(ours)}")
    for p, q in pairs:
        if len(ours[p]) != len(theirs[q]):
            raise click.UsageError(f"{kind} {p!r} is {len(ours[p])} bits; {name}'s {q!r} is {len(theirs[q])}")
    return dict(pairs)
