"""Regression tests of issue 14 (nothing silently wrong) for the engine room and its CLI: the table cache,
cell-library prices, custom formats, option checks, plugins, progress and the public API."""
import hashlib
import json

import pytest
from click.testing import CliRunner

import gatesim
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


def _payload_key(doc):
    return next((k for k in ("payload", "entry") if k in doc), None)


def _edit_entry(path, **changes):
    doc = json.loads(path.read_text())
    (doc[_payload_key(doc)] if _payload_key(doc) else doc).update(changes)
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
    doc[_payload_key(doc)]["transistors"] = -5
    body = {k: v for k, v in doc.items() if k != "checksum"}
    doc["checksum"] = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    p.write_text(json.dumps(doc))


def _entry_set_null(files):
    p = files["mul"]
    doc = json.loads(p.read_text())
    if _payload_key(doc):
        doc[_payload_key(doc)] = None
        p.write_text(json.dumps(doc))
    else:
        p.write_text("null")


@pytest.mark.parametrize("tamper", [_null, _relabel, _relabel_inside, _bad_type, _bad_type_checksum_recomputed,
                                    _entry_set_null])
def test_tampered_table_cache_is_rebuilt_with_a_warning(tmp_path, monkeypatch, tamper):
    monkeypatch.setenv("GATESIM_CACHE_DIR", str(tmp_path))
    args = ["table", "--mode", "paper", "--formats", "fp16", "--operations", "add,mul,root", "--vectors", "300", "--json"]
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


@pytest.mark.parametrize("change", [{"transistors": "abc"}, {"transistors": 7}, {"mean_toggles": -1.0}])
def test_tampered_explore_cache_is_rebuilt_with_a_warning(tmp_path, capsys, change):
    from gatesim.explore import explore

    run = dict(designs=["array-multiplier"], widths=[4], libraries=["paper"], vectors=200, jobs=1, cache=tmp_path)
    first = explore(**run)
    (path,) = (tmp_path / "explore").glob("*.json")
    _edit_entry(path, **change) if "payload" in path.read_text() else None
    if "payload" not in path.read_text():  # an older layout: the row under "row"
        doc = json.loads(path.read_text())
        doc["row"].update(change)
        path.write_text(json.dumps(doc))
    capsys.readouterr()
    again = explore(**run)
    assert again.computed == 1 and again.rows == first.rows
    warnings = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("warning:")]
    assert len(warnings) == 1 and "rebuilding" in warnings[0]


# -- 2. every file is written whole or not at all ----------------------------------------------------------------
class FullDisk:
    """Makes writes fail like a full disk: ``mode="fsync"`` fails when the data is forced to disk, ``"write"``
    writes half of the first block and then fails (a truncated file, were the write not atomic)."""

    def __init__(self, monkeypatch, mode):
        import errno
        import os

        self.calls = 0
        err = OSError(errno.ENOSPC, "No space left on device")
        if mode == "fsync":
            def fsync(fd):
                self.calls += 1
                raise err

            monkeypatch.setattr(os, "fsync", fsync)
        else:
            real = os.fdopen

            def fdopen(fd, *a, **k):
                f = real(fd, *a, **k)
                w = f.write

                def write(b):
                    self.calls += 1
                    w(b[: len(b) // 2])
                    f.flush()
                    raise err

                f.write = write
                return f

            monkeypatch.setattr(os, "fdopen", fdopen)


def test_written_files_keep_ordinary_permissions(tmp_path):
    import os

    out = tmp_path / "a.v"
    assert invoke("export", "ripple-carry-adder", "-w", "4", "-o", out).exit_code == 0
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask  # as open() would create it, not mkstemp's 0600
    out.chmod(0o640)
    assert invoke("export", "ripple-carry-adder", "-w", "5", "-o", out).exit_code == 0
    assert out.stat().st_mode & 0o777 == 0o640 and "input [4:0]" in out.read_text()


def _listing(folder):
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("mode", ["fsync", "write"])
@pytest.mark.parametrize("command", [
    ["export", "ripple-carry-adder", "--width", "16"],
    ["export", "ripple-carry-adder", "--width", "16", "--format", "json"],
    ["table", "--mode", "paper", "--formats", "fp16", "--operations", "add", "--vectors", "200", "--json"],
])
def test_full_disk_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, mode, command):
    out = tmp_path / "out.txt"
    out.write_text("the old file\n")
    invoke("table", "--mode", "paper", "--formats", "fp16", "--operations", "add", "--vectors", "200")  # cache filled first
    disk = FullDisk(monkeypatch, mode)
    r = invoke(*command, "-o", out)
    assert r.exit_code == 1 and disk.calls, r.output
    assert r.stderr.strip().splitlines() == [f"Error: cannot write {out}: No space left on device"]
    assert out.read_text() == "the old file\n" and _listing(tmp_path) == ["out.txt"]
    out.unlink()
    r = invoke(*command, "-o", out)
    assert r.exit_code == 1 and _listing(tmp_path) == []  # absent stays absent


def test_ctrl_c_while_writing_leaves_the_old_file(tmp_path, monkeypatch):
    import os

    out = tmp_path / "a.v"
    out.write_text("the old file\n")

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    r = invoke("export", "ripple-carry-adder", "-w", "8", "-o", out)
    assert r.exit_code == 130 and r.stderr.strip() == "Error: interrupted"
    assert out.read_text() == "the old file\n" and _listing(tmp_path) == ["a.v"]


def test_full_disk_while_caching_a_table_entry_is_a_warning(tmp_path, monkeypatch):
    monkeypatch.setenv("GATESIM_CACHE_DIR", str(tmp_path))
    FullDisk(monkeypatch, "write")
    r = invoke("table", "--mode", "paper", "--formats", "fp16", "--operations", "add", "--vectors", "200", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["entries"][0]["transistors"] == 110
    assert "cannot write the table cache" in r.stderr
    assert list((tmp_path / "tables").iterdir()) == []  # no temporary left behind


def test_a_real_full_disk(tmp_path):
    """A 64 KiB tmpfs (in a private mount namespace, so no root is needed where user namespaces are allowed): the
    75 KiB Verilog export fails with one line, and the folder holds the old file only."""
    import shutil
    import subprocess
    import sys

    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1) to mount a small tmpfs")
    small = tmp_path / "small"
    small.mkdir()
    script = (f"mount -t tmpfs -o size=64k tmpfs {small} || exit 77; echo old > {small}/ks64.v; "
              f"{sys.executable} -m gatesim.cli export kogge-stone-adder --width 64 -o {small}/ks64.v; echo rc=$?; "
              f"ls -A {small}; cat {small}/ks64.v")
    p = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=120)
    if p.returncode == 77 or "unshare:" in p.stderr:
        pytest.skip(f"cannot mount a tmpfs here: {p.stderr.strip()[:200]}")
    assert p.stdout.split() == ["rc=1", "ks64.v", "old"], p.stdout + p.stderr
    assert p.stderr.strip() == f"Error: cannot write {small}/ks64.v: No space left on device"


# -- 5. prices are bounded, totals never wrap --------------------------------------------------------------------
@pytest.mark.parametrize("price", [2**62, 2**64, -1, 2**32 + 1])
def test_out_of_range_prices_are_refused_at_load(tmp_path, price):
    lib = tmp_path / "lib.toml"
    lib.write_text(f"[gates]\nAND2 = {price}\nOR2 = 6\nXOR2 = 12\n")
    for cmd in ("count", "activity"):
        r = invoke(cmd, "ripple-carry-adder", "--width", "8", "--library", lib)
        assert r.exit_code == 2, r.output
        assert r.stderr.startswith("Error: library 'lib': price of 'AND2' must be a non-negative integer of at most "
                                   "4,294,967,296 transistors")
        assert len(r.stderr.splitlines()) == 1


def test_totals_that_would_overflow_int64_are_refused(monkeypatch):
    import circuits
    import gatesim.library
    from gatesim import CellLibrary, LibraryError, count

    monkeypatch.setattr(gatesim.library, "MAX_PRICE", 2**63)  # what an unbounded library could hold
    lib = CellLibrary("huge", {"AND2": 2**62, "OR2": 6, "XOR2": 12})
    with pytest.raises(LibraryError, match="exceed 2\\^63"):
        count(circuits.build("ripple-carry-adder", 8), lib)  # 16 AND2 gates: 2^66, not 144


# -- 6. a custom format may replace a built-in only when it says so -----------------------------------------------
def _profile(tmp_path, extra=""):
    p = tmp_path / "hw.toml"
    p.write_text('mode = "paper"\nformats = ["fp32"]\n'
                 f'[custom_formats.fp32]\nexponent_bits = 2\nsignificand_bits = 2\n{extra}')
    return p


def test_custom_format_cannot_silently_shadow_a_builtin(tmp_path):
    r = invoke("table", "--hardware", _profile(tmp_path), "--operations", "add")
    assert r.exit_code == 2 and "custom format 'fp32' has a built-in's name" in r.stderr
    assert "add override = true" in r.stderr


def test_an_override_is_recorded_in_the_table(tmp_path):
    prof = _profile(tmp_path, "override = true\n")
    r = invoke("table", "--hardware", prof, "--operations", "add", "--vectors", "200", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["entries"][0]["transistors"] == 20
    assert doc["formats"]["fp32"]["significand_bits"] == 2
    assert doc["formats"]["fp32"]["overrides_builtin"]["significand_bits"] == 24
    text = invoke("table", "--hardware", prof, "--operations", "add", "--vectors", "200").stdout
    assert "note: fp32 is the profile's own format" in text and "overriding the built-in" in text
    bad = tmp_path / "bad.toml"
    bad.write_text('mode = "paper"\nformats = ["e6m9"]\n'
                   '[custom_formats.e6m9]\nexponent_bits = 6\nmantissa_bits = 9\noverride = true\n')
    r = invoke("table", "--hardware", bad)
    assert r.exit_code == 2 and "there is no built-in of that name" in r.stderr


# -- 8. the small ones ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args,option", [
    (["count", "ripple-carry-adder", "--width", "8", "--width", "16"], "--width"),
    (["count", "ripple-carry-adder", "-w8", "--width=16"], "--width"),
    (["verify", "ripple-carry-adder", "-w", "8", "--seed", "1", "--seed", "2"], "--seed"),
    (["table", "--formats", "fp16", "--formats", "fp32"], "--formats"),
    (["fit", "x.jsonl", "--degree", "1", "--degree", "2"], "--degree"),
    (["sweep", "dnn", "-o", "a.jsonl", "-o", "b.jsonl"], "--output"),
])
def test_a_single_value_option_given_twice_is_a_usage_error(args, option):
    r = invoke(*args)
    assert r.exit_code == 2 and f"option {option} was given 2 times" in r.stderr, r.output
    assert len(r.stderr.strip().splitlines()) == 1


def test_repeatable_options_still_repeat():
    r = invoke("count", "ripple-carry-adder", "-w", "4", "-l", "paper", "-l", "static-cmos", "--param", "x=1")
    assert "unknown parameter 'x'" in r.stderr  # --param and --library may repeat: the design says what is wrong
    r = invoke("count", "ripple-carry-adder", "-w", "4", "-l", "paper", "-l", "static-cmos", "--json")
    assert r.exit_code == 0 and len(json.loads(r.stdout)) == 2


def test_mantissa_bits_error_names_mantissa_bits():
    from gatesim.formats import FormatError, format_from_mapping

    with pytest.raises(FormatError, match=r"mantissa_bits must be an integer in 1\.\.127, got -1"):
        format_from_mapping("x", {"exponent_bits": 5, "mantissa_bits": -1})


@pytest.mark.parametrize("poll", ["0", "-1", "nan"])
def test_poll_must_be_positive(poll):
    r = invoke("sweep", "dnn", "-o", "x.jsonl", "--poll", poll)
    assert r.exit_code == 2 and "--poll" in r.stderr


@pytest.mark.parametrize("command", [["activity", "ripple-carry-adder", "--width", "4"],
                                     ["table", "--formats", "fp16", "--operations", "add"]])
def test_activity_needs_two_vectors(command):
    r = invoke(*command, "--vectors", "1")
    assert r.exit_code == 2, r.output
    assert "--vectors" in r.stderr and "1 is not in the range x>=2" in r.stderr


def test_verify_vectors_are_bounded(monkeypatch):
    import sys

    module = sys.modules["gatesim.verify"]  # (gatesim.verify is the function)

    def never(*a, **k):  # 10^10 vectors would run for days: the bound must stop it before verify starts
        raise AssertionError(f"verify ran with {k.get('vectors')} vectors")

    monkeypatch.setattr(module, "verify", never)
    r = invoke("verify", "ripple-carry-adder", "--width", "32", "--vectors", str(10**10))
    assert r.exit_code == 2 and "1000000000" in r.stderr.replace(",", ""), r.output
    with pytest.raises(gatesim.GatesimError, match="vectors must be an integer in 0..1,000,000,000"):
        monkeypatch.undo()
        module.verify(None, None, vectors=10**10)


# -- 10. what the README promises -----------------------------------------------------------------------------------
def test_plugin_by_file_path(tmp_path):
    from pathlib import Path

    src = Path(__file__).parent / "plugins" / "my_designs.py"
    plugin = tmp_path / "my_designs_file.py"
    plugin.write_text(src.read_text())
    r = invoke("--plugin", plugin, "verify", "inverter-chain", "--width", "6", "--param", "stages=3")
    assert r.exit_code == 0 and "all match" in r.stdout, r.output
    r = invoke("--plugin", tmp_path / "missing.py", "circuits")
    assert r.exit_code == 2 and "no such file" in r.stderr


def test_circuits_shows_the_real_width_limit():
    from circuits.registry import MAX_WIDTH

    rows = {ln.split()[0]: ln.split()[2] for ln in invoke("circuits").stdout.splitlines()[2:]}
    assert rows["ripple-carry-adder"] == f"1..{MAX_WIDTH}" and rows["newton-raphson-sqrt"] == "2..53"
    doc = {d["name"]: d for d in json.loads(invoke("circuits", "--json").stdout)}
    assert doc["kogge-stone-adder"]["max_width"] == MAX_WIDTH == 4096


def test_tables_are_reachable_from_import_gatesim():
    import subprocess
    import sys

    code = "import gatesim; print(gatesim.TransistorTable.__name__, gatesim.tables.build_table.__name__, gatesim.load_hardware.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["TransistorTable", "build_table", "load_hardware"], out.stderr
