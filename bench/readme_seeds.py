"""bench/README.md sections on the search itself: quality over seeds and estimate rank agreement
(issue 12), screened and predicted searches against measuring everything (issue 13)."""
from __future__ import annotations

from bench.readme import _commit, pick_rule


def _f(x, fmt="{:.3f}") -> str:
    return fmt.format(x) if x is not None else "-"


def _range(rng) -> str:
    return f"[{_f(rng[0])}-{_f(rng[1])}]" if rng else ""


def _samples(samples) -> str:
    """'2,088 train / 483 val / 429 test' from a result's {split: count}."""
    if not isinstance(samples, dict):
        return str(samples)
    return " / ".join(f"{n:,} {split}" for split, n in samples.items())


def seeds_section(r: dict) -> list[str]:
    c = r["config"]
    data = r["data"]
    variant = c.get("latency_ga_overrides") or []
    lines = [f"## Search quality over seeds: {data}"
             + (f", latency GA with `{' '.join(variant)}`" if variant else ""), "",
             f"Seeds {sorted(int(s) for s in r['per_seed'])}; data overrides "
             f"`{' '.join(c.get('data_overrides') or []) or 'none'}`; population {c['population']} x "
             f"{c['generations']} generations per GA (latency GA at single-channel granularity), as "
             f"many random draws; {pick_rule(c)}; every candidate "
             f"recovered by {c['recover_steps']} KD steps, exported and measured with all others "
             f"({c['rounds']} interleaved rounds), its accuracy the exported file's on "
             f"{_test_images(r)} test images. Cells: the "
             f"median over seeds and [range]; a seed where a method kept no file within 1 point "
             f"counts as the unpruned model (speedup 1), and the cell says how many seeds kept "
             f"one. 'Acc at budget': best test accuracy among the "
             f"method's files at <= {int(100 * r['budget_fraction'])}% of the baseline's p50. "
             f"Last run: {_commit(r)}; {r['wall_s'] / 60:.1f} min.", ""]
    # Aggregated here, not read from the stored summary: the rule for a seed without a file
    # within 1 point (bench.search_seeds.aggregate) applies to every stored run alike.
    from bench.search_seeds import aggregate

    for model, profiles in aggregate(r["per_seed"]).items():
        for profile, methods in profiles.items():
            lines += [f"### {model} on {profile}", ""] + _provenance(r, model, profile) + [
                      "| method | fastest p50 ms within 1 pt | speedup | its MACs (M) | "
                      "acc at budget | latency GA / this | what it shows |",
                      "|---|---|---|---|---|---|---|"]
            for method, m in methods.items():
                rng = m["fastest_p50_range"]
                ratio = m["ga_over_this_median"]
                if method == "latency-ga":
                    say = "The latency-driven GA itself."
                elif abs(1 - ratio) < 0.005:
                    say = "The latency GA's file ties this method's (median over seeds)."
                else:
                    say = (f"The latency GA's file is {abs(1 - ratio) * 100:.0f}% "
                           f"{'faster' if ratio < 1 else 'slower'} than this method's "
                           f"(median over seeds).")
                seeds = len(m["seeds"])
                kept = "" if m["within"] == seeds else f" ({m['within']} of {seeds} seeds)"
                lines.append(
                    f"| {method} | {_f(m['fastest_p50_median'])} "
                    f"{_range(rng)}{kept} | "
                    f"{_f(m['speedup_median'], '{:.2f}x')} | "
                    f"{_f(m['macs_median'] and m['macs_median'] / 1e6, '{:.2f}')} | "
                    f"{_f(m['budget_accuracy_median'], '{:.2%}')} | {_f(ratio)} | {say} |")
            lines += ["", verdict(methods), ""] + split_by_macs(methods)
    return lines


def _provenance(r: dict, model: str, profile: str) -> list[str]:
    """Where a cell's seeds were measured by an earlier run than the last: its commits, times
    and the wall time of those seeds of this model (both profiles run in one go)."""
    cells = [(ms[model], ms[model]["profiles"][profile]) for ms in r["per_seed"].values()
             if profile in ms.get(model, {}).get("profiles", {})]
    commits = sorted({sc.get("git_commit", r["git_commit"]) for _, sc in cells})
    if commits == [r["git_commit"]]:
        return []
    finished = max(sc.get("finished_utc", "") for _, sc in cells)
    walls = [m["wall_s"] for m, _ in cells if "wall_s" in m]
    wall = f"; {sum(walls) / 60:.1f} min for its seeds" if len(walls) == len(cells) else ""
    return [f"Measured by an earlier run: commit {', '.join(f'`{c[:10]}`' for c in commits)}, "
            f"finished {finished}{wall}.", ""]


def _test_images(r: dict) -> str:
    sizes = {sc.get("test_images") for models in r["per_seed"].values() for m in models.values()
             for sc in m["profiles"].values()}
    sizes.discard(None)
    return " / ".join(f"{n:,}" for n in sorted(sizes)) if sizes else "the split's"


TIE = 0.005


def _fastest(c: dict) -> float | None:
    """A method's median fastest file within 1 point; none where it kept one in no seed."""
    return None if c.get("within") == 0 else c.get("fastest_p50_median")


def _others(methods: dict) -> dict:
    return {m: _fastest(c) for m, c in methods.items()
            if m != "latency-ga" and _fastest(c) is not None}


def outcome(methods: dict) -> tuple[str, str | None, float | None, float | None]:
    """(word, best other method, the latency GA's median, that method's median) for a cell:
    word is "wins", "ties" or "loses"."""
    ours = _fastest(methods.get("latency-ga", {}))
    others = _others(methods)
    best = min(others, key=others.get) if others else None
    theirs = others.get(best)
    if ours is None:
        return "loses", best, None, theirs
    if best is None:
        return "wins", None, ours, None
    # medians closer than the interleaved measurement resolves (often the same file, shared
    # by every GA's initial population) are a tie, neither a win nor a loss
    if abs(ours / theirs - 1) < TIE:
        return "ties", best, ours, theirs
    return ("wins" if ours < theirs else "loses"), best, ours, theirs


def verdict(methods: dict) -> str:
    """One plain sentence per cell: does the latency GA have the fastest file within 1 point?"""
    word, best, ours, theirs = outcome(methods)
    if ours is None:
        return ("**The latency GA loses this cell**: it kept no file within 1 point"
                + (f"; {', '.join(sorted(_others(methods)))} did." if best else
                   ", nor did any other method."))
    if best is None:
        return "**The latency GA wins this cell**: no other method kept a file within 1 point."
    if word == "ties":
        return (f"**The latency GA ties this cell, not a win**: {best}'s file within 1 point "
                f"runs {theirs:.4f} against its {ours:.4f} ms (medians over seeds, "
                f"within {TIE:.1%}).")
    if word == "wins":
        return (f"**The latency GA wins this cell**: its file within 1 point is the fastest, "
                f"{ours:.3f} against {best}'s {theirs:.3f} ms (medians over seeds, "
                f"{1 - ours / theirs:.1%} faster).")
    return (f"**The latency GA loses this cell**: {best}'s file within 1 point is faster "
            f"({theirs:.3f} against {ours:.3f} ms, medians over seeds).")


def seeds_headline(results: list[dict]) -> list[str]:
    """Every cell of the search benches over seeds (the product's latency GA, not variants),
    in one table: the latency GA's fastest file within 1 point against the fastest other
    method's, losses headlined as plainly as wins."""
    from bench.search_seeds import aggregate

    rows, tally = [], {"wins": 0, "ties": 0, "loses": 0}
    for r in results:
        for model, profiles in aggregate(r["per_seed"]).items():
            for profile, methods in profiles.items():
                word, best, ours, theirs = outcome(methods)
                tally[word] += 1
                ga = methods.get("latency-ga", {})
                rng = ga.get("fastest_p50_range")
                ratio = f"{ours / theirs:.2f}" if ours and theirs else "-"
                rows.append(f"| {r['data']} | {model} | {profile} | {len(ga.get('seeds', []))} | "
                            f"{_f(ours)} {_range(rng)}"
                            f" | {best or '-'} | {_f(theirs)} | {ratio} | **{word}** |")
    if not rows:
        return []
    return ["## Headline: the fastest file within 1 point, over seeds", "",
            "Every cell of the `python -m bench.search_seeds` sections below: the latency GA's "
            "fastest file within 1 point of the baseline (test split), median over seeds "
            "[range], against the fastest other method's median (FLOPs GA round 8 and round 1, "
            "random, uniform L1, torch-pruning global; equal device measurements and training "
            "steps, the same finish). Ties: medians within "
            f"{TIE:.1%}. The latency GA wins {tally['wins']}, ties {tally['ties']} and loses "
            f"{tally['loses']} of {len(rows)} cells.", "",
            "| data | model | profile | seeds | latency GA p50 ms | fastest other | its p50 ms | "
            "GA / other | latency GA |", "|---|---|---|---|---|---|---|---|---|", *rows, ""]


def split_by_macs(methods: dict) -> list[str]:
    """Where the latency GA's difference from the fastest other method comes from, per seed:
    its file's MACs over theirs (the accuracy side: how far each search cut and stayed within
    the line) and how fast each runs for its MACs (the device side, what measuring can buy;
    bench.search_seeds.latency_at_macs)."""
    others = _others(methods)
    if not others or _fastest(methods.get("latency-ga", {})) is None:
        return []
    best = min(others, key=others.get)
    c = methods[best]
    if c.get("ga_macs_over_this_median") is None:
        return []
    def ratio(key: str) -> str:
        lo, hi = c[f"{key}_range"]
        return f"{c[f'{key}_median']:.3f}x [{lo:.3f}-{hi:.3f}]"
    return [f"Where the difference from {best} comes from, per seed (median [range] over the "
            f"seeds where both kept a file): the latency GA's file holds "
            f"{ratio('ga_macs_over_this')} its MACs (the accuracy side), and for its MACs it runs "
            f"{ratio('ga_device_over_this')} as long as {best}'s does for theirs (the device "
            f"side: each file's p50 over a straight line of p50 on MACs fitted to every file "
            f"measured in that seed).", ""]


def estimate_section(r: dict) -> list[str]:
    from pipeline.search.estimates import kendall_tau

    n = len(r["rows"])
    # Rows run from the most pruned to the full model: the first half is the fast region the
    # search must rank, where a BN-only estimate sits at chance.
    deep = r["rows"][:n // 2]
    lines = [f"## Accuracy estimates vs recovered accuracy ({r['data']}, {r['model']})", "",
             f"{n} architectures spread from one channel per group to the full model; each scored "
             f"by every estimator, then recovered fully (the main job's distillation); Kendall's "
             f"tau-b with the recovered validation accuracy, over all and over the {len(deep)} "
             f"most pruned. Images: {_samples(r['samples'])}. {_commit(r)}.", "",
             "| estimator | Kendall tau | tau, most pruned half | s per architecture | "
             "recovered minus estimate (points) |",
             "|---|---|---|---|---|"]
    for name, v in r["estimators"].items():
        if name == "recovered":
            continue
        tau_deep = kendall_tau([d["estimates"][name] for d in deep], [d["recovered"] for d in deep]) \
            if len(deep) >= 2 else float("nan")
        once = f" (+ {v['training_seconds_once']:.0f} s once)" if "training_seconds_once" in v else ""
        lines.append(f"| {name} | {v['kendall_tau']:.3f} | {tau_deep:.3f} | "
                     f"{v['seconds_per_arch']:.2f}{once} | {v['mean_gap_points']:.1f} |")
    lines.append(f"| full recovery | - | - | {r['estimators']['recovered']['seconds_per_arch']:.2f} | - |")
    return lines + [""]


def screened_section(r: dict) -> list[str]:
    """bench/screened_search.py (issue 13): fewer measurements for the same front?"""
    c = r["config"]
    lines = ["## Screened and predicted searches against measuring everything", "",
             f"Seeds {c['seeds']}; population x generations per row (the last run: "
             f"{c['population']} x {c['generations']}), "
             f"one supernet per seed shared by every mode, a fresh latency cache for each "
             f"(every count is of real measurements, baseline included). Hypervolume of the "
             f"final front (search estimate error, measured p50 / the same search's baseline "
             f"p50; reference (1, 1)); 'fastest in gap': p50 / baseline of the fastest member "
             f"within `recover.candidate_gap` of the baseline's accuracy. Medians over seeds. "
             f"predicted-stored starts from a predictor fitted once beforehand ("
             + "; ".join(f"{k}: {f['measurements']} measurements, {f['seconds']:.0f} s"
                         for k, f in (r.get("predictor_fit") or {}).items())
             + f"), not counted in its measurements. 'front': the reported front's size "
             f"and, in brackets, the members below `search.front_floor` (half the baseline's "
             f"accuracy) left off it, in every mode (rows without them were measured before "
             f"the floor, their fronts whole). 'Re-measured': after a seed's modes ran, every "
             f"mode's front measured again together ({c.get('rounds', 3)} interleaved passes, "
             f"each latency relative to the unpruned model timed beside it), so modes are "
             f"compared on latencies of one moment rather than on each search's own; "
             f"the same hypervolume against measure-all's and fastest in gap ('-': rows "
             f"measured before it). Last run: {_commit(r)}; "
             f"{r['wall_s'] / 60:.1f} min; each row names the commit it was measured at.",
             "", *_repeatability(r), "",
             "| model | device | mode | measurements | x fewer than measure-all | hypervolume "
             "[range] | of measure-all's | fastest in gap | re-measured: of measure-all's, "
             "fastest in gap | front [left off] | search | commit |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for model, profiles in r["summary"].items():
        for profile, rows in profiles.items():
            cell = (r.get("cell_commits") or {}).get(f"{model} / {profile}", r)
            commit = cell["git_commit"]
            size = (f"{cell.get('population', c['population'])} x "
                    f"{cell.get('generations', c['generations'])}")
            for mode, m in rows.items():
                hv = m["hypervolume_range"]
                lines.append(
                    f"| {model} | {profile} | {mode} | {_f(m['measurements_median'], '{:.0f}')} | "
                    f"{_f(m['fewer_measurements_than_all'], '{:.1f}x')} | "
                    f"{_f(m['hypervolume_median'], '{:.4f}')} [{hv[0]:.4f}-{hv[1]:.4f}] | "
                    f"{_f(m['hypervolume_vs_all'], '{:.3f}')} | "
                    f"{_f(m['fastest_within_gap_median'])} | {_again(m)} | {_front(m)} | "
                    f"{size} | "
                    f"`{commit[:10]}` |")
    return lines + [""]


def _again(m: dict) -> str:
    again = m.get("remeasured")
    if not again:
        return "-"
    return (f"{_f(again['hypervolume_vs_all'], '{:.3f}')}, "
            f"{_f(again['fastest_within_gap_median'])}")


def _repeatability(r: dict) -> list[str]:
    """Per cell: how often the re-measurement's passes agreed within 10%, seed by seed."""
    said = []
    for model, profiles in r.get("cells", {}).items():
        for profile, seeds in profiles.items():
            reps = [f"{cell['repeatability']['within_10pct']:.0%}" for cell in seeds.values()
                    if "within_10pct" in cell.get("repeatability", {})]
            if reps:
                said.append(f"{model} / {profile}: {', '.join(reps)}")
    if not said:
        return []
    return [f"The device's repeatability while the fronts were re-measured (share of "
            f"architectures whose passes agreed within ±10%, per seed): {'; '.join(said)}."]


def _front(m: dict) -> str:
    if m.get("front_size_median") is None:
        return "-"
    return f"{m['front_size_median']:.0f} [{_f(m.get('left_off_median'), '{:.0f}')}]"


def _passes(config: dict) -> str:
    passes = config.get("passes", 1)
    if passes == 1:
        return ("Latencies are single measurements of a shared host, so a cell moves between "
                "runs with the host's load.")
    return (f"Every architecture is measured in {passes} passes over the whole list, the "
            "fastest counting (a shared host's bursts only slow things down); how often the "
            "passes agree within ±10% is the device's own repeatability, the ceiling of any "
            "prediction of one measurement.")


def predictor_section(r: dict) -> list[str]:
    """`python -m bench.predictor_accuracy`: each cell's fit and its error on fresh architectures."""
    c = r["config"]
    lines = ["## Latency predictor accuracy", "",
             f"`edgeprune predictor fit` on {c['fit_n']} random architectures (min keep "
             f"{c['min_keep']}, input {c['input_shape']}), then `predictor eval` on {c['eval_n']} "
             f"fresh ones, per model and device, on a fresh latency cache; the target is "
             f">= {r['target_within_10pct']:.0%} within ±10%. {_passes(c)} A relative "
             f"predictor learns latency / the unpruned model's p50 timed beside each sample; "
             f"'absolute' is the same measurements learned without it. {_commit(r)}.",
             "", "| model | device | fit: architectures, s | within ±5% | within ±10% | median "
             "error | worst | absolute: within ±10%, median | the device's passes: within ±10% "
             "of each other, median spread | plot | what it shows |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    head = str(r.get("git_commit", ""))[:10]
    for model, profiles in r["cells"].items():
        for profile, cell in profiles.items():
            e, fit, a = cell["eval"], cell["fit"], cell.get("absolute")
            say = "Meets the target." if cell["meets_target"] else "Below the target."
            say += " Relative." if fit.get("relative") else " Absolute latencies (no reference)."
            when = str(cell.get("git_commit", ""))[:10]
            if when != head:
                say += (f" Measured at commit `{when}`, {cell['finished_utc']}." if when
                        else " Measured by an earlier run.")
            absolute = f"{a['within_10pct']:.0%}, {a['median_abs_rel']:.1%}" if a else "-"
            rep = e.get("repeatability")
            repeat = f"{rep['within_10pct']:.0%}, {rep['median_abs_rel']:.1%}" if rep else "-"
            lines.append(f"| {model} | {profile} | {fit['samples']}, {fit['seconds']:.0f} s | "
                         f"{e['within_5pct']:.0%} | {e['within_10pct']:.0%} | "
                         f"{e['median_abs_rel']:.1%} | {e['worst_abs_rel']:.0%} | {absolute} | {repeat} | "
                         f"[png](results/{cell['plot']}) | {say} |")
    return lines + [""]


def macs_section(r: dict) -> list[str]:
    """`python -m bench.latency_vs_macs`: how far each device's latency departs from MACs."""
    c = r["config"]
    lines = ["## Latency against MACs: the room a latency-driven search has", "",
             f"The fresh random architectures of the predictor accuracy section (min keep "
             f"{c.get('min_keep')}, input {c['input_shape']}; measured in that section's runs, "
             f"the last at commit `{str(r.get('source_commit', ''))[:10]}`), each one's MACs "
             f"of its conv and linear layers (the predictor's layer table) and its latency "
             f"relative to the unpruned model timed beside it. Spearman's rho: how well MACs "
             f"order the device's latencies. At equal MACs (within "
             f"±{c['near']:.0%} of each other, architectures with at least {c['min_neighbours']} "
             f"such): the fastest one's latency over the median one's, the median over "
             f"architectures [10th percentile]; a FLOPs-driven search cannot tell these apart, a "
             f"latency-driven one can. Measurement noise widens it, so the device's repeatability "
             f"stands beside it. {_commit(r)}.", "",
             "| model | device | architectures | Spearman rho | at equal MACs: fastest / median "
             "[p10] | compared | the device's passes within ±10% | plot | what it shows |",
             "|---|---|---|---|---|---|---|---|---|"]
    for model, profiles in r["cells"].items():
        for profile, cell in profiles.items():
            gain, rep = cell["fastest_vs_median"], cell.get("repeatability")
            if gain is None:
                say = "Too few architectures at equal MACs to compare."
            elif gain >= 0.9:
                say = (f"MACs order this device closely: at equal MACs the fastest runs only "
                       f"{1 - gain:.0%} faster than the typical one, so measuring can gain "
                       f"little over counting MACs at one accuracy.")
            else:
                say = (f"At equal MACs the fastest runs {1 - gain:.0%} faster than the typical "
                       f"one: room a latency-driven search can use and a FLOPs-driven one "
                       f"cannot see.")
            repeat = f"{rep['within_10pct']:.0%}" if rep else "-"
            lines.append(f"| {model} | {profile} | {cell['n']} | {cell['spearman']:.3f} | "
                         f"{_f(gain)} [{_f(cell['fastest_vs_median_p10'])}] | {cell['compared']} | "
                         f"{repeat} | [png](results/{cell['plot']}) | {say} |")
    return lines + [""]
