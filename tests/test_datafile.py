import os
import stat

from gatesim.datafile import write_file_atomic


def _mode(p):
    return stat.S_IMODE(os.stat(p).st_mode)


def test_new_file_gets_the_mode_open_would_give(tmp_path):
    mask = os.umask(0o022)
    try:
        write_file_atomic(tmp_path / "a.txt", "x")
    finally:
        os.umask(mask)
    assert (tmp_path / "a.txt").read_text() == "x"
    assert _mode(tmp_path / "a.txt") == 0o644


def test_replaced_file_keeps_its_mode(tmp_path):
    f = tmp_path / "b.txt"
    f.write_text("old")
    f.chmod(0o640)
    write_file_atomic(f, b"new")
    assert f.read_text() == "new" and _mode(f) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["b.txt"]  # no temporary file left behind
