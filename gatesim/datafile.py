"""Reading the project's data files (cell libraries, hardware profiles, recipe sets, tables):
TOML or JSON by suffix, with one-line errors that name the file."""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

from .errors import GatesimError


def read_data_file(path: "str | Path", what: str, error: type[Exception] = GatesimError, default: str = "toml") -> dict:
    """The table at the top of a ``.toml`` or ``.json`` file (other suffixes: ``default``).

    Raises ``error`` with one line when the file cannot be read, does not parse, or holds no table.
    """
    p = Path(str(path))  # also an importlib.resources file of an installed package
    try:
        text = p.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise error(f"cannot read {what} {path}: {getattr(e, 'strerror', None) or e}") from None
    kind = p.suffix.lower().lstrip(".") if p.suffix.lower() in (".toml", ".json") else default
    try:
        data = json.loads(text) if kind == "json" else tomllib.loads(text)
    except ValueError as e:  # json.JSONDecodeError and tomllib.TOMLDecodeError are ValueErrors
        raise error(f"{what} {path} is malformed {kind.upper()}: {str(e).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise error(f"{what} {path} must hold a table at top level")
    return data


def write_file_atomic(path: "str | Path", data: "str | bytes") -> None:
    """Write ``data`` to ``path`` so that the file is, at every moment, absent, the old one or the complete new
    one: a temporary file in the same folder, flushed and fsynced, then renamed over ``path``. The temporary
    file is removed on any failure (a full disk, Ctrl-C); one left by a killed writer (SIGKILL allows no cleanup)
    is removed by the next successful write of the same file. The file gets the old file's permissions, or those a
    new file gets under the umask. Raises ``OSError`` as ``open`` would."""
    import os
    import tempfile

    target = Path(path)
    raw = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp")
    try:
        os.fchmod(fd, _new_file_mode(target))  # mkstemp makes 0600; the result gets what open() would give
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _remove_stale_temporaries(target)


def _new_file_mode(target: Path) -> int:
    """The mode of the file being replaced, or 0666 less the umask for a new file (what ``open`` gives)."""
    import os
    import stat

    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def _remove_stale_temporaries(target: Path) -> None:
    """Delete ``.NAME.PID.*.tmp`` files beside ``target`` whose writer process no longer exists."""
    import os

    prefix = f".{target.name}."
    try:
        names = [n for n in os.listdir(target.parent or ".") if n.startswith(prefix) and n.endswith(".tmp")]
    except OSError:
        return
    for n in names:
        pid = n[len(prefix):].split(".", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # its writer is still running
        except ProcessLookupError:
            pass
        except OSError:
            continue  # alive, another user's
        try:
            os.unlink(target.parent / n)
        except OSError:
            pass


def digest(doc) -> str:
    """SHA-256 of ``doc`` as canonical JSON (sorted keys; objects JSON cannot hold as their ``str``)."""
    import hashlib

    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def cache_document(schema: str, key: str, request: dict, payload) -> dict:
    """A cache file's content: the ``request`` it answers (as JSON), its ``payload`` and a checksum of all."""
    body = {"schema": schema, "key": key, "request": json.loads(json.dumps(request, default=str)), "payload": payload}
    return {**body, "checksum": digest(body)}


def read_cache_document(path: Path, schema: str, key: str, request: dict):
    """``(usable, payload, reason)`` for a cache file: usable only when it is a complete ``schema`` document
    answering exactly ``request`` under ``key`` with a checksum that matches its content; otherwise ``reason``
    says in a few words what is wrong. The caller still checks the payload's own fields."""
    try:
        doc = json.loads(Path(path).read_bytes())
    except (OSError, ValueError) as e:
        return False, None, f"unreadable ({type(e).__name__})"
    if not isinstance(doc, dict) or doc.get("schema") != schema:
        return False, None, f"not a {schema} document"
    body = {k: doc.get(k) for k in ("schema", "key", "request", "payload")}
    if doc.get("checksum") != digest(body):
        return False, None, "checksum does not match its content"
    asked = json.loads(json.dumps(request, default=str))
    if doc.get("key") != key or doc.get("request") != asked:
        got = doc.get("request") if isinstance(doc.get("request"), dict) else {}
        diff = sorted(k for k in set(asked) | set(got) if asked.get(k) != got.get(k))
        return False, None, f"answers another request ({', '.join(diff) or 'key'} differ)"
    return True, doc["payload"], ""
