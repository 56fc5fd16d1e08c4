"""``gatesim activity --operands``: switching activity of one design under named operand distributions."""
from __future__ import annotations

import json

import click

from .base import _table


def activity_under_operands(net, design: str, width: int, library: str, vectors: int, seed: int, specs, fmt,
                            cache: bool, as_json: bool) -> None:
    """One row per ``--operands`` spec (plus uniform, the reference): toggles and transistor-weighted toggles per
    operation and their ratio to uniform operands."""
    from ..errors import GatesimError
    from ..formats import get_format
    from ..operands import parse_operands

    try:
        parsed = [parse_operands(s) for s in specs]
        f = get_format(fmt) if fmt else None
    except GatesimError as e:
        raise click.UsageError(str(e)) from None
    from ..operands import operand_activity

    texts = [p.text for p in parsed]
    runs = parsed if "uniform" in texts else [parse_operands("uniform")] + parsed
    acts = operand_activity(net, runs, vectors=vectors, seed=seed, library=library, fmt=f, cache=cache)
    ref = acts[0] if runs[0].text == "uniform" else acts[texts.index("uniform")]
    rows = []
    for spec, act in zip(runs, acts):
        rel = act.mean_weighted_toggles / ref.mean_weighted_toggles if ref.mean_weighted_toggles else float("nan")
        rows.append({"operands": spec.text, **act.to_dict(), "relative_to_uniform": rel})
    if as_json:
        click.echo(json.dumps({"design": design, "width": width, "params": net.params, "format": fmt,
                               "seed": seed, "vectors": vectors, "runs": rows}, indent=2))
        return
    size = f"width {width}" if width is not None else f"format {net.params.get('format')}"
    click.echo(f"{design} ({size}), {vectors} vectors per run (seed {seed})"
               + (f", operands encoded as {fmt}" if fmt else "") + f", weights from library {acts[0].library}")
    _table(["operands", "toggles/op", "weighted toggles/op", "vs uniform"],
           [(r["operands"], f"{r['mean_toggles']:.1f}", f"{r['mean_weighted_toggles']:.1f}",
             f"{100 * (r['relative_to_uniform'] - 1):+.1f}%") for r in rows])
