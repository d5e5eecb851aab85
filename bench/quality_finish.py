"""The common finish line of the search-quality benchmark: every method's candidates are
recovered the same way (same short distillation, same seed), exported to the profile's format,
and measured together with the baseline in one device session, interleaved over rounds.

Accuracy is the exported file's top-1 on the test split (never used for any choice before);
"within 1 point" compares it with the exported baseline's test accuracy.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from bench.common import measure_interleaved, ratio_over_rounds
from pipeline.progress import status

MAX_DROP = 0.01            # "within 1 point"
HV_DROP_SPAN = 0.05        # hypervolume box: up to 5 points below the baseline ...
HV_LATENCY_SPAN = 1.0      # ... and no slower than the baseline


class Finisher:
    """Recovers each architecture once (by key) and exports it once per format."""

    def __init__(self, inputs, recover_cfg, recover_steps: int, seed: int, workdir: Path,
                 test=None):
        """test: (images, labels) to judge every file on instead of the splits' test part
        (bench.common.full_test_split)."""
        self.splits, self.base_model, self.base_info = inputs
        self.test = test if test is not None else (self.splits.x_test, self.splits.y_test)
        self.recover_cfg, self.steps = recover_cfg, recover_steps
        self.seed, self.workdir = seed, Path(workdir)
        self.models: dict[str, object] = {}
        self.info: dict[str, dict] = {}
        self.files: dict[tuple[str, str], Path] = {}
        self.recover_s = 0.0

    def recover(self, cand):
        if cand.key in self.models:
            return self.models[cand.key]
        import copy

        import torch

        from pipeline.prune import apply_genome, count_params_macs
        from pipeline.recover import distill, evaluate, recalibrate_bn

        start = time.perf_counter()
        example = torch.zeros(self.splits.input_shape)
        torch.manual_seed(self.seed)
        student = (copy.deepcopy(cand.model) if cand.model is not None else
                   apply_genome(self.base_model, cand.channels, example, importance="l1"))
        recalibrate_bn(student, [self.splits.x_train[i:i + 64] for i in range(0, 512, 64)])
        # A fixed number of KD steps, the same for every candidate of every method.
        model, _ = distill(student, self.base_model, self.splits, self.recover_cfg, self.seed,
                           max_steps=self.steps)
        model.eval()
        params, macs = count_params_macs(model, example)
        self.info[cand.key] = {"accuracy_val": float(evaluate(model, self.splits.x_val,
                                                              self.splits.y_val)),
                               "params": params, "macs": macs}
        self.models[cand.key] = model
        self.recover_s += time.perf_counter() - start
        status(f"recovered {cand.method} {cand.label}: validation "
               f"{100 * self.info[cand.key]['accuracy_val']:.2f}%, {macs / 1e6:.2f} MMACs")
        return model

    def bisect(self, result) -> list:
        """The rungs of `result.ladder` the product's finish would recover looking for the
        fastest within 1 point on validation (pipeline.search.winners.bisect_ladder), in order
        tried; each then crosses the finish line like any candidate."""
        from pipeline.search.winners import bisect_ladder

        tried = []

        def within(i: int) -> bool:
            cand = result.ladder[i]
            self.recover(cand)
            tried.append(cand)
            return self.info[cand.key]["accuracy_val"] >= self.base_info["accuracy_val"] - MAX_DROP

        bisect_ladder(len(result.ladder), result.budget, within)
        return tried

    def export(self, models: dict[str, object], runtime: str) -> dict[str, Path]:
        """One file per architecture key and runtime (TFLite ones converted side by side)."""
        import torch

        from pipeline.export.tflite_pool import export_for_runtime

        todo = [k for k in models if (k, runtime) not in self.files]
        names = [k.replace(":", "_").replace(",", "-")[:80] for k in todo]
        written = export_for_runtime([models[k] for k in todo],
                                     torch.zeros(self.splits.input_shape), self.workdir, names,
                                     runtime, simplify=True)   # the files as a user ships them
        self.files.update({(k, runtime): p for k, p in zip(todo, written)})
        return {k: self.files[(k, runtime)] for k in models}

    def score(self, device, methods: list, rounds: int) -> dict:
        """Every method's candidates and the baseline, measured side by side; the table rows."""
        from pipeline.export import run_file

        runtime = device.profile.runtime
        models = {"baseline": self.base_model}
        for result in methods:
            if result.ladder and not result.candidates:   # once: a FLOPs search serves 2 profiles
                result.candidates = self.bisect(result)
            for cand in result.candidates:
                models[cand.key] = self.recover(cand)
        files = self.export(models, runtime)
        base_path = files.pop("baseline")
        paths = [base_path] + sorted(set(files.values()), key=str)
        status(f"measuring {len(paths)} files on {device.profile.name}, {rounds} interleaved rounds")
        latency = measure_interleaved(device, paths, self.splits.input_shape, rounds)
        x_test, y_test = self.test[0].numpy(), self.test[1].numpy()

        def test_accuracy(path):
            return float(np.mean(run_file(path, x_test).argmax(1) == y_test))

        base = {"accuracy_test": test_accuracy(base_path), "latency_ms": latency[str(base_path)]}
        rows = {}
        for result in methods:
            points = []
            for cand in result.candidates:
                path = files[cand.key]
                lat = latency[str(path)]
                acc = test_accuracy(path)
                points.append({"label": cand.label, "key": cand.key, "channels": cand.channels,
                               "estimate": cand.estimate, **self.info[cand.key],
                               "accuracy_test": acc,
                               "drop_points": 100 * (base["accuracy_test"] - acc),
                               "latency_ms": lat,
                               "speedup": 1 / ratio_over_rounds(lat, base["latency_ms"])["median"]})
            rows[result.method] = {"evaluated": result.evaluated, "wall_s": result.wall_s,
                                   "front_estimates": result.front, "points": points,
                                   **summarize_method(points, base)}
        return {"baseline": base, "methods": rows, "test_images": int(len(y_test))}


def summarize_method(points: list[dict], base: dict) -> dict:
    """The fastest file within 1 point, and the hypervolume of all the method's files."""
    ok = [p for p in points if p["drop_points"] <= 100 * MAX_DROP]
    best = min(ok, key=lambda p: p["latency_ms"]["p50"]) if ok else None
    return {"best_within_1pt": best, "hypervolume": hypervolume(points, base)}


def hypervolume(points: list[dict], base: dict) -> float:
    """Area dominated in (drop / 5 points, latency / baseline latency) below the common
    reference point (1, 1): 0 = nothing better than the baseline box's corner."""
    from pymoo.indicators.hv import HV

    if not points:
        return 0.0
    base_p50 = base["latency_ms"]["p50"]
    F = np.array([[p["drop_points"] / (100 * HV_DROP_SPAN), p["latency_ms"]["p50"] / base_p50]
                  for p in points])
    F = F[(F[:, 0] < 1.0) & (F[:, 1] < HV_LATENCY_SPAN)]
    return float(HV(ref_point=np.array([1.0, HV_LATENCY_SPAN]))(F)) if len(F) else 0.0


def head_to_head(scored: dict, ours: str = "latency-ga") -> dict | None:
    """Our fastest-within-1-point file against the best other method's, ratio per round."""
    methods = scored["methods"]
    mine = (methods.get(ours) or {}).get("best_within_1pt")
    others = [(name, m["best_within_1pt"]) for name, m in methods.items()
              if name != ours and m.get("best_within_1pt")]
    if not others:
        return {"ours": mine, "best_other": None, "best_other_method": None,
                "latency_ratio_ours_over_other": None}
    name, best = min(others, key=lambda nb: nb[1]["latency_ms"]["p50"])
    ratio = ratio_over_rounds(mine["latency_ms"], best["latency_ms"]) if mine else None
    return {"ours": mine, "best_other": best, "best_other_method": name,
            "latency_ratio_ours_over_other": ratio}
