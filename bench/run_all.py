"""`make bench`: every benchmark in turn, then bench/README.md regenerated from the results.

    python -m bench.run_all                      # the full set (see bench/README.md for times)
    python -m bench.run_all --smoke              # each section in tiny mode; results in bench/results/tmp/
    python -m bench.run_all --only search_quality export_parity

Trained baselines and latency caches live in bench/results/tmp/cache (git-ignored) unless
EDGEPRUNE_CACHE says otherwise, so the benchmarks never read or fill the user's own cache.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

SECTIONS = ("baselines", "search_quality", "measurement", "search_cost", "export_parity",
            "criteria_blend")


def run_baselines(smoke: bool) -> None:
    """Train (or load) every model the sections use, timing any training done now."""
    from bench.common import load_bench_inputs
    from bench.search_quality import FULL, SMOKE, base_config

    settings = SMOKE if smoke else FULL
    for model in settings["models"]:
        load_bench_inputs(base_config(model, settings))


def run_section(name: str, smoke: bool) -> None:
    if name == "baselines":
        run_baselines(smoke)
    elif name == "search_quality":
        from bench import search_quality

        search_quality.run(smoke)
    elif name == "measurement":
        from bench import bench_measurement

        bench_measurement.main(["--smoke"] if smoke else [])
    elif name == "search_cost":
        from bench import search_cost

        search_cost.run(smoke)
    elif name == "export_parity":
        from bench import export_parity

        export_parity.run(smoke)
    elif name == "criteria_blend":
        from bench import criteria_blend

        criteria_blend.run(smoke)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny settings; checks it works")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    args = parser.parse_args(argv)
    os.environ.setdefault("EDGEPRUNE_CACHE", "bench/results/tmp/cache")

    from bench.common import results_dir
    from bench.readme import write_readme
    from pipeline.progress import status

    timings, failed = {}, []
    start = time.perf_counter()
    for name in args.only or SECTIONS:
        status(f"=== bench: {name}{' (smoke)' if args.smoke else ''} ===")
        t0 = time.perf_counter()
        try:
            run_section(name, args.smoke)
        except Exception as exc:  # one broken section must not hide the others' results
            failed.append(name)
            status(f"bench {name} FAILED: {type(exc).__name__}: {exc}")
            if args.smoke:
                raise
        timings[name] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - start
    # Only a run of every section describes a whole `make bench`.
    if not args.only:
        (results_dir(args.smoke) / "run_all.json").write_text(json.dumps(
            {"smoke": args.smoke, "section_wall_s": timings, "failed": failed}, indent=2) + "\n")
    readme = write_readme(args.smoke)
    status(f"bench: done in {timings['total'] / 60:.1f} min; {readme} regenerated"
           + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
