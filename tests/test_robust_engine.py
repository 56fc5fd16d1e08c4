"""Regression tests of issue 14 (nothing silently wrong) for the engine room and its CLI: the table cache,
cell-library prices, custom formats, option checks, plugins, progress and the public API."""
import hashlib
import json

import pytest
from click.testing import CliRunner

from gatesim.cli import cli


def invoke(*args, **kw):
    return CliRunner().invoke(cli, [str(a) for a in args], **kw)


# -- 1. the table cache is checked against what was asked -------------------------------------------------------
def _cache_files(cache):
    """``{operation: path}`` of the cache files in ``cache`` (whatever their layout)."""
    out = {}
    for p in (cache / "tables").glob("*.json"):
        doc = json.loads(p.read_text())
        op = doc["request"]["op"] if isinstance(doc, dict) and "request" in doc else (doc or {}).get("operation")
        out[op] = p
    return out


def _edit_entry(path, **changes):
    doc = json.loads(path.read_text())
    (doc["entry"] if "entry" in doc else doc).update(changes)
    path.write_text(json.dumps(doc))


def _null(files):
    files["mul"].write_text("null")


def _relabel(files):
    files["add"].write_bytes(files["root"].read_bytes())


def _relabel_inside(files):
    _edit_entry(files["root"], operation="add")


def _bad_type(files):
    _edit_entry(files["mul"], transistors="abc")


def _bad_type_checksum_recomputed(files):
    """A consistent-looking document (checksum recomputed) whose entry is still nonsense."""
    p = files["mul"]
    doc = json.loads(p.read_text())
    if "checksum" not in doc:  # an older layout: no checksum to forge
        return _bad_type(files)
    doc["entry"]["transistors"] = -5
    body = {k: doc[k] for k in ("schema", "key", "request", "entry")}
    doc["checksum"] = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    p.write_text(json.dumps(doc))


def _entry_set_null(files):
    p = files["mul"]
    doc = json.loads(p.read_text())
    if "entry" in doc:
        doc["entry"] = None
        p.write_text(json.dumps(doc))
    else:
        p.write_text("null")


@pytest.mark.parametrize("tamper", [_null, _relabel, _relabel_inside, _bad_type, _bad_type_checksum_recomputed,
                                    _entry_set_null])
def test_tampered_table_cache_is_rebuilt_with_a_warning(tmp_path, monkeypatch, tamper):
    monkeypatch.setenv("GATESIM_CACHE_DIR", str(tmp_path))
    args = ["table", "--formats", "fp16", "--operations", "add,mul,root", "--vectors", "300", "--json"]
    fresh = invoke(*args)
    assert fresh.exit_code == 0, fresh.output
    tamper(_cache_files(tmp_path))
    r = invoke(*args, "-o", tmp_path / "t.json")
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "t.json").read_text())["entries"] == json.loads(fresh.stdout)["entries"]
    warnings = [ln for ln in r.stderr.splitlines() if ln.startswith("warning:")]
    assert len(warnings) == 1 and "rebuilding" in warnings[0], r.stderr
    again = invoke(*args)  # the rebuilt file is good again: no warning
    assert again.exit_code == 0 and "warning" not in again.stderr
    assert json.loads(again.stdout)["entries"] == json.loads(fresh.stdout)["entries"]
