"""Command-line interface: a thin click layer over the public API. Every command has ``--json``."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from .errors import GatesimError

EXIT_FAILURE = 1
EXIT_USAGE = 2


def _fail_usage(msg: str):
    raise click.UsageError(msg)


class _Group(click.Group):
    """Every error is one line on stderr: ``Error: ...``, exit 2 for bad input (usage errors and
    gatesim's own errors), 1 for failures. An unexpected exception is one line too, naming its type;
    set ``GATESIM_TRACEBACK=1`` to see the traceback instead.

    Commands in ``lazy`` (name -> factory) are built on first use, so ``gatesim table`` does not pay
    for importing torch.
    """

    lazy: dict = {}

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx, name):
        if name not in self.commands and name in self.lazy:
            self.add_command(self.lazy[name](), name)
        return super().get_command(ctx, name)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as e:
            _error(e.format_message(), EXIT_USAGE)
        except click.ClickException as e:
            _error(e.format_message(), e.exit_code)
        except GatesimError as e:
            _error(str(e), EXIT_USAGE)
        except click.exceptions.Abort:
            _error("aborted", EXIT_FAILURE)
        except KeyboardInterrupt:
            _error("interrupted", 130)
        except Exception as e:  # a bug or an unforeseen input: still one line, unless asked otherwise
            if os.environ.get("GATESIM_TRACEBACK"):
                raise
            _error(f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''} "
                   f"(set GATESIM_TRACEBACK=1 for the traceback)", EXIT_FAILURE)
        sys.exit(rv if isinstance(rv, int) else 0)


def _error(message: str, code: int):
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def _plugins(ctx_obj):
    import circuits

    circuits.load_plugins(tuple(ctx_obj.get("plugins", ())))
    return circuits


def _positive(ctx, param, value):
    if value is not None and value < 1:
        raise click.BadParameter(f"must be a positive integer, got {value}")
    return value


def _params(values: tuple[str, ...]) -> dict:
    """``--param key=value`` pairs; values parsed as JSON when possible (ints, booleans), else strings."""
    out = {}
    for item in values:
        if "=" not in item:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--param")
        k, v = item.split("=", 1)
        try:
            out[k] = json.loads(v)
        except ValueError:
            out[k] = v
    return out


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gatesim")
@click.option("--plugin", "plugins", multiple=True, metavar="MODULE", help="Import MODULE to register extra circuit designs.")
@click.pass_context
def cli(ctx, plugins):
    """gatesim: gate-level ALU netlists, transistor counts and bit-parallel simulation."""
    ctx.obj = {"plugins": plugins}
    if plugins:
        import circuits

        circuits.load_plugins(tuple(plugins))


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
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def count_cmd(obj, design, width, params, libraries, as_json):
    """Count gates, transistors and logic depth of DESIGN at --width bits."""
    from .counting import count

    _, net = _build(obj, design, width, params)
    results = [count(net, lib) for lib in libraries]
    if as_json:
        docs = [dict(r.to_dict(), design=design, params=net.params) for r in results]
        click.echo(json.dumps(docs[0] if len(docs) == 1 else docs, indent=2))
        return
    for r in results:
        click.echo(f"{design} (width {width}) under library {r.library}")
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

    from .verify import verify

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
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def activity_cmd(obj, design, width, params, library, vectors, seed, as_json):
    """Switching activity of DESIGN under uniformly random operands: toggles per operation."""
    from .simulation import switching_activity
    from .verify import random_vectors

    _, net = _build(obj, design, width, params)
    widths = {p: len(b) for p, b in net.inputs.items()}
    act = switching_activity(net, library=library, **random_vectors(widths, vectors, np_rng(seed)))
    if as_json:
        click.echo(json.dumps(dict(act.to_dict(), design=design, params=net.params), indent=2))
        return
    click.echo(f"{design} (width {width}), {act.vectors} random vectors, weights from library {act.library}")
    _table(["gate", "toggles", "per operation"], [(g, t, f"{t / max(act.transitions, 1):.2f}") for g, t in act.toggles.items()])
    click.echo(f"toggles per operation {act.mean_toggles:.2f}   transistor-weighted toggles per operation {act.mean_weighted_toggles:.1f}")


def np_rng(seed):
    import numpy as np

    return np.random.default_rng(seed)


@cli.command("table")
@click.option("--hardware", "-H", metavar="FILE|NAME", help="Hardware profile (TOML file or built-in: paper, throughput, edge-int8).")
@click.option("--adder", help="Registered adder design (default ripple-carry-adder).")
@click.option("--multiplier", help="Registered multiplier design (default booth-wallace-multiplier).")
@click.option("--divider", help="Registered divider design (default srt-divider).")
@click.option("--root", help="Registered square-root design (default newton-raphson-sqrt).")
@click.option("--comparator", help="Registered comparator design (default magnitude-comparator).")
@click.option("--library", "-l", help="Cell library (default paper).")
@click.option("--mode", help="Accounting mode (default paper).")
@click.option("--formats", "-f", metavar="LIST", help="Comma-separated formats, e.g. fp16,bf16,fp32.")
@click.option("--operations", metavar="LIST", help="Comma-separated operations (default: add,sub,mul,div,root,compare).")
@click.option("--vectors", type=int, default=20_000, show_default=True, callback=_positive,
              help="Random operands per entry for switching activity.")
@click.option("--no-cache", is_flag=True, help="Rebuild every entry instead of reading the on-disk cache.")
@click.option("--json", "as_json", is_flag=True, help="The table as JSON (the format TransistorTable.load reads).")
@click.option("--csv", "as_csv", is_flag=True, help="The table as CSV.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to FILE instead of stdout.")
def table_cmd(hardware, adder, multiplier, divider, root, comparator, library, mode, formats, operations, vectors,
              no_cache, as_json, as_csv, output):
    """Transistors per basic operation and number format, from gate-level netlists."""
    from .hardware import load_hardware
    from .tables import DEFAULT_FORMATS, OPERATIONS, DesignSelection, build_table

    if as_json and as_csv:
        _fail_usage("choose one of --json and --csv")
    flags = {"adder": adder, "multiplier": multiplier, "divider": divider, "root": root, "comparator": comparator}
    chosen = {k: v for k, v in flags.items() if v}
    fmt_list = [f.strip() for f in formats.split(",") if f.strip()] if formats is not None else None
    ops = [o.strip() for o in operations.split(",") if o.strip()] if operations is not None else list(OPERATIONS)
    if fmt_list == [] or ops == []:
        _fail_usage("--formats and --operations need at least one name each")
    if hardware:
        if chosen or library or mode:
            _fail_usage("--hardware already names the designs, library and mode; drop the other flags or the profile")
        prof = load_hardware(hardware)
        tab = prof.build_table(fmt_list, operations=ops, vectors=vectors, cache=not no_cache)
    else:
        sel = DesignSelection(**chosen)
        sel.check()
        tab = build_table(sel, library or "paper", mode or "paper", fmt_list or DEFAULT_FORMATS, ops,
                          vectors=vectors, cache=not no_cache)
    if not tab.entries:
        raise click.ClickException(f"mode {tab.mode!r} has no unit for {', '.join(ops)} on {', '.join(tab.formats)}")
    if as_json:
        text = tab.to_json() + "\n"
    elif as_csv:
        text = tab.to_csv()
    else:
        text = _render_table(tab)
    _emit(text, output)


def _render_table(tab) -> str:
    import io
    from contextlib import redirect_stdout

    buf = io.StringIO()
    sel = tab.selection
    with redirect_stdout(buf):
        click.echo(f"transistor table {tab.name or ''} (mode {tab.mode}, library {tab.library})".replace("  ", " "))
        click.echo("designs: " + ", ".join(f"{r}={sel[r]}" for r in sel if r != "params")
                   + (f"; params {sel['params']}" if sel.get("params") else ""))
        rows = [(e.format, e.operation, f"{e.transistors:,}", e.gates, e.logic_depth, f"{e.mean_weighted_toggles:,.0f}")
                for e in tab.entries.values()]
        _table(["format", "operation", "transistors", "gates", "depth", "weighted toggles/op"], rows)
    return buf.getvalue()


@cli.command("export")
@design_options
@click.option("--format", "fmt", type=click.Choice(["verilog", "json"]), default="verilog", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="File to write (default: stdout).")
@click.pass_obj
def export_cmd(obj, design, width, params, fmt, output):
    """Write DESIGN's netlist as structural Verilog (Yosys gate cells) or gatesim JSON."""
    from .export import to_json, to_verilog

    _, net = _build(obj, design, width, params)
    text = to_verilog(net) if fmt == "verilog" else to_json(net)
    _emit(text, output, f"{fmt}, {net.number_of_nodes()} nets")


def _emit(text: str, output: str | None, what: str = "") -> None:
    """Write ``text`` to ``output`` (saying so on stderr), or to stdout when no file is given."""
    if not output:
        click.echo(text, nl=False)
        return
    try:
        Path(output).write_text(text)
    except OSError as e:
        raise click.ClickException(f"cannot write {output}: {e.strerror or e}")
    click.echo(f"wrote {output}" + (f" ({what})" if what else ""), err=True)


def _table(headers, rows):
    rows = [[str(c) for c in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
    click.echo("  ".join("-" * w for w in widths))
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


def _estimate_command() -> click.Command:
    """``gatesim estimate``: the models room's command plus ``--table`` / ``--hardware`` for TOs."""
    from .models.cli import estimate

    def callback(table, hardware, **kwargs):
        ctx = click.get_current_context()
        if table and hardware:
            _fail_usage("give --table or --hardware, not both")
        if table or hardware:
            from .tables import TransistorTable

            if table:
                tab = TransistorTable.load(table)
            else:
                from .hardware import load_hardware

                prof = load_hardware(hardware)
                names = [f.name for f in prof.formats]
                # the model's own format, fp32 (optimizer state, accumulators) and int64 (step counters)
                from .models.bo import normalize_format

                for extra in (normalize_format(kwargs.get("dtype") or "fp32"), "fp32", "int64"):
                    if extra not in names:
                        names.append(extra)
                tab = prof.build_table(names)
            ctx.obj = dict(ctx.obj or {}, transistor_table=tab)
        return estimate.callback(**kwargs)

    params = list(estimate.params) + [
        click.Option(["--table"], type=click.Path(dir_okay=False), help="Transistor table JSON (from `gatesim table --json`) for TOs."),
        click.Option(["--hardware"], metavar="FILE|NAME", help="Hardware profile whose transistor table prices TOs."),
    ]
    return click.Command("estimate", params=params, callback=callback, help=estimate.help, short_help=estimate.short_help)


cli.lazy = {"estimate": _estimate_command}


def _add_calibration_commands() -> None:
    """``meters``, ``measure``, ``sweep``, ``fit``, ``predict`` from the calibration room."""
    from calibration.cli import COMMANDS

    for command in COMMANDS:
        cli.add_command(command)


_add_calibration_commands()


def main():
    cli(prog_name="gatesim")


if __name__ == "__main__":
    main()
