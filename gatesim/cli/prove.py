"""``gatesim prove``: algebraic proof that a design computes its word-level function for every input."""
from __future__ import annotations

import json
import sys

import click

from .base import EXIT_FAILURE, _positive, cli
from .designs import _build, _size_text, design_options

# what each kind of design is proven to compute, and the port roles its claim names
CLAIMS = {
    "multiplier": ("p = a*b", ("a", "b", "p")),
    "signed-multiplier": ("p = a*b, two's complement", ("a", "b", "p")),
    "adder": ("{cout, sum} = a + b + cin", ("a", "b", "cin", "sum", "cout")),
    "subtractor": ("{bout, diff} = a - b - bin", ("a", "b", "bin", "diff", "bout")),
}


def _roles(values: tuple[str, ...], kind: str) -> dict:
    """``--port ROLE=NAME`` pairs (an empty NAME: the design has no such port, e.g. no carry in)."""
    roles = CLAIMS[kind][1]
    out = {}
    for item in values:
        role, sep, name = item.partition("=")
        if not sep:
            raise click.BadParameter(f"expected ROLE=NAME, got {item!r}", param_hint="--port")
        if role not in roles:
            raise click.BadParameter(f"unknown role {role!r} (roles of {kind}: {', '.join(roles)})", param_hint="--port")
        if not name and role in ("a", "b", "p", "sum", "diff"):
            raise click.BadParameter(f"port role {role!r} cannot be left out", param_hint="--port")
        out[role] = name or None
    return out


@cli.command("prove")
@design_options
@click.option("--as", "kind", type=click.Choice(list(CLAIMS)), default=None,
              help="What to prove (default: from the design's kind; multipliers signed when built with signed=true).")
@click.option("--port", "ports", multiple=True, metavar="ROLE=NAME",
              help="Port playing a role of the claim (e.g. p=prod, cin= for no carry in; repeatable).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
              help="Seconds the rewriting may take before giving up (the answer is then 'not proved').")
@click.option("--max-monomials", type=int, default=1_000_000, show_default=True, callback=_positive,
              help="Largest polynomial allowed during the rewriting.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def prove_cmd(obj, design, width, number_format, rounding, params, kind, ports, timeout, max_monomials, as_json):
    """Prove DESIGN computes its arithmetic function for every input, by algebraic backward rewriting.

    Multipliers: p = a*b (two's complement when built with --param signed=true); adders:
    {cout, sum} = a + b + cin; subtractors: {bout, diff} = a - b - bin. Exit 0 when proved, 1 when
    not equal (a simulated counterexample is printed) or not proved within the limits.
    """
    from tqdm import tqdm

    from ..prove import prove_adder, prove_multiplier, prove_subtractor

    circuits, net, p = _build(obj, design, width, params, number_format, rounding)
    if kind is None:
        d_kind = circuits.get(design).kind
        if d_kind not in ("multiplier", "adder", "subtractor"):
            raise click.UsageError(f"prove knows multipliers, adders and subtractors; {design} is a {d_kind} "
                                   f"(use --as {'|'.join(CLAIMS)} if its ports follow one of those)")
        kind = "signed-multiplier" if d_kind == "multiplier" and p.get("signed") else d_kind
    roles = _roles(ports, kind)
    for role in ("cin", "cout", "bin", "bout"):  # optional ports: absent ones are left out of the claim
        if role in CLAIMS[kind][1] and role not in roles and role not in net.inputs and role not in net.outputs:
            roles[role] = None
    bar = tqdm(unit="unit", disable=as_json or not sys.stderr.isatty(), file=sys.stderr, leave=False)

    def progress(done, total):
        bar.total = total
        bar.n = done
        bar.refresh()

    limits = dict(timeout=timeout, max_monomials=max_monomials, progress=progress)
    if kind in ("multiplier", "signed-multiplier"):
        r = prove_multiplier(net, signed=kind == "signed-multiplier", a=roles.get("a", "a"), b=roles.get("b", "b"),
                             product=roles.get("p", "p"), **limits)
    elif kind == "adder":
        r = prove_adder(net, **{k: roles.get(k, k) for k in ("a", "b", "cin", "sum", "cout")}, **limits)
    else:
        r = prove_subtractor(net, **{k: roles.get(k, k) for k in ("a", "b", "bin", "diff", "bout")}, **limits)
    bar.close()
    if as_json:
        click.echo(json.dumps(dict(r.to_dict(), design=design, params=net.params), indent=2))
    else:
        _report(design, _size_text(net), r)
    if not r.proved:
        sys.exit(EXIT_FAILURE)


def _report(design: str, size: str, r) -> None:
    st = r.stats
    if r.proved:
        click.echo(f"{design} {size}: PROVED {r.claim} for every input in {r.seconds:.2f} s "
                   f"({st.get('full_adders', 0)} full adders, {st.get('half_adders', 0)} half adders, "
                   f"{st.get('vanishing_pairs', 0)} vanishing pairs, peak {st.get('peak_monomials', 0)} monomials)")
        return
    if r.status == "not_equal":
        click.echo(f"{design} {size}: NOT EQUAL, {r.claim} fails ({r.reason})")
        ce = r.counterexample
        fmt = lambda d: ", ".join(f"{k}={v:#x}" for k, v in d.items())  # noqa: E731
        click.echo(f"counterexample: {fmt(ce['inputs'])}")
        click.echo(f"  expected {fmt(ce['expected'])}")
        click.echo(f"  got      {fmt(ce['got'])}")
        return
    click.echo(f"{design} {size}: NOT PROVED, {r.reason}")
