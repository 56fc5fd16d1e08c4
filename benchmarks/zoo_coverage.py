"""Zoo coverage: how many architectures of each zoo count a training step with zero uncounted ops.

For every architecture tried: build it from its configuration (no weights), run one training step (forward,
MSE loss on the first output, backward, AdamW step) through ``gatesim.models.count`` with its defaults
(meta tensors, falling back to fake and real CPU tensors), in fp32 and again under bf16 autocast, and check that
no op was left uncounted. Prints "N of M architectures, zero uncounted ops" per zoo and lists the rest with why.

* hf: every model type of the installed transformers whose default configuration builds and whose model takes
  one main input (token ids, pixel values, audio); two layers (``num_hidden_layers`` and friends set to 2).
  Multimodal models that need paired inputs (text + image) are listed as not tried.
* torchvision: every classification, segmentation, detection and video model of ``torchvision.models``.
* timm: a representative set (``--timm-count``, default 60: every ``--timm-stride``-th name of timm's sorted
  list of architectures without pretrained tags).

    python benchmarks/zoo_coverage.py --zoo hf [--amp both|fp32|bf16] [--only bert,gpt2] [--json out.json]
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
    """(model types to try, {model type: why not tried})."""
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
            skipped[mt] = f"default configuration does not build: {type(e).__name__}"
            continue
        try:
            cls = hf_model_class(config)
            main = getattr(cls, "main_input_name", "input_ids")
        except ImportError as e:
            skipped[mt] = f"needs a package not installed: {str(e).strip().splitlines()[0][:80]}"
            continue
        except Exception:
            skipped[mt] = "no model class (a configuration-only or sub-model type)"
            continue
        subs = [k for k in ("text_config", "vision_config", "audio_config", "speech_config", "image_config")
                if getattr(config, k, None) is not None]
        if len(subs) >= 2 or main not in ("input_ids", "pixel_values", "input_values", "input_features"):
            skipped[mt] = f"multimodal or special inputs ({main}; {', '.join(subs) or 'no sub-configs'})"
            continue
        tried.append(mt)
    return tried, skipped


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
    from gatesim.models.zoo import load_zoo_model

    spec = f"{zoo}:{name}"
    t = time.perf_counter()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            zm = load_zoo_model(spec, layers=2 if zoo == "hf" else None, config_only=True)
            r = count(zm.factory, zm.inputs(), optimizer="adamw", amp=amp)
        unc = dict(r.uncounted)
        status = "ok" if not unc else "uncounted"
        why = ", ".join(f"{k} x{v}" for k, v in sorted(unc.items()))
        return dict(name=name, amp=amp, status=status, why=why, device=r.device, uncounted=unc,
                    seconds=round(time.perf_counter() - t, 2))
    except Timeout:
        return dict(name=name, amp=amp, status="error", why=f"timed out after {timeout} s", device=None,
                    uncounted={}, seconds=timeout)
    except Exception as e:
        msg = str(e).splitlines()[0] if str(e) else ""
        return dict(name=name, amp=amp, status="error", why=f"{type(e).__name__}: {msg[:300]}", device=None,
                    uncounted={}, seconds=round(time.perf_counter() - t, 2),
                    trace=traceback.format_exc()[-2000:])
    finally:
        signal.alarm(0)


def counter_failure(x: dict) -> bool:
    """Whether a failed run is the counter's fault (an uncounted op, a recipe that failed, a fallback that was
    refused or timed out) rather than the model's (it does not build, or needs inputs a generic step lacks)."""
    if x["status"] == "uncounted":
        return True
    why = x["why"]
    return any(s in why for s in ("recipe for", "needs real values", "timed out", "Timeout", "CountingError: no recipe"))


def summarize(zoo: str, rows: list, skipped: dict, amps: list) -> None:
    """Print "N of M architectures, zero uncounted ops" and the rest with why."""
    ran = [r for r in rows if not any(x["status"] == "error" and not counter_failure(x) for x in r)]
    good = [r for r in ran if all(x["status"] == "ok" for x in r)]
    how = " and ".join("fp32" if a is None else a + " autocast" for a in amps)
    pct = 100 * len(good) / len(ran) if ran else 0.0
    print(f"{zoo}: {len(good)} of {len(ran)} architectures, zero uncounted ops ({pct:.1f}%; {how}; training step "
          f"with AdamW); {len(rows) - len(ran)} more do not build or run with generic inputs (listed below)")
    devices = Counter(x["device"] for r in good for x in r)
    print(f"  counted on: {', '.join(f'{d} {n}' for d, n in devices.most_common())}")
    missing = Counter()
    for r in rows:
        for x in r:
            if x["status"] != "ok":
                kind = "COUNTER" if counter_failure(x) else "model/inputs"
                print(f"  {x['name']} [{x['amp'] or 'fp32'}] ({kind}): {x['status']}: {x['why'][:240]}")
            for op in x["uncounted"]:
                missing[op] += 1
    if missing:
        print("  uncounted ops by architectures: " + ", ".join(f"{k} {v}" for k, v in missing.most_common()))
    for mt, why in sorted(skipped.items()):
        print(f"  not tried: {mt}: {why}")


def from_progress(path: str) -> None:
    """Summaries from a --progress JSONL file (a run stopped part way counts what it finished)."""
    by_zoo: dict = {}
    for line in open(path):
        x = json.loads(line)
        by_zoo.setdefault(x["zoo"], {}).setdefault(x["name"], []).append(x)
    for zoo, per in by_zoo.items():
        amps = sorted({x["amp"] for r in per.values() for x in r}, key=lambda a: a or "")
        rows = [r for r in per.values() if len(r) == len(amps)]
        summarize(zoo, rows, {}, amps)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zoo", choices=["hf", "torchvision", "timm"], action="append")
    ap.add_argument("--amp", choices=["both", "fp32", "bf16"], default="both")
    ap.add_argument("--only", help="comma-separated architecture names")
    ap.add_argument("--timeout", type=int, default=300, help="seconds per architecture and precision")
    ap.add_argument("--timm-count", type=int, default=60)
    ap.add_argument("--json", help="write every result to this JSON file")
    ap.add_argument("--progress", type=argparse.FileType("a"), help="append each result to this JSONL file as it ends")
    ap.add_argument("--from-progress", help="only summarize a --progress JSONL file")
    args = ap.parse_args()
    if args.from_progress:
        return from_progress(args.from_progress)
    only = set(args.only.split(",")) if args.only else None
    amps = {"both": [None, "bf16"], "fp32": [None], "bf16": ["bf16"]}[args.amp]
    torch.manual_seed(0)
    from gatesim.models.zoo import zoo_status

    results = {}
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

        for name in tqdm(names, desc=zoo, file=sys.stderr):
            per = [run_one(zoo, name, amp, args.timeout) for amp in amps]
            rows.append(per)
            if args.progress:
                for x in per:
                    print(json.dumps({"zoo": zoo, **{k: v for k, v in x.items() if k != "trace"}}),
                          file=args.progress, flush=True)
        summarize(zoo, rows, skipped, amps)
        results[zoo] = {"rows": rows, "skipped": skipped}
    if args.json:
        from gatesim.datafile import write_file_atomic

        write_file_atomic(args.json, json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
