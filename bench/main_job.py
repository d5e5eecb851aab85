"""The main job over seeds (issue 12): what `make run` gives, with and without line probes.

    python -m bench.main_job                      # seeds 0 1 2, search.line_probes 4 and 0
    python -m bench.main_job --seeds 0 --probes 4
    python -m bench.main_job --smoke              # 2 generations of 4, one seed

Each run is `edgeprune run` on the embedded default with an empty cache of its own, as on a
fresh clone (the baseline trained in the run, every architecture measured); the variants run
interleaved, seed by seed, so a slow spell of the shared host falls on both. Per run: wall
time, the fastest-within-1pt winner (which generation found it, its p50 speedup against the
baseline measured interleaved in the same run, its test accuracy) and the last progress
line's "after recovery" answer (pareto.json) against the winner's search latency. Finished
runs are checkpointed (a rerun after an interruption redoes only the rest).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.checkpoint import SeedCheckpoint
from bench.common import git_commit, read_result, work_dir, write_result
from pipeline.finish import WINNER_NAMES
from pipeline.progress import status

NAME = "main_job"
SMOKE_ARGS = ["search.generations=2", "search.population=4", "train.epochs=1",
              "search.supernet_epochs=1", "recover.epochs=1", "export.int8=false",
              "export.formats=onnx"]
# The winner a run is judged by; without one (no file within 1 point, or no candidate to
# recover), the next winner folder is reported and left out of the summary.
WINNER = WINNER_NAMES


def run_once(seed: int, probes: int, smoke: bool) -> dict:
    """One `edgeprune run` on an empty cache; what the issue asks of it, from its files."""
    out = work_dir(smoke, NAME) / f"seed{seed}-probes{probes}-{int(time.time())}"
    args = [sys.executable, "-m", "pipeline", "run", "--out", str(out), f"seed={seed}",
            f"search.line_probes={probes}"] + (SMOKE_ARGS if smoke else [])
    with tempfile.TemporaryDirectory(prefix="edgeprune-cache-") as cache:
        env = {**os.environ, "EDGEPRUNE_CACHE": cache, "EDGEPRUNE_NO_PROGRESS": "1"}
        start = time.perf_counter()
        done = subprocess.run(args, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"edgeprune run failed (seed {seed}, probes {probes}):\n"
                           + done.stderr[-2000:])
    pareto = json.loads((out / "pareto.json").read_text())
    manifest = next((json.loads(p.read_text()) for p in (
        out / "winners" / reason / "manifest.json" for reason in WINNER) if p.is_file()), None)
    said = pareto.get("progress_after_recovery")
    entry = {"wall_s": wall, "winner": None, "progress_after_recovery": said}
    if manifest:
        # The winner as the search recorded it (a line probe's may have left the front).
        record = next(e for e in map(json.loads, (out / "evaluations.jsonl").read_text()
                                     .splitlines()) if e["id"] == manifest["search_id"])
        search_ms = (record.get("latency_ms") or {}).get("p50")
        entry["winner"] = {
            "reason": manifest["reason"], "id": manifest["search_id"],
            "generation": record["generation"] + 1,   # 1-based, as the progress line counts
            "speedup_p50": manifest["speedup_p50"], "p50_ms": manifest["latency_ms"]["p50"],
            "accuracy_test": manifest["accuracy"],
            "baseline_accuracy_test": manifest["baseline_accuracy"],
            "search_p50_ms": search_ms}
        if said and search_ms:
            # The line's answer against the winner, both as the search measured them.
            entry["progress_off"] = said["latency"] / search_ms - 1
    return entry


def summarise(entries: list[dict]) -> dict:
    def spread(values):
        values = [v for v in values if v is not None]
        return ({"median": statistics.median(values), "min": min(values), "max": max(values)}
                if values else None)

    won = [e["winner"] for e in entries if e["winner"] and e["winner"]["reason"] == WINNER[0]]
    return {"runs": len(entries), "within_1pt": len(won),
            "wall_s": spread([e["wall_s"] for e in entries]),
            "speedup_p50": spread([w["speedup_p50"] for w in won]),
            "winner_after_first_generation": sum(w["generation"] > 1 for w in won),
            "progress_off": spread([abs(e["progress_off"]) for e in entries
                                    if "progress_off" in e and e["winner"] in won]),
            "accuracy_drop_test": spread([w["baseline_accuracy_test"] - w["accuracy_test"]
                                          for w in won])}


def run(seeds: list[int], probes: list[int], smoke: bool) -> Path:
    key = {"commit": git_commit(), "smoke": smoke}
    ckpt = SeedCheckpoint(work_dir(smoke, NAME) / "runs.jsonl")
    runs: dict[str, dict] = {}
    for seed in seeds:
        for p in probes:   # interleaved: each seed runs every variant before the next seed
            k = {**key, "probes": p}
            done = ckpt.done(k)
            if seed not in done:
                status(f"main job: seed {seed}, search.line_probes={p}")
                ckpt.add(k, seed, run_once(seed, p, smoke))
                done = ckpt.done(k)
            runs.setdefault(str(p), {})[str(seed)] = done[seed]
            e = done[seed]
            w = e["winner"] or {}
            status(f"main job: seed {seed}, probes {p}: {e['wall_s']:.0f} s, winner "
                   f"{w.get('id')} ({w.get('speedup_p50') or 0:.2f}x), progress line off by "
                   f"{100 * abs(e.get('progress_off', float('nan'))):.0f}%")
    # A run of some variants keeps the last result's others, each with the commit it ran at.
    last = read_result(NAME, smoke) or {}
    commits = {p: last.get("variant_commits", {}).get(p, last.get("git_commit"))
               for p in last.get("runs", {}) if p not in runs}
    runs = {**{p: last["runs"][p] for p in commits}, **runs}
    commits.update({p: key["commit"] for p in runs if p not in commits})
    payload = {"runs": runs, "variant_commits": commits,
               "summary": {p: summarise(list(r.values())) for p, r in runs.items()}}
    return write_result(NAME, smoke, payload, seed=seeds[0], devices=[],
                        config={"seeds": seeds, "line_probes": probes,
                                "args": SMOKE_ARGS if smoke else []})


def section(r: dict) -> list[str]:
    """bench/README.md's section: one row per line_probes variant."""
    lines = ["## The main job over seeds (`make run` on an empty cache)", "",
             f"`python -m bench.main_job`: `edgeprune run` on digits / ResNet-20 / host-ort, "
             f"seeds {', '.join(map(str, r['config']['seeds']))}, each on an empty cache as on a "
             f"fresh clone; finished {r['finished_utc']}. "
             f"Medians [range] over seeds; speedup = the winner's p50 against the baseline's, "
             f"measured interleaved in the same run; \"progress line off\" = the last progress "
             f"line's after-recovery latency against the winner's, both as the search measured "
             f"them.", "",
             "| search.line_probes | commit | wall time s | speedup | winners after generation 1 | "
             "progress line off | test accuracy drop |", "|---|---|---|---|---|---|---|"]
    # Speedup, generation, the line and the drop: over the runs whose winner is within 1 point.

    def cell(s, fmt):
        return f"{fmt(s['median'])} [{fmt(s['min'])}-{fmt(s['max'])}]" if s else "-"

    for p, s in r["summary"].items():
        commit = r.get("variant_commits", {}).get(p, r["git_commit"])
        lines.append(f"| {p} | `{commit[:10]}` | {cell(s['wall_s'], lambda v: f'{v:.0f}')} | "
                     f"{cell(s['speedup_p50'], lambda v: f'{v:.2f}x')} | "
                     f"{s['winner_after_first_generation']} of {s['within_1pt']} within 1 "
                     f"point ({s['runs']} runs) | "
                     f"{cell(s['progress_off'], lambda v: f'{100 * v:.0f}%')} | "
                     f"{cell(s['accuracy_drop_test'], lambda v: f'{100 * v:.2f}')} |")
    lines += ["", *verdict(r["summary"]), "", "Per run (winner id: g<generation - 1>-i<index>):",
              ""]
    for p, by_seed in r["runs"].items():
        for seed, e in by_seed.items():
            w = e["winner"] or {}
            lines.append(f"- line_probes {p}, seed {seed}: {e['wall_s']:.0f} s, "
                         f"{w.get('reason', 'no winner')} "
                         f"`{w.get('id')}` {w.get('speedup_p50') or 0:.2f}x, test "
                         f"{100 * (w.get('accuracy_test') or 0):.2f}% (baseline "
                         f"{100 * (w.get('baseline_accuracy_test') or 0):.2f}%), progress line "
                         f"{(e.get('progress_after_recovery') or {}).get('how', '-')} "
                         f"{(e.get('progress_after_recovery') or {}).get('latency', 0):.3f} ms "
                         f"against {w.get('search_p50_ms') or 0:.3f} ms")
    return lines + [""]


def verdict(summary: dict) -> list[str]:
    """What the table shows, from its own numbers: probes against none, where both ran."""
    on, off = summary.get("4"), summary.get("0")
    if not (on and off and on["speedup_p50"] and off["speedup_p50"]):
        return []
    a, b = on["speedup_p50"]["median"], off["speedup_p50"]["median"]
    return [f"With line probes the median speedup is {a:.2f}x against {b:.2f}x without "
            f"({'higher' if a > b else 'lower'}; over {on['within_1pt']} and {off['within_1pt']} "
            f"runs); winners after generation 1: {on['winner_after_first_generation']} of "
            f"{on['within_1pt']} with, {off['winner_after_first_generation']} of "
            f"{off['within_1pt']} without."]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--probes", type=int, nargs="+", default=[4, 0])
    ap.add_argument("--smoke", action="store_true")
    a = ap.parse_args(argv)
    seeds = a.seeds[:1] if a.smoke else a.seeds
    print(run(seeds, a.probes, a.smoke))


if __name__ == "__main__":
    main()
