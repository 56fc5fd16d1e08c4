"""``gatesim table`` (transistors per operation and format) and ``gatesim estimate`` with a table for TOs."""
from __future__ import annotations

import click

from .activity import ACTIVITY_HELP, resolve_activity
from .base import _emit, _fail_usage, _params, _positive, _table, cli


@cli.command("table")
@click.option("--hardware", "-H", metavar="FILE|NAME", help="Hardware profile (TOML file or built-in: gpu-like, paper, throughput, edge-int8).")
@click.option("--adder", help="Registered adder design (default ripple-carry-adder).")
@click.option("--multiplier", help="Multiplier design (default booth-wallace-multiplier); any role also takes an "
              "imported design: verilog:PATH[:TOP], json:PATH, blif:PATH.")
@click.option("--divider", help="Registered divider design (default srt-divider).")
@click.option("--root", help="Registered square-root design (default newton-raphson-sqrt).")
@click.option("--comparator", help="Registered comparator design (default magnitude-comparator).")
@click.option("--param", "role_params", multiple=True, metavar="ROLE.KEY=VALUE",
              help="Parameter of one role's design, e.g. multiplier.adder=kogge-stone-adder (repeatable).")
@click.option("--library", "-l", help="Cell library (default paper).")
@click.option("--mode", help="Accounting mode: ieee (complete IEEE 754 units, optimized; default) or paper.")
@click.option("--formats", "-f", metavar="LIST", help="Comma-separated formats, e.g. fp16,bf16,fp32.")
@click.option("--operations", metavar="LIST",
              help="Comma-separated operations (default: add,sub,mul,div,root,compare,fma; fma in the ieee mode only).")
@click.option("--vectors", type=click.IntRange(min=2), default=20_000, show_default=True,
              help="Random operands per entry for switching activity (2 or more: toggles need a pair).")
@click.option("--activity", metavar="SPEC|sampled", help=ACTIVITY_HELP)
@click.option("--model", "sample_model", metavar="MODEL", help="--activity sampled: the model to sample operands from "
              "(a built-in, path/to/file.py:factory, package.module:attr or a zoo spec).")
@click.option("--input-shape", "input_shapes", multiple=True, metavar="N,D,...", help="--activity sampled: input shape.")
@click.option("--level", type=click.Choice(["training", "validation", "inference"]), default="training",
              show_default=True, help="--activity sampled: which passes to sample (training adds backward).")
@click.option("--samples", type=int, default=4096, show_default=True, callback=_positive,
              help="--activity sampled: operations sampled per op family.")
@click.option("--no-cache", is_flag=True, help="Rebuild every entry instead of reading the on-disk cache.")
@click.option("--json", "as_json", is_flag=True, help="The table as JSON (the format TransistorTable.load reads).")
@click.option("--csv", "as_csv", is_flag=True, help="The table as CSV.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to FILE instead of stdout.")
def table_cmd(hardware, adder, multiplier, divider, root, comparator, role_params, library, mode, formats, operations,
              vectors, activity, sample_model, input_shapes, level, samples, no_cache, as_json, as_csv, output):
    """Transistors per basic operation and number format, from gate-level netlists."""
    from ..hardware import load_hardware
    from ..tables import DEFAULT_FORMATS, DEFAULT_LIBRARY, DEFAULT_MODE, TABLE_OPERATIONS, DesignSelection, build_table

    if as_json and as_csv:
        _fail_usage("choose one of --json and --csv")
    flags = {"adder": adder, "multiplier": multiplier, "divider": divider, "root": root, "comparator": comparator}
    chosen = {k: v for k, v in flags.items() if v}
    fmt_list = [f.strip() for f in formats.split(",") if f.strip()] if formats is not None else None
    ops = [o.strip() for o in operations.split(",") if o.strip()] if operations is not None else list(TABLE_OPERATIONS)
    if fmt_list == [] or ops == []:
        _fail_usage("--formats and --operations need at least one name each")
    params = _role_params(role_params)
    if (sample_model or input_shapes) and (activity or "").strip().lower() != "sampled":
        _fail_usage("--model and --input-shape name what --activity sampled samples; add --activity sampled")
    act = resolve_activity(activity, sample_model, input_shapes, level=level, samples=samples, cache=not no_cache)
    if hardware:
        if chosen or params or library or mode:
            _fail_usage("--hardware already names the designs, library and mode; drop the other flags or the profile")
        prof = load_hardware(hardware)
        tab = prof.build_table(fmt_list, operations=ops, vectors=vectors, cache=not no_cache, activity=act)
    else:
        sel = DesignSelection(**chosen, params=params)
        sel.check()
        tab = build_table(sel, library or DEFAULT_LIBRARY, mode or DEFAULT_MODE, fmt_list or DEFAULT_FORMATS, ops,
                          vectors=vectors, cache=not no_cache, activity=act)
    if not tab.entries:
        raise click.ClickException(f"mode {tab.mode!r} has no unit for {', '.join(ops)} on {', '.join(tab.formats)}")
    if as_json:
        text = tab.to_json() + "\n"
    elif as_csv:
        text = tab.to_csv()
    else:
        text = _render_table(tab)
    for line in tab.substitution_notes():
        click.echo(line, err=True)
    _emit(text, output)


def _role_params(items: tuple[str, ...]) -> dict:
    """``--param ROLE.KEY=VALUE`` pairs as ``{role: {key: value}}`` (values parsed as in ``--param`` of ``count``)."""
    from ..tables import ROLES

    out: dict = {}
    for item in items:
        key = item.split("=", 1)[0]
        if "." not in key:
            _fail_usage(f"--param {item!r}: name the role, as in multiplier.{key or 'KEY'}=VALUE (roles: {', '.join(ROLES)})")
        role, name = key.split(".", 1)
        if role not in ROLES:
            from ..errors import did_you_mean

            _fail_usage(f"--param {item!r}: unknown role {role!r}{did_you_mean(role, ROLES)} (roles: {', '.join(ROLES)})")
        out.setdefault(role, {}).update(_params((name + item[len(key):],)))
    return out


def _render_table(tab) -> str:
    import io
    from contextlib import redirect_stdout

    buf = io.StringIO()
    sel = tab.selection
    with redirect_stdout(buf):
        click.echo(f"transistor table {tab.name or ''} (mode {tab.mode}, library {tab.library})".replace("  ", " ")
                   + (f"; toggles under operands {tab.activity}" if tab.activity else ""))
        click.echo("designs: " + ", ".join(f"{r}={sel[r]}" for r in sel if r != "params")
                   + (f"; params {sel['params']}" if sel.get("params") else ""))
        rows = [(e.format, e.operation, f"{e.transistors:,}", e.gates, e.logic_depth, f"{e.mean_weighted_toggles:,.0f}")
                for e in tab.entries.values()]
        _table(["format", "operation", "transistors", "gates", "depth", "weighted toggles/op"], rows)
        for name, f in tab.formats.items():
            if isinstance(f, dict) and f.get("overrides_builtin"):
                b = f["overrides_builtin"]
                click.echo(f"note: {name} is the profile's own format ({f['exponent_bits']} exponent, "
                           f"{f['significand_bits']} significand bits), overriding the built-in "
                           f"({b['exponent_bits']}, {b['significand_bits']})")
    return buf.getvalue()


def table_formats(names, profile=None) -> list:
    """:class:`NumberFormat` objects for format names a model's report uses: built-in ones, the profile's custom
    ones, and integer formats of any width by name (``uint8``, ``int24``), built on demand."""
    import re

    from ..formats import FormatError, NumberFormat, get_format

    custom = {f.name: f for f in (profile.formats if profile is not None else ())}
    out = []
    for n in names:
        try:
            out.append(get_format(n, custom))
        except FormatError:
            m = re.fullmatch(r"u?int(\d+)", n)
            if not m:
                raise
            out.append(NumberFormat(n, "int", 0, int(m.group(1))))
    return out


def _estimate_command() -> click.Command:
    """``gatesim estimate``: the models room's command plus ``--table`` / ``--hardware`` for TOs. Without either,
    :func:`gatesim.hardware.default_profile` (ieee mode) prices every format the model's ops use (entries built on
    demand, cached)."""
    from ..models.cli import estimate

    def callback(table, hardware, no_tos, activity, samples, profile, **kwargs):
        ctx = click.get_current_context()
        if table and hardware:
            _fail_usage("give --table or --hardware, not both")
        if no_tos and (table or hardware):
            _fail_usage("--no-tos leaves out the TOs that --table / --hardware price")
        if activity and (table or no_tos):
            _fail_usage("--activity simulates the units of --hardware (or the default profile); a --table file "
                        "has its toggles already")
        if profile and no_tos:
            _fail_usage("--profile predicts energy from the TOs that --no-tos leaves out")
        from .energy import default_energy_annotation, profile_annotation

        if table:
            from ..tables import TransistorTable

            tab = TransistorTable.load(table)
            ctx.obj = dict(ctx.obj or {}, transistor_table=tab,
                           annotate=profile_annotation(profile) if profile else default_energy_annotation(tab))
        elif not no_tos:
            from ..hardware import default_profile, load_hardware

            prof = load_hardware(hardware) if hardware else default_profile()
            if prof.accumulate and not kwargs.get("accumulate"):  # the profile's accumulators; the flag wins
                kwargs["accumulate"] = prof.accumulate
            options = {k: kwargs.get(k) for k in ("width", "activation", "layers", "image")}
            act = resolve_activity(activity, kwargs["model"], kwargs["input_shapes"],
                                   level=kwargs["level"], samples=samples, builtin_options=options,
                                   dtype=kwargs.get("dtype") if kwargs.get("dtype") != "fp32" else None)

            def table_for(formats):
                tab = prof.build_table(table_formats(list(formats), prof), activity=act)
                for line in tab.substitution_notes():
                    click.echo(line, err=True)
                return tab

            def reference_table():  # what the published energies are fitted to: the profile's units, own operands
                from calibration.published import reference_formats

                return prof.build_table(table_formats(reference_formats(), prof), operations=["add", "mul"])

            ctx.obj = dict(ctx.obj or {}, transistor_table_for=table_for, timing=prof.timing,
                           annotate=profile_annotation(profile) if profile else default_energy_annotation(reference_table))
        return estimate.callback(**kwargs)

    params = list(estimate.params) + [
        click.Option(["--table"], type=click.Path(dir_okay=False), help="Transistor table JSON (from `gatesim table --json`) for TOs."),
        click.Option(["--hardware"], metavar="FILE|NAME",
                     help="Hardware profile whose transistor table prices TOs (default: gatesim's defaults, as "
                          "`gatesim table` with no flags; the table covers every format the model uses, built on "
                          "demand and cached)."),
        click.Option(["--no-tos"], is_flag=True, help="Count only: no transistor table, no TOs column."),
        click.Option(["--activity"], metavar="SPEC|sampled", help=ACTIVITY_HELP),
        click.Option(["--samples"], type=int, default=4096, show_default=True, callback=_positive,
                     help="--activity sampled: operations sampled per op family."),
        click.Option(["--profile"], type=click.Path(dir_okay=False, exists=True), metavar="FILE",
                     help="Energy from a fitted calibration profile (gatesim fit -o FILE) instead of the built-in "
                          "estimate from published per-operation energies."),
    ]
    return click.Command("estimate", params=params, callback=callback, help=estimate.help, short_help=estimate.short_help)


cli.lazy = {"estimate": _estimate_command}
