"""Commands that meet other hardware tools: ``import`` (Verilog, Yosys JSON, BLIF) and ``equiv`` (formal equivalence)."""
from __future__ import annotations

import json
import sys

import click

from .base import EXIT_FAILURE, _emit, _params, _plugins, _positive, cli


@cli.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--top", metavar="MODULE", help="Top module (default: the one Yosys finds; BLIF: the first model).")
@click.option("--kind", type=click.Choice(["verilog", "json", "blif"]), help="File kind (default: by suffix).")
@click.option("--abc", "use_abc", is_flag=True,
              help="Map RTL with ABC onto every gatesim gate type (abc -g) instead of Yosys techmap.")
@click.option("--define", "-D", "defines", multiple=True, metavar="NAME[=VALUE]", help="Verilog define (repeatable).")
@click.option("--include-dir", "-I", "include_dirs", multiple=True, type=click.Path(file_okay=False),
              help="Verilog include folder (repeatable).")
@click.option("--no-cache", is_flag=True, help="Run Yosys again instead of reading the import cache.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the netlist as gatesim JSON to FILE.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable summary.")
def import_cmd(files, top, kind, use_abc, defines, include_dirs, no_cache, output, as_json):
    """Import a design: synthesize Verilog / SystemVerilog onto gatesim's gates with Yosys, or read a gate-level
    Yosys JSON or BLIF netlist. Ports keep their names, widths and bit order; combinational logic only."""
    from pathlib import Path

    from ..counting import count
    from ..export import to_json
    from ..hdl.importing import import_file, kind_of, read_verilog

    flow = "abc" if use_abc else "techmap"
    kinds = {kind or kind_of(Path(f)) for f in files}
    if len(kinds) > 1:
        raise click.UsageError(f"the files are of different kinds ({', '.join(sorted(kinds))}); import one design at a time")
    k = kinds.pop()
    if k == "verilog":
        defs = dict(d.split("=", 1) if "=" in d else (d, None) for d in defines)
        net = read_verilog(list(files), top, flow=flow, include_dirs=include_dirs, defines=defs, cache=not no_cache)
    elif defines or include_dirs:
        raise click.UsageError("--define and --include-dir apply to Verilog files only")
    else:
        net = import_file(list(files), top, kind=k, flow=flow, cache=not no_cache)
    c = count(net, "yosys-cmos")
    src = net.graph.get("source", {})
    summary = {"design": net.name, "inputs": c.inputs, "outputs": c.outputs, "gate_count": c.gate_count,
               "gates": c.gates, "transistors_yosys_cmos": c.transistors, "logic_depth": c.logic_depth,
               "source": src}
    if output:
        _emit(to_json(net), output, f"gatesim JSON, {c.gate_count} gates")
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    ports = lambda d: ", ".join(f"{p}[{w}]" for p, w in d.items())
    how = ("read as it is (gate level)" if not src.get("mapped", False) else
           f"synthesized by Yosys ({src.get('flow')})") if src.get("format") in ("verilog", "yosys-json") else "read as it is"
    click.echo(f"{net.name}: {ports(c.inputs)} -> {ports(c.outputs)}; {how}")
    click.echo(f"gates {c.gate_count}   transistors (yosys-cmos) {c.transistors}   logic depth {c.logic_depth}")
    if src.get("yosys_transistors") is not None:
        click.echo(f"Yosys stat -tech cmos of the mapped netlist: {src['yosys_transistors']} transistors")
    for note in src.get("notes", []):
        click.echo(f"note: {note}", err=True)


@cli.command("equiv")
@click.argument("design_a")
@click.argument("design_b")
@click.option("--width", "-w", type=int, callback=_positive,
              help="Operand width of both (an imported design's file gives its own).")
@click.option("--a-param", "params_a", multiple=True, metavar="KEY=VALUE", help="Parameter of DESIGN_A (repeatable).")
@click.option("--b-param", "params_b", multiple=True, metavar="KEY=VALUE", help="Parameter of DESIGN_B (repeatable).")
@click.option("--raw", is_flag=True, help="Compare the netlists as built (default: optimized, as counted).")
@click.option("--method", type=click.Choice(["auto", "exhaustive", "prove", "abc", "sat"]), default="auto",
              show_default=True, help="auto: exhaustive simulation up to 2^20 input combinations, else for two "
              "multipliers proofs of both against a*b (prove), else ABC's &cec; sat: Yosys sat.")
@click.option("--timeout", type=float, default=60.0, show_default=True, help="Seconds the proof may take.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def equiv_cmd(obj, design_a, design_b, width, params_a, params_b, raw, method, timeout, as_json):
    """Prove DESIGN_A and DESIGN_B compute the same function (ports matched by name), or show a counterexample.

    Exit 0 when proven equal, 1 when they differ or nothing could be proven within --timeout."""
    from ..equivalence import equivalent
    from ..optimization import optimize

    if timeout <= 0:
        raise click.BadParameter("must be positive", param_hint="--timeout")
    circuits = _plugins(obj)
    imported = [circuits.get(d).kind == "imported" for d in (design_a, design_b)]
    if width is None and any(imported):  # an imported design lends its width to the other
        width = circuits.get(design_a if imported[0] else design_b).min_width
    nets = []
    for d, params in ((design_a, params_a), (design_b, params_b)):
        net = circuits.build(d, width, **_params(params))
        nets.append(net if raw else optimize(net))
    r = equivalent(nets[0], nets[1], timeout=timeout, method=method)
    if as_json:
        click.echo(json.dumps(dict(r.to_dict(), a=design_a, b=design_b), indent=2))
    else:
        verdict = {True: "EQUIVALENT", False: "DIFFERENT", None: "UNDECIDED"}[r.equal]
        click.echo(f"{design_a} vs {design_b}: {verdict} ({r.method}, {r.seconds:.2f} s): {r.detail}")
        if r.counterexample:
            cx = r.counterexample
            fmt = lambda d: ", ".join(f"{k}={v:#x}" for k, v in d.items())
            click.echo(f"counterexample: {fmt(cx['inputs'])}")
            click.echo(f"  {design_a}: {fmt(cx['a'])}")
            click.echo(f"  {design_b}: {fmt(cx['b'])}")
    if r.equal is not True:
        sys.exit(EXIT_FAILURE)
