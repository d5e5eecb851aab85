"""The search stage of the main job: space, baseline latency, sensitivity, GA, front, winners.

Writes `sensitivity.json`, `evaluations.jsonl` and `search_state.json` after every generation
(atomically), then `pareto.json`. On resume, recorded evaluations are replayed.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pipeline.errors import UserError
from pipeline.progress import status
from pipeline.search.checkpoint import read_evaluations, write_evaluations, write_json_atomic
from pipeline.search.records import BASELINE, DEVICE_SOURCES
from pipeline.devices.stats import latency_dict


LATENCY_UNITS = {"device": "ms", "predicted": "ms", "flops": "MMACs", "params": "Mparams"}


def prepare_search(cfg, profile, device, base_model, base_info, splits, run_dir: Path):
    """The search space, an evaluator bound to the device, and the baseline's measured numbers."""
    import torch

    from pipeline.prune import SearchSpace, count_params_macs
    from pipeline.search.fitness import Evaluator

    sc = cfg.search
    example = torch.zeros(splits.input_shape)
    round_to = sc.round_to or profile.round_to
    space = SearchSpace.from_model(base_model, example, ignore=tuple(cfg.model.ignore),
                                   round_to=round_to)
    if space.unprunable:
        status(f"search: left unpruned (not understood by the dependency graph): "
               f"{', '.join(space.unprunable)}")
    if not space.groups:
        raise UserError(f"model '{cfg.model.name}' has no prunable channel groups; "
                        f"check model.ignore")
    status(f"search: {len(space.groups)} prunable groups, round_to={round_to}, "
           f"latency source '{sc.latency_source}' on '{profile.name}'")
    recorded = {e.key: e for e in read_evaluations(run_dir / "evaluations.jsonl")}
    from pipeline.executors import make_executor

    measures = sc.latency_source in DEVICE_SOURCES
    evaluator = Evaluator(base_model=base_model, space=space, splits=splits, search_cfg=sc,
                          recover_cfg=cfg.recover, device=device if measures else None,
                          workdir=run_dir / "search_work", seed=cfg.seed,
                          recorded=recorded, executor=make_executor(sc, cfg.train))
    if sc.importance == "blend":   # found once per run (criteria.json), used for every pruning
        from pipeline.criteria.study import blend_for_run

        evaluator.importance = blend_for_run(cfg, base_model, splits, space,
                                             evaluator.calib_batches, run_dir)
    # The baseline's own latency goes through the same device path as every individual.
    (base_eval,) = evaluator.evaluate([space.full()], generation=BASELINE)
    params, macs = count_params_macs(base_model, example)
    baseline = {"accuracy": base_info["accuracy_val"], "accuracy_test": base_info["accuracy_test"],
                "latency": base_eval.latency_objective(), "latency_ms": base_eval.latency_ms,
                "params": int(params), "macs": int(macs), "channels": space.full()}
    if baseline["latency_ms"] is None and device is not None:
        # Proxy-driven searches still report the baseline's real latency.
        baseline["latency_ms"] = _measure_once(device, base_model, example, run_dir)
    unit = LATENCY_UNITS[sc.latency_source]
    status(f"baseline: latency {baseline['latency']:.3f} {unit}, {params / 1e3:.1f}k params, "
           f"{macs / 1e6:.2f} MMACs")
    return space, evaluator, baseline, unit


def sensitivity_rows(cfg, evaluator, space, baseline, run_dir: Path):
    """Layer sensitivity, computed once per run folder and printed as a table."""
    from pipeline.search import sensitivity as sens

    path = run_dir / "sensitivity.json"
    if path.is_file():
        rows = sens.from_json(json.loads(path.read_text()))
    else:
        rows = sens.layer_sensitivity(evaluator, space, baseline["accuracy"], baseline["latency"],
                                      keeps=tuple(cfg.search.sensitivity_keeps))
        write_json_atomic(path, sens.to_json(rows))
    status("sensitivity (cheap accuracy drop, measured latency change):\n"
           + sens.format_table(rows, unit=LATENCY_UNITS[cfg.search.latency_source]))
    return rows


def run_search_stage(cfg, profile, device, base_model, base_info, splits, run_dir: Path,
                     clock) -> dict:
    from pipeline.search import sensitivity as sens
    from pipeline.search.ga import Baseline, GeneticSearch, Objectives, non_dominated
    from pipeline.search.genes import GeneSpace, initial_population
    from pipeline.search.outlook import describe, fastest_after_recovery

    sc = cfg.search
    space, evaluator, baseline, unit = prepare_search(cfg, profile, device, base_model,
                                                      base_info, splits, run_dir)
    if sc.supernet_epochs > 0:   # trained once per run folder (supernet/), before the probes
        from pipeline.supernet import supernet_for_run

        evaluator.supernet = supernet_for_run(
            cfg, base_model, space, GeneSpace.from_space(space, min_keep=sc.min_keep), splits,
            evaluator.importance or sc.importance, evaluator.calib_batches, run_dir)

    bounds, scores = {}, None
    if sc.sensitivity:
        with clock.stage("sensitivity"):
            rows = sensitivity_rows(cfg, evaluator, space, baseline, run_dir)
        if sc.sensitivity_bounds:
            bounds = sens.gene_bounds(rows, sc.sensitivity_tolerance)
        scores = sens.sensitivity_scores(rows)

    # Finer genes than the device's SIMD hint: seeds and part of the mutations on its steps.
    pulled = sc.snap_share > 0 or sc.coarse_generations > 0
    align = profile.round_to if pulled and space.round_to < profile.round_to else 1
    genes = GeneSpace.from_space(space, min_keep=sc.min_keep, bounds=bounds, align=align)
    objectives = Objectives(mode=sc.mode, baseline=Baseline(baseline["accuracy"],
                            baseline["latency"], baseline["params"]),
                            weights=tuple(sc.weights), third=sc.third_objective,
                            budget=sc.budget_ms, max_drop=sc.max_drop)
    floor = sc.front_floor * baseline["accuracy"]   # below it, no member is reported
    full = baseline["channels"]
    rng = np.random.default_rng(cfg.seed)
    initial = initial_population(genes, sc.population, rng, sc.min_keep, scores)
    from pipeline.predictor.search_link import DRIFT
    from pipeline.search.front_audit import audit_front
    from pipeline.search.screening import SurrogateScreen

    outlook = open_outlook(cfg, base_model)
    # What a recovery prunes and starts from: the probes' and the finish's (finish.py).
    recovery = {"importance": evaluator.importance or sc.importance,
                "batches": evaluator.calib_batches,   # so recovery prunes the channels step 1 did
                "supernet": evaluator.supernet,       # ...and starts from the weights it scored
                "executor": evaluator.executor}       # one executor for the whole run
    probes = _line_probes(cfg, base_model, splits, baseline, outlook, recovery, run_dir)
    link = _open_predictor(sc, device, base_model, space, splits, run_dir)
    if link is not None:   # what was measured before the GA (baseline, sensitivity probes)
        example = evaluator.example   # the unpruned model timed now: the search's level
        link.reference_ms = _measure_once(device, base_model, example, run_dir,
                                          fresh=True)["p50"]
        link.observe([e for e in evaluator.evaluations() if e.generation < 0])
    if sc.latency_source == "predicted":
        evaluator.latency_model = link.latency_model
    search = GeneticSearch(genes, objectives, sc.population, sc.generations, cfg.seed,
                           refine_per_generation=sc.refine_per_generation,
                           snap_share=sc.snap_share, coarse_generations=sc.coarse_generations,
                           offspring=sc.population * sc.screen_factor,
                           screen=SurrogateScreen(genes, seed=cfg.seed,
                                                  latency_model=link and link.latency_model))

    said = {"after_recovery": None}

    def checkpoint(summary):
        audit = (audit_front(reported_front(summary.evaluations, objectives, floor, full),
                             evaluator.measure_predicted, sc.front_audit,
                             baseline["accuracy"], cfg.recover.candidate_gap, DRIFT,
                             confirm=evaluator.measure_again)
                 if sc.latency_source == "predicted" else None)   # checked where it decides
        if link is not None:   # learn from this generation before the next one is screened
            link.observe([e for e in evaluator.all.values() if e.generation >= 0])
        write_evaluations(run_dir / "evaluations.jsonl", evaluator.evaluations())
        write_json_atomic(run_dir / "search_state.json", {
            "generation_done": summary.generation, "generations": sc.generations,
            "seed": cfg.seed, "population": summary.population,
            "rng_state": _jsonable(summary.rng_state), "config": cfg.to_dict(),
            "counters": vars(evaluator.counters)})
        pruned = [e for e in reported_front(summary.evaluations, objectives, floor, full)
                  if e.channels != full]   # what the finish may recover: not the unpruned
        probes.after_generation(summary.generation, pruned)
        near = [e for e in summary.front if objectives.feasible(e)
                and e.accuracy >= baseline["accuracy"] - 0.01]
        best = min(near, key=lambda e: e.latency_objective()) if near else None
        c = evaluator.counters
        estimated = (f"{best.latency_objective():.3f} {unit} ({best.id}, {best.error_step} "
                     f"{100 * best.accuracy:.1f}%)" if best else None)
        ahead = fastest_after_recovery(pruned, baseline["accuracy"], cfg.recover.max_drop,
                                       cfg.recover.candidate_gap, outlook, probes.line)
        said["after_recovery"] = ahead and {   # kept in pareto.json: the line's last word
            "generation": summary.generation + 1, "how": ahead.how, "id": ahead.ev.id,
            "latency": ahead.ev.latency_objective(), "expected_accuracy": ahead.expected}
        if ahead is not None and ahead.how == "recovered":   # verified in this run: it leads
            head = (f"fastest within 1 point {describe(ahead, unit)}; by search estimate "
                    f"alone {estimated or 'none'}")
        else:
            head = (f"fastest within 1 point (search estimate) {estimated}" if best else
                    "none within 1 point yet") + f"; {describe(ahead, unit)}"
        status(f"gen {summary.generation + 1}/{sc.generations}: {head}, "
               f"front {len(summary.front)}, proposed {summary.proposed}, "
               f"measured {c.measured} / cached {c.cached}"
               + (f" / predicted {c.predicted} (front: {audit.measured} measured now, "
                  f"{audit.off} off by > {DRIFT:.0%})" if audit is not None else "")
               + f", step-2 {c.refined}"
               + (f" / replayed {c.replayed}" if c.replayed else ""))

    try:
        all_evals = search.run(evaluator.evaluate, evaluator.refine, initial, checkpoint)
    except BaseException:
        # Ctrl-C or a device failure mid-generation: keep every evaluation already paid for.
        write_evaluations(run_dir / "evaluations.jsonl", evaluator.evaluations())
        raise
    def reprice(measured):   # the final front's measurements, learned round by round
        link.observe(measured)
        evaluator.price([e for e in all_evals if e.only_predicted])

    front = measured_front(all_evals, objectives, evaluator, floor, full,
                           reprice if sc.latency_source == "predicted" else None)
    left_off = len(non_dominated(all_evals, objectives)) - len(front)
    if any(e.accuracy < floor for e in front):
        status(f"front: no pruned member's estimate reaches the floor ({100 * floor:.1f}%, "
               f"search.front_floor); the most accurate one stays for the finish")
    if sc.latency_source == "predicted":   # the front's last measurements, kept and learned
        write_evaluations(run_dir / "evaluations.jsonl", evaluator.evaluations())
        link.observe([e for e in evaluator.all.values() if e.generation >= 0])
    pareto = {"device": profile.name, "device_emulated": bool(getattr(profile, "emulated", False)),
              "latency_source": sc.latency_source, "latency_unit": unit, "mode": sc.mode,
              "baseline": baseline, "full_channels": space.full(),
              "front_floor": {"share": sc.front_floor, "accuracy": floor,
                              "left_off": left_off},
              "groups": [{"name": g.name, "channels": g.channels, "layers": list(g.layers)}
                         for g in space.groups],
              "front": [e.to_json() for e in front],
              # The last progress line's answer for the fastest within 1 point after recovery
              # (how: recovered | calibrated | fastest candidate), to hold against the winner.
              "progress_after_recovery": said["after_recovery"],
              "winners": [],   # filled in once the winners are recovered and verified
              "counters": vars(evaluator.counters)}
    write_json_atomic(run_dir / "pareto.json", pareto)
    return {"baseline": baseline, "front": front, "space": space,
            "objectives": objectives, "unit": unit,
            **recovery,
            "outlook": outlook,                   # the finish adds its recoveries to it
            "line": probes.line,                  # the line probes' results...
            "recovered": probes.recovered}        # ...and their models: the finish goes on


def _line_probes(cfg, base_model, splits, baseline, outlook, recovery: dict, run_dir: Path):
    """The run's line search and its probes during the search (pipeline/line_probes.py)."""
    from pipeline.finish import recovery_shared
    from pipeline.line_probes import LineProbes
    from pipeline.search.line import LineSearch

    line = LineSearch(baseline["accuracy"], cfg.recover.max_drop, cfg.recover.candidate_gap,
                      outlook)
    return LineProbes(line, cfg.search.line_probes, cfg.search.generations, run_dir,
                      recovery["executor"], recovery_shared(cfg, base_model, splits, recovery))


def open_outlook(cfg, base_model):
    """This task's recovery outlook (search/outlook.py), kept in the cache."""
    from pipeline.paths import cache_dir
    from pipeline.search.outlook import RecoveryOutlook, task_key

    return RecoveryOutlook.open(cache_dir() / "recoveries" / f"{task_key(cfg, base_model)}.json")


def reported_front(evals: list, objectives, floor: float = 0.0, full: dict | None = None) -> list:
    """The front a run reports (and the audit checks): the non-dominated set at or above the
    accuracy `floor`. Members below it (search.front_floor of the baseline's accuracy: fast,
    and far too inaccurate to ship) are left off, so none is measured for it; they stay in
    evaluations.jsonl, their latency marked predicted, and in the GA's own ranking.

    The floor never leaves the finish without a pruned member (channels other than `full`):
    when none reaches it, the most accurate one below it stays. A short search on a small
    task can estimate every pruned member that low, and recovery may still lift it."""
    from pipeline.search.ga import non_dominated

    front = non_dominated(evals, objectives)
    kept = [e for e in front if e.accuracy >= floor]
    below = [e for e in front if e.accuracy < floor and e.channels != full]
    if below and all(e.channels == full for e in kept):
        kept.append(max(below, key=lambda e: e.accuracy))
    return sorted(kept, key=lambda e: e.latency_objective())


def measured_front(evals: list, objectives, evaluator, floor: float = 0.0,
                   full: dict | None = None, reprice=None) -> list:
    """The reported front, every member's latency measured: predicted members are measured
    until it holds none (a measurement can move a member off it). `reprice(measured)`, if
    given, learns from each round's measurements and prices the members still only predicted
    again before the next round: measured at the host's level of now, they are compared with
    predictions at that level too, not with ones made generations ago (a host that slowed by
    16% otherwise pushed measured member after member off the front, 25 measured at the end)."""
    while True:
        front = reported_front(evals, objectives, floor, full)
        measured = evaluator.measure_predicted(front)
        if not measured:
            return front
        if reprice is not None:
            reprice(measured)


def _open_predictor(sc, device, base_model, space, splits, run_dir: Path):
    """The device's learned latency predictor for screening (search.predictor), or None.

    Its starting samples are kept in the run folder, so a resumed run screens exactly as the
    interrupted one did, whatever the cache learned since.
    """
    import torch

    from pipeline.predictor.search_link import SearchPredictor

    predicted = sc.latency_source == "predicted"
    if device is None or not (predicted or (sc.predictor and sc.latency_source == "device"
                                            and sc.screen_factor >= 2)):
        return None
    link = SearchPredictor.open(base_model, space, torch.zeros(splits.input_shape), device)
    if link is None:
        if predicted:
            raise UserError("search.latency_source=predicted: this device cannot key a latency "
                            "predictor (see the line above); use search.latency_source=device")
        return None
    from pipeline.predictor.model import LatencyPredictor

    start = run_dir / "predictor_start.json"
    if start.is_file():   # resume: the predictor the interrupted run started from
        try:
            link.predictor = LatencyPredictor.from_dict(json.loads(start.read_text()))
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(f"'{start}' is corrupt ({exc}); delete it to resume without the "
                            f"stored predictor's samples") from None
    else:   # the stored one as loaded (fitted once, by the same from_dict a resume uses)
        write_json_atomic(start, link.predictor.to_dict())
    return link


def _measure_once(device, model, example, run_dir: Path, fresh: bool = False) -> dict:
    """The unpruned model's latency on the device, its file exported once per run folder.
    fresh: timed now, never taken from the cache (the device's level in this search, which
    the latency predictor learns its samples against and scales by)."""
    from pipeline import export

    work = run_dir / "search_work"
    work.mkdir(parents=True, exist_ok=True)
    tflite = device.profile.runtime == "tflite"
    path = work / ("baseline.tflite" if tflite else "baseline.onnx")
    if not path.is_file():
        if tflite:
            export.export_tflite(model, example, path)
        else:
            export.export_onnx(model, example, path, simplify=False)
    (m,) = device.measure([path], tuple(example.shape), fresh=fresh)
    return latency_dict(m.stats)


def _jsonable(obj):
    return json.loads(json.dumps(obj, default=str))
