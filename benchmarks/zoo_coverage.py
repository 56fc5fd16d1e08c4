"""Zoo coverage: how many architectures of each zoo count a training step with zero uncounted ops.

For every architecture tried: build it from its configuration (no weights), run one training step (forward,
MSE loss on the first floating-point output, backward, AdamW step) through ``gatesim.models.count`` with its
defaults (meta tensors, falling back to fake and real CPU tensors), in fp32 and again under bf16 autocast, and
check that no op was left uncounted. Prints "N of M architectures, zero uncounted ops" per zoo and lists the rest
with why. M leaves out, and lists apart, architectures whose library default configuration does not build
and those whose processor needs a package that is not installed (torchaudio).

* hf: every model type of the installed transformers that has a model class with a forward pass, fed the
  inputs :mod:`gatesim.models.hf_inputs` builds from its configuration, processors and forward signature; two
  layers (``num_hidden_layers`` and friends set to 2; all of them where two do not build).
* torchvision: every classification, segmentation, detection and video model of ``torchvision.models``.
* timm: a representative set (``--timm-count``, default 60: evenly spaced names of timm's sorted list).

    python benchmarks/zoo_coverage.py --zoo hf [--amp both|fp32|bf16] [--only bert,gpt2] [--timeout S]
        [--progress run.jsonl [--retry-failed]] [--from-progress run.jsonl] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import time
import traceback
import warnings
from collections import Counter

import torch


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


def hf_architectures(only=None) -> tuple[list[str], dict[str, str]]:
    """(model types to try, {model type: why not tried}). Every model type of the installed transformers is
    tried unless its default configuration does not build, transformers has no model class for it (a
    configuration-only type) or the class needs a package that is not installed."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    from gatesim.models.zoo import hf_model_class

    tried, skipped = [], {}
    for mt in sorted(CONFIG_MAPPING.keys()):
        if only and mt not in only:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                config = CONFIG_MAPPING[mt]()
        except Exception as e:
            skipped[mt] = f"{DOES_NOT_BUILD}: {type(e).__name__}: {_line(e)}"
            continue
        try:
            cls = hf_model_class(config)
            cls.forward  # a placeholder class for a missing package raises ImportError here
        except ImportError as e:
            skipped[mt] = f"{NEEDS_PACKAGE}: {_line(e) or str(e).strip().splitlines()[0][:120]}"
            continue
        except Exception:
            skipped[mt] = NO_CLASS
            continue
        tried.append(mt)
    return tried, skipped


#: the errors of a training step of a model that has none (counted as one forward instead)
NOTHING_TO_TRAIN = ("the model has no trainable parameters", "model output has dtype torch.int",
                    "model output has dtype torch.bool", "the model's forward runs under torch.inference_mode")
DOES_NOT_BUILD = "default configuration does not build"
NEEDS_PACKAGE = "needs a package not installed"
NO_CLASS = "no model class with a forward pass (a configuration-only type, a tokenizer or a generation wrapper)"


def _line(e) -> str:
    lines = [x for x in str(e).splitlines() if x.strip()]
    return lines[0][:200] if lines else ""


def hf_builds_unshrunk(name: str) -> str:
    """'' if the model type's default configuration builds its model (on meta, all its layers), else why not."""
    from gatesim.models.zoo import hf_config, hf_model_class

    try:
        config = hf_config(name, True)
        cls = hf_model_class(config)
        with torch.device("meta"):
            cls._from_config(config)
        return ""
    except Exception as e:
        return f"{type(e).__name__}: {_line(e)}"


def torchvision_architectures(only=None):
    import torchvision

    m = torchvision.models
    names = []
    for sub in (m, m.segmentation, m.detection, m.video):
        names += m.list_models(module=sub)
    names = sorted(set(names))
    return [n for n in names if not only or n in only], {}


def timm_architectures(only=None, count=60):
    import timm

    names = sorted(timm.list_models())
    if only:
        return [n for n in names if n in only], {}
    stride = max(1, len(names) // count)
    return names[::stride][:count], {}


def run_one(zoo, name, amp, timeout):
    from gatesim.models import count
    from gatesim.models.trace import CountingError
    from gatesim.models.zoo import load_zoo_model

    spec = f"{zoo}:{name}"
    t = time.perf_counter()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            zm = load_zoo_model(spec, layers=2 if zoo == "hf" else None, config_only=True)
            level = "training"
            try:
                r = count(zm.factory, zm.inputs(), optimizer="adamw", amp=amp)
            except Exception as e:
                if isinstance(e, CountingError) and str(e).startswith(NOTHING_TO_TRAIN):
                    # a model with no training step (no trainable parameter, or only integer outputs: a
                    # codebook, a codec's encoder) is counted as what it does: one forward
                    level = "inference"
                    r = count(zm.factory, zm.inputs(), level="inference", amp=amp)
                # two layers can break a configuration whose per-layer settings do not shrink with them (layers
                # that share another's cache): the whole default model, if it builds, is counted instead
                elif zoo != "hf" or "from its configuration failed" not in str(e) or hf_builds_unshrunk(name):
                    raise
                else:
                    zm = load_zoo_model(spec, config_only=True)
                    r = count(zm.factory, zm.inputs(), optimizer="adamw", amp=amp)
        unc = dict(r.uncounted)
        status = "ok" if not unc else "uncounted"
        why = ", ".join(f"{k} x{v}" for k, v in sorted(unc.items()))
        return dict(name=name, amp=amp, status=status, why=why, device=r.device, uncounted=unc,
                    seconds=round(time.perf_counter() - t, 2), level=level)
    except Timeout:
        return dict(name=name, amp=amp, status="error", why=f"timed out after {timeout} s", device=None,
                    uncounted={}, seconds=timeout)
    except Exception as e:
        msg = str(e).splitlines()[0] if str(e) else ""
        status = "error"
        if "library but it was not found" in msg:  # a processor's backend (torchaudio) is not installed
            status, msg = "no-package", f"{NEEDS_PACKAGE}: {msg[msg.find('requires'):] if 'requires' in msg else msg}"
        elif zoo == "hf" and "from its configuration failed" in msg:
            why = hf_builds_unshrunk(name)
            if why:  # the library's own default configuration does not build: not the counter's failure
                status, msg = "no-build", f"{DOES_NOT_BUILD}: {why}"
        return dict(name=name, amp=amp, status=status, why=f"{type(e).__name__}: {msg[:300]}"
                    if status == "error" else msg[:300], device=None,
                    uncounted={}, seconds=round(time.perf_counter() - t, 2),
                    trace=traceback.format_exc()[-2000:])
    finally:
        signal.alarm(0)


def summarize(zoo: str, rows: list, skipped: dict, amps: list) -> dict:
    """Print "N of M architectures, zero uncounted ops" and every other architecture with why; M is every
    architecture tried except those whose default configuration does not build (listed apart)."""
    nobuild = [r for r in rows if any(x["status"] in ("no-build", "no-package") for x in r)]
    ran = [r for r in rows if r not in nobuild]
    good = [r for r in ran if all(x["status"] == "ok" for x in r)]
    how = " and ".join("fp32" if a is None else a + " autocast" for a in amps)
    pct = 100 * len(good) / len(ran) if ran else 0.0
    print(f"{zoo}: {len(good)} of {len(ran)} architectures, zero uncounted ops ({pct:.1f}%; {how}; training step "
          f"with AdamW); {len(nobuild)} more whose default configuration does not build or whose processor "
          f"needs a package not installed")
    devices = Counter(x["device"] for r in good for x in r)
    print(f"  counted on: {', '.join(f'{d} {n}' for d, n in devices.most_common())}")
    forward = sorted({x["name"] for r in good for x in r if x.get("level") == "inference"})
    if forward:
        print(f"  counted as one forward (no training step: nothing trainable, only integer outputs, or a forward "
              f"under torch.inference_mode): "
              f"{', '.join(forward)}")
    missing = Counter()
    for r in ran:
        for x in r:
            if x["status"] != "ok":
                print(f"  FAILED {x['name']} [{x['amp'] or 'fp32'}]: {x['status']}: {x['why'][:300]}")
            for op in x["uncounted"]:
                missing[op] += 1
    if missing:
        print("  uncounted ops by architectures: " + ", ".join(f"{k} {v}" for k, v in missing.most_common()))
    for r in nobuild:
        what = "does not build" if r[0]["status"] == "no-build" else "not tried"
        print(f"  {what}: {r[0]['name']}: {r[0]['why'][:300]}")
    for mt, why in sorted(skipped.items()):
        print(f"  not tried: {mt}: {why}")
    return dict(counted=len(good), tried=len(ran), no_build=len(nobuild), skipped=len(skipped))


class Runner:
    """Runs :func:`run_one` in a worker process, started afresh every ``every`` models (a long run in one process
    ends in a libc heap fault after some 470 transformers models) and after one that kills it (a crash, the
    memory limit): that model is recorded failed and the run goes on. ``every`` 0 runs in this process."""

    def __init__(self, every: int, target=None):
        self.every, self.pool, self.done = every, None, 0
        self.target = target or _seeded_run  # a module-level function (the worker imports it)

    def __call__(self, zoo, name, amp, timeout) -> dict:
        if not self.every:
            return self.target(zoo, name, amp, timeout)
        import concurrent.futures as cf
        import multiprocessing as mp

        if self.pool is None or self.done >= self.every:
            self.close()
            self.pool, self.done = cf.ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")), 0
        self.done += 1
        fut = self.pool.submit(self.target, zoo, name, amp, timeout)
        try:
            return fut.result(timeout=timeout + 120)  # run_one's own alarm ends a slow model first
        except (cf.process.BrokenProcessPool, cf.TimeoutError) as e:
            self.close(kill=True)
            why = CRASHED if isinstance(e, cf.process.BrokenProcessPool) else f"hung past {timeout + 120} s"
            return dict(name=name, amp=amp, status="error", why=why, device=None, uncounted={}, seconds=0.0,
                        crashed=True)

    def close(self, kill: bool = False) -> None:
        if self.pool is not None:
            if kill:
                for p in list(getattr(self.pool, "_processes", {}).values()):
                    p.kill()
            self.pool.shutdown(wait=not kill, cancel_futures=True)
            self.pool = None


def _seeded_run(zoo, name, amp, timeout) -> dict:
    import warnings

    warnings.simplefilter("ignore")
    torch.manual_seed(0)
    return run_one(zoo, name, amp, timeout)


STARTED = "started"
CRASHED = "the counting process died while counting it (a crash, or the memory limit: ulimit -v)"


def _log(log, zoo: str, x: dict) -> None:
    print(json.dumps({"zoo": zoo, **{k: v for k, v in x.items() if k != "trace"}}), file=log, flush=True)


def read_progress(path: str) -> dict:
    """{zoo: {name: {amp: result}}} from a --progress JSONL file; a later line for the same run wins; a run
    marked started and never ended killed the process: it failed (--retry-failed runs it again only in a worker
    process, where a crash cannot end the run)."""
    by_zoo: dict = {}
    try:
        lines = open(path).read().splitlines()
    except FileNotFoundError:
        return by_zoo
    for line in lines:
        if line.strip():
            x = json.loads(line)
            if x["status"] == STARTED:
                x = dict(x, status="error", why=CRASHED, device=None, uncounted={}, seconds=0.0, crashed=True)
            by_zoo.setdefault(x["zoo"], {}).setdefault(x["name"], {})[x["amp"]] = x
    return by_zoo


def from_progress(path: str, skipped: dict | None = None) -> None:
    """Summaries from a --progress JSONL file (a run stopped part way counts what it finished)."""
    for zoo, per in read_progress(path).items():
        amps = sorted({a for r in per.values() for a in r}, key=lambda a: a or "")
        rows = [[r[a] for a in amps] for r in per.values() if all(a in r for a in amps)]
        summarize(zoo, rows, skipped or {}, amps)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zoo", choices=["hf", "torchvision", "timm"], action="append")
    ap.add_argument("--amp", choices=["both", "fp32", "bf16"], default="both")
    ap.add_argument("--only", help="comma-separated architecture names")
    ap.add_argument("--timeout", type=int, default=300, help="seconds per architecture and precision")
    ap.add_argument("--timm-count", type=int, default=60)
    ap.add_argument("--json", help="write every result to this JSON file")
    ap.add_argument("--progress", help="append each result to this JSONL file as it ends; architectures it already "
                                       "holds are not run again (resume), unless --retry-failed and they failed")
    ap.add_argument("--retry-failed", action="store_true", help="with --progress: run again what failed there "
                                                                 "(what killed the process too, unless --fresh-every 0)")
    ap.add_argument("--from-progress", help="only summarize a --progress JSONL file")
    ap.add_argument("--fresh-every", type=int, default=100, metavar="N",
                    help="count in a worker process started afresh every N models and after a crash (default 100; "
                         "0: in this process)")
    args = ap.parse_args()
    if args.from_progress:
        return from_progress(args.from_progress)
    only = set(args.only.split(",")) if args.only else None
    amps = {"both": [None, "bf16"], "fp32": [None], "bf16": ["bf16"]}[args.amp]
    torch.manual_seed(0)
    from gatesim.models.zoo import zoo_status

    results = {}
    runner = Runner(args.fresh_every)
    for zoo in args.zoo or ["hf", "torchvision", "timm"]:
        ok, why = zoo_status(zoo)
        if not ok:
            print(f"{zoo}: not available: {why}")
            continue
        if zoo == "hf":
            names, skipped = hf_architectures(only)
        elif zoo == "torchvision":
            names, skipped = torchvision_architectures(only)
        else:
            names, skipped = timm_architectures(only, args.timm_count)
        rows = []
        from tqdm import tqdm

        done = read_progress(args.progress).get(zoo, {}) if args.progress else {}
        log = open(args.progress, "a") if args.progress else None
        for name in tqdm(names, desc=zoo, file=sys.stderr):
            old = done.get(name, {})
            if all(a in old for a in amps) and not (args.retry_failed and any(
                    old[a]["status"] != "ok" and (args.fresh_every or not old[a].get("crashed")) for a in amps)):
                rows.append([old[a] for a in amps])
                continue
            per = []
            for amp in amps:
                if per and per[0]["status"] in ("no-build", "no-package"):  # nor under autocast
                    x = dict(per[0], amp=amp)
                else:
                    if log:  # a run that kills the process (a crash, the memory limit) is left marked started
                        _log(log, zoo, dict(name=name, amp=amp, status=STARTED))
                    x = runner(zoo, name, amp, args.timeout)
                per.append(x)
                if log:
                    _log(log, zoo, x)
            rows.append(per)
        runner.close()
        summarize(zoo, rows, skipped, amps)
        results[zoo] = {"rows": rows, "skipped": skipped}
    if args.json:
        from gatesim.datafile import write_file_atomic

        write_file_atomic(args.json, json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
