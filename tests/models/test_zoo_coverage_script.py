"""benchmarks/zoo_coverage.py keeps its progress: a model that killed the process counts as failed on resume."""
import importlib.util
import json
import os
from pathlib import Path

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "zoo_coverage.py"


def _script():
    spec = importlib.util.spec_from_file_location("zoo_coverage", _PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_a_run_that_killed_the_process_is_a_failure_on_resume(tmp_path, capsys):
    zc = _script()
    log = tmp_path / "run.jsonl"
    ok = dict(zoo="hf", name="bert", amp=None, status="ok", why="", device="meta", uncounted={}, seconds=0.1)
    lines = [ok, dict(zoo="hf", name="big", amp=None, status=zc.STARTED)]
    log.write_text("".join(json.dumps(x) + "\n" for x in lines))
    runs = zc.read_progress(str(log))["hf"]
    assert runs["bert"][None]["status"] == "ok"
    assert runs["big"][None]["status"] == "error" and runs["big"][None]["why"] == zc.CRASHED
    assert runs["big"][None]["crashed"]  # --retry-failed does not run it again (it would kill the run again)
    zc.from_progress(str(log))
    out = capsys.readouterr().out
    assert "hf: 1 of 2 architectures, zero uncounted ops" in out and "FAILED big" in out


def test_a_model_with_nothing_to_train_counts_as_one_forward_and_is_named(tmp_path, capsys):
    zc = _script()
    assert any("model output has dtype torch.int64; a loss needs floating point".startswith(p)
               for p in zc.NOTHING_TO_TRAIN)
    log = tmp_path / "run.jsonl"
    codebook = dict(zoo="hf", name="codebook", amp=None, status="ok", why="", device="meta", uncounted={},
                    seconds=0.1, level="inference")
    log.write_text(json.dumps(codebook) + "\n")
    zc.from_progress(str(log))
    out = capsys.readouterr().out
    assert "hf: 1 of 1 architectures" in out and "counted as one forward" in out and "codebook" in out


_WORKER = '''
import os


def run(zoo, name, amp, timeout):
    if name == "boom":
        os.abort()  # what the libc heap fault does to the process
    return dict(name=name, amp=amp, status="ok", why="", device="meta", uncounted={}, seconds=0.0, pid=os.getpid())
'''


def test_a_crash_in_the_worker_fails_that_model_and_the_run_goes_on(tmp_path, monkeypatch):
    zc = _script()
    (tmp_path / "fake_worker.py").write_text(_WORKER)
    monkeypatch.syspath_prepend(str(tmp_path))
    import fake_worker

    run = zc.Runner(2, target=fake_worker.run)
    try:
        a, b, boom, c, d = (run("hf", n, None, 30) for n in ("a", "b", "boom", "c", "d"))
    finally:
        run.close()
    assert boom["status"] == "error" and boom["crashed"] and boom["why"] == zc.CRASHED
    assert a["status"] == b["status"] == c["status"] == d["status"] == "ok"
    assert a["pid"] == b["pid"] != c["pid"] == d["pid"]  # a fresh worker every 2 models and after the crash
    assert a["pid"] != os.getpid()


def test_a_model_that_does_not_build_shrunk_is_counted_whole_and_one_with_nothing_to_train_as_a_forward(
        monkeypatch):
    """run_one's two second chances, each taken only for its own error: a two-layer build that fails (a ZooError,
    itself a CountingError) counts the whole default model; a step with nothing to train counts one forward."""
    import gatesim.models as models
    import gatesim.models.zoo as zoo
    from gatesim.models.zoo import ZooError

    zc = _script()
    calls = []

    class Zoo:
        def __init__(self, layers):
            self.layers, self.factory = layers, None

        def inputs(self):
            return None

    def load(spec, layers=None, config_only=False):
        return Zoo(layers)

    class Report:
        uncounted, device = {}, "meta"

    def count(factory, inputs, optimizer=None, amp=None, level="training"):
        calls.append(level)
        if name == "shrinks-badly" and len(calls) == 1:
            raise ZooError("hf:x: building XModel from its configuration failed: ValueError: layer types")
        if name == "codebook" and level == "training":
            raise models.CountingError("the model has no trainable parameters: a training step has nothing")
        return Report()

    monkeypatch.setattr(zoo, "load_zoo_model", load)
    monkeypatch.setattr(models, "count", count)
    monkeypatch.setattr(zc, "hf_builds_unshrunk", lambda name: "")
    name = "shrinks-badly"
    r = zc.run_one("hf", name, None, 30)
    assert r["status"] == "ok" and r["level"] == "training" and calls == ["training", "training"]
    calls.clear()
    name = "codebook"
    r = zc.run_one("hf", name, None, 30)
    assert r["status"] == "ok" and r["level"] == "inference" and calls == ["training", "inference"]
