"""Property-based fuzzing of every file reader and the commands that read them (issue 14).

For each kind of file gatesim reads -- cell libraries, hardware profiles, recipe files, transistor tables, netlist
JSON, calibration logs and fitted profiles -- hypothesis feeds (a) random bytes and (b) a real document of that
kind with one part replaced, removed or added (structurally valid, semantically wrong). The property:

* exit 0 with a result that passes its own validation (JSON that parses strictly, a written file that loads back),
  or exactly one ``Error:`` line on stderr with exit 1 or 2;
* never a traceback, never the catch-all for unexpected exceptions (a bug), never a partially written file (the
  output is absent or loads back whole) and never a temporary file left beside it.

The default run (CI) tries a few dozen documents per reader; ``pytest --run-slow`` adds a run ten times longer.
"""
from __future__ import annotations

import copy
import json
import math
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatesim.cli import cli

CI_EXAMPLES = 12
SLOW_EXAMPLES = 150


# -- documents ---------------------------------------------------------------------------------------------------------
def wild():
    """Values of every JSON type, including the awkward ones (huge, negative, NaN, empty, nested)."""
    scalars = st.one_of(
        st.integers(-(2**70), 2**70), st.sampled_from([0, 1, -1, 2**31, 2**32 + 1, 2**63, 2**64]),
        st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=6), st.booleans(), st.none(),
        st.sampled_from(["paper", "fp32", "add", "ripple-carry-adder", "free", "tos", "", "NaN"]),
    )
    return st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                          st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                        max_leaves=5)


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, prefix + (i,))


@st.composite
def mutated(draw, template):
    """``template`` with one node replaced by a wild value, deleted, or given an extra key."""
    doc = copy.deepcopy(template)
    paths = list(_paths(doc))
    path = draw(st.sampled_from(paths))
    action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
    if not path:
        return draw(wild()) if action == "replace" else doc
    parent = doc
    for k in path[:-1]:
        parent = parent[k]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "add" and isinstance(parent[last], dict):
        parent[last][draw(st.text(max_size=8))] = draw(wild())
    else:
        parent[last] = draw(wild())
    return doc


def raw_bytes():
    return st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode))


# -- templates: one real document of each kind ------------------------------------------------------------------------
LIBRARY = {"name": "fuzz", "description": "d", "gates": {"NOT": 2, "AND2": 6, "OR2": 6, "XOR2": 12, "NAND2": 4},
           "cells": {"full_adder": 28}}
HARDWARE = {"name": "hw", "description": "d", "library": "paper", "mode": "paper", "formats": ["fp16", "e6m9"],
            "designs": {"adder": "kogge-stone-adder", "multiplier": "dadda-multiplier",
                        "params": {"multiplier": {"adder": "ripple-carry-adder"}}},
            "custom_formats": {"e6m9": {"exponent_bits": 6, "mantissa_bits": 9}}}
RECIPES = {"aten.sigmoid": {"add": 1, "sub": 1, "div": 1, "root": 1}, "aten.clone": "free", "aten.relu": {"compare": 1}}


def _table_template():
    from gatesim.tables import TransistorTable

    nums = {"fp32": {"add": 240, "sub": 288, "mul": 10520, "div": 18196, "root": 82618, "compare": 1102},
            "int64": {"add": 640, "sub": 768, "mul": 67782, "compare": 2000}}
    return TransistorTable.from_numbers(nums, name="fuzz").to_dict()


def _netlist_template():
    import circuits
    from gatesim import to_json

    return json.loads(to_json(circuits.build("ripple-carry-adder", 2)))


NUMBERS_TABLE = {"name": "numbers", "mode": "numbers", "library": "", "transistors": {
    f: {"add": 200, "sub": 200, "mul": 3000, "div": 5000, "root": 5000, "compare": 100} for f in ("fp32", "int64")}}


def _log_template():
    recs = []
    for c in range(3):
        for r in range(3):
            recs.append({"format": "gatesim-calibration-run/1", "key": f"cfg{c}", "repeat": r, "tos": 1e9 * (c + 1),
                         "flops": 2e7 * (c + 1), "joules": 2.0 * (c + 1) * (1 + 0.01 * r), "kind": "measurement",
                         "trim": 0, "meter": "fake", "table": NUMBERS_TABLE, "level": "training"})
    return recs


def _profile_template():
    from calibration.profiles import fit_log

    _, prof = fit_log(_log_template(), ["tos", "flops"], [1, 2])
    return json.loads(json.dumps(prof.to_dict()))


# -- running a command and checking the property ----------------------------------------------------------------------
def check_outcome(result, folder: Path, inputs: set[str], output: Path | None, load_output=None):
    """The property every command must keep, whatever its input."""
    err = result.stderr
    assert "Traceback" not in result.output + err, err
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "GATESIM_TRACEBACK" not in err, f"an unexpected exception reached the catch-all: {err}"
    left = {p.name for p in folder.iterdir()} - inputs - ({output.name} if output else set())
    assert not left, f"files left behind: {left}"
    if result.exit_code == 0:
        if output is not None and load_output is not None:
            load_output(output)  # the complete new file
        return True
    assert result.exit_code in (1, 2), (result.exit_code, err)
    lines = err.strip().splitlines()
    errors = [ln for ln in lines if ln.startswith("Error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], err
    assert all(ln.startswith(("Error:", "warning:", "note:")) for ln in lines), err
    if output is not None and output.exists() and load_output is not None:
        load_output(output)  # an earlier complete file, never a partial one
    return False


def strict(text: str):
    return json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in JSON output"))


def run_cli(content: bytes, suffix: str, args_for, load_output=None, output_name: str | None = None,
            check_stdout=None):
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        src = folder / f"input{suffix}"
        src.write_bytes(content)
        out = folder / output_name if output_name else None
        r = CliRunner().invoke(cli, [str(a) for a in args_for(src, out)])
        ok = check_outcome(r, folder, {src.name}, out, load_output)
        if ok and check_stdout is not None:
            check_stdout(r.stdout)
        return ok


def _dump(doc) -> bytes:
    return json.dumps(doc).encode()  # NaN and Infinity included, as a careless writer would


def _finite_numbers(doc):
    if isinstance(doc, float):
        assert math.isfinite(doc)
    elif isinstance(doc, dict):
        for v in doc.values():
            _finite_numbers(v)
    elif isinstance(doc, list):
        for v in doc:
            _finite_numbers(v)


# -- one target per reader ----------------------------------------------------------------------------------------------
def library_target(content, suffix):
    def stdout_ok(text):
        doc = strict(text)
        assert isinstance(doc["transistors"], int) and 0 <= doc["transistors"] < 2**63

    return run_cli(content, suffix, lambda src, out: ["count", "ripple-carry-adder", "-w", "4", "-l", src, "--json"],
            check_stdout=stdout_ok)


def hardware_target(content, suffix):
    from gatesim.tables import TransistorTable

    def load(p):
        tab = TransistorTable.load(p)
        assert tab.entries and all(e.transistors >= 0 for e in tab.entries.values())

    return run_cli(content, suffix, lambda src, out: ["table", "--hardware", src, "--operations", "add", "--vectors", "64",
                                               "--json", "-o", out], load, "table.json")


def recipes_target(content, suffix):
    return run_cli(content, suffix, lambda src, out: ["estimate", "paper-dnn", "--width", "4", "--recipes", src,
                                               "--totals-only", "--json"], check_stdout=lambda t: _finite_numbers(strict(t)))


def table_target(content, suffix):
    return run_cli(content, suffix, lambda src, out: ["estimate", "paper-dnn", "--width", "4", "--table", src,
                                               "--totals-only", "--json"], check_stdout=lambda t: _finite_numbers(strict(t)))


def log_target(content, suffix):
    from calibration.profiles import Profile

    return run_cli(content, suffix, lambda src, out: ["fit", src, "--degree", "1,2", "-o", out], Profile.load, "profile.json")


def profile_target(content, suffix):
    def stdout_ok(text):
        doc = strict(text)
        assert all(math.isfinite(v["energy"]) for v in doc["levels"].values())

    return run_cli(content, suffix, lambda src, out: ["predict", "dnn", "--width", "4", "--samples", "64", "--profile", src,
                                               "--level", "inference", "--json"],
            check_stdout=stdout_ok)


def netlist_target(content, suffix):
    """No command reads netlist JSON; the reader itself must answer with a NetlistError or a valid netlist."""
    from gatesim import GatesimError, count, from_json, simulate, validate

    try:
        net = from_json(content.decode("utf-8", errors="replace"))
    except GatesimError as e:
        assert "\n" not in str(e)
        return False
    validate(net)
    count(net, "static-cmos")
    simulate(net, **{p: 1 for p in net.inputs})
    return True


def _jsonl(records) -> bytes:
    if not isinstance(records, list):
        return _dump(records)
    return "".join(json.dumps(r) + "\n" for r in records).encode()


TARGETS = {  # name: (run, template factory, serializer, suffixes for raw bytes)
    "library": (library_target, lambda: LIBRARY, _dump, (".toml", ".json")),
    "hardware": (hardware_target, lambda: HARDWARE, _dump, (".toml", ".json")),
    "recipes": (recipes_target, lambda: RECIPES, _dump, (".toml", ".json")),
    "table": (table_target, _table_template, _dump, (".json",)),
    "netlist": (netlist_target, _netlist_template, _dump, (".json",)),
    "log": (log_target, _log_template, _jsonl, (".jsonl",)),
    "profile": (profile_target, _profile_template, _dump, (".json",)),
}


def _fuzz(name: str, examples: int):
    run, template, serialize, suffixes = TARGETS[name]
    tpl = template()
    structured = mutated(tpl).map(lambda d: (serialize(d), suffixes[-1]))
    raw = st.tuples(raw_bytes(), st.sampled_from(suffixes))
    # the template itself succeeds: a fuzz run that only ever saw errors would prove nothing
    assert run(serialize(tpl), suffixes[-1]), f"the {name} template fails"

    @settings(max_examples=examples, deadline=None, database=None, derandomize=examples <= CI_EXAMPLES * 3,
              suppress_health_check=list(HealthCheck))
    @given(st.one_of(structured, structured, raw))
    def prop(case):
        run(*case)

    prop()


@pytest.mark.parametrize("name", list(TARGETS))
def test_fuzz_readers(name):
    _fuzz(name, CI_EXAMPLES * 2 if name in ("library", "log", "netlist") else CI_EXAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(TARGETS))
def test_fuzz_readers_long(name):
    _fuzz(name, SLOW_EXAMPLES)
