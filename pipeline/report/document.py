"""report.html: one self-contained file (figures as base64 data URIs, inline CSS, no scripts,
nothing fetched), readable straight from disk or mailed around.

Reads from the run folder: config.toml, pareto.json, evaluations.jsonl, winners/*/manifest.json
and, when present, timings.json and data.json (split sizes and origins). pareto.json may hold "flops_points": individuals a FLOPs-only
search would pick, measured on the device, drawn for comparison. Every key but a winner's channels is optional: a missing
value shows as a dash rather than failing the report of a run that did finish.
"""
from __future__ import annotations

import base64
import html
import json
import string
import time
from pathlib import Path

from pipeline.atomic import write_text_atomic
from pipeline.errors import UserError
from pipeline.report.plots import plot_channels, plot_latency, plot_pareto

DASH = "–"


def _read_json(path: Path, default):
    if not path.is_file():
        return default
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise UserError(f"'{path}' is not valid JSON ({exc}); re-run the stage that writes it") from None


def load_run(run_dir: Path) -> dict:
    if not run_dir.is_dir():
        raise UserError(f"'{run_dir}' is not a folder; pass the run folder `edgeprune run` printed")
    evaluations = []
    jsonl = run_dir / "evaluations.jsonl"
    if jsonl.is_file():
        for n, line in enumerate(jsonl.read_text().splitlines(), start=1):
            if line.strip():
                try:
                    evaluations.append(json.loads(line))
                except ValueError:
                    raise UserError(f"'{jsonl}' line {n} is not valid JSON; the run may have been "
                                    "cut off: `edgeprune run --resume` it") from None
    winners = [(p.parent.name, _read_json(p, {}))
               for p in sorted((run_dir / "winners").glob("*/manifest.json"))]
    config = run_dir / "config.toml"
    return {"pareto": _read_json(run_dir / "pareto.json", {}), "evaluations": evaluations,
            "winners": winners, "timings": _read_json(run_dir / "timings.json", {}),
            "config": config.read_text() if config.is_file() else ""}


def _num(value, spec: str = ".3f", suffix: str = "") -> str:
    if value is None or isinstance(value, bool):
        return DASH
    try:
        return format(value, spec) + suffix
    except (TypeError, ValueError):
        return html.escape(str(value))


def _pct(value) -> str:
    return _num(None if value is None else 100 * value, ".2f", "%")


def _ratio(part, whole) -> str:
    if not part or not whole:
        return ""
    return f" ({100 * part / whole:.0f}%)"


def _lat(d, key: str):
    return (d or {}).get(key) if isinstance(d, dict) else None


def _img(path: Path, alt: str, caption: str = "") -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    return (f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'
            f"{cap}</figure>")


def _table(header: list[str], rows: list[list[str]], classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{h}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes and classes[i] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def summary_table(baseline: dict, winners: list[tuple[str, dict]]) -> str:
    first = winners[0][1] if winners else {}
    b_test = first.get("baseline_accuracy", baseline.get("accuracy_test"))
    b_val = first.get("baseline_accuracy_val", baseline.get("accuracy"))
    b_lat = first.get("baseline_latency_ms") or baseline.get("latency_ms") or {}
    b_params = first.get("baseline_params", baseline.get("params"))
    b_macs = first.get("baseline_macs", baseline.get("macs"))
    header = ["", "test acc.", "val acc.", "p50 ms", "p90 ms", "speed-up", "params", "MACs", "recovery"]
    rows = [["baseline (unpruned)", _pct(b_test), _pct(b_val), _num(_lat(b_lat, "p50")),
             _num(_lat(b_lat, "p90")), "1.00x", _num(b_params, ","), _num(b_macs, ","), DASH]]
    for name, m in winners:
        p50, base50 = _lat(m.get("latency_ms"), "p50"), _lat(b_lat, "p50")
        speed = f"{base50 / p50:.2f}x" if p50 and base50 else DASH
        acc, drop = m.get("accuracy"), ""
        if acc is not None and b_test is not None:
            delta = 100 * (acc - b_test)
            drop = f' <span class="{"good" if delta >= 0 else "bad"}">({delta:+.2f})</span>'
        rec = m.get("recovery") or {}
        label = html.escape(name) + (f" <small>({html.escape(str(m['reason']))})</small>"
                                     if m.get("reason") and m.get("reason") != name else "")
        rows.append([label, _pct(acc) + drop, _pct(m.get("accuracy_val")), _num(p50),
                     _num(_lat(m.get("latency_ms"), "p90")), speed,
                     _num(m.get("params"), ",") + _ratio(m.get("params"), b_params),
                     _num(m.get("macs"), ",") + _ratio(m.get("macs"), b_macs),
                     html.escape(str(rec.get("method", DASH)))])
    return _table(header, rows, ["baseline"] + [""] * len(winners))


def artifact_tables(winners: list[tuple[str, dict]]) -> str:
    parts = []
    header = ["file", "format", "accuracy", "p50 ms", "p90 ms", "max |diff|", "top-1 agree", "sha256"]
    for name, m in winners:
        rows = []
        for fmt, a in (m.get("artifacts") or {}).items():
            a = a or {}
            err = a.get("error")
            rows.append([html.escape(str(a.get("path") or DASH)), html.escape(fmt),
                         _pct(a.get("accuracy")), _num(_lat(a.get("latency_ms"), "p50")),
                         _num(_lat(a.get("latency_ms"), "p90")), _num(a.get("max_abs_diff"), ".2e"),
                         _pct(a.get("top1_agreement")),
                         f'<span class="error">{html.escape(str(err))}</span>' if err
                         else f"<code>{html.escape(str(a.get('sha256') or DASH)[:12])}</code>"])
        parts.append(f"<h3>{html.escape(name)}</h3>" + (_table(header, rows) if rows else
                                                         "<p>No exported files recorded.</p>"))
    return "".join(parts) or "<p>No winners in this run.</p>"


def search_summary(pareto: dict, evaluations: list[dict]) -> str:
    if not evaluations:
        return "<p>No evaluations recorded (evaluations.jsonl is missing or empty).</p>"
    gens = {e["generation"] for e in evaluations if isinstance(e.get("generation"), int)
            and e["generation"] >= 0}
    # Older files have no `source`: everything before the GA counted as the scan then.
    scan = sum(e.get("source", "sensitivity") == "sensitivity"
               and isinstance(e.get("generation"), int) and e["generation"] < 0
               for e in evaluations)
    cached = sum(bool(e.get("cached")) for e in evaluations)
    feasible = sum(bool(e.get("feasible", True)) for e in evaluations)
    steps = {}
    for e in evaluations:
        steps[e.get("error_step") or DASH] = steps.get(e.get("error_step") or DASH, 0) + 1
    step_text = ", ".join(f"{html.escape(str(k))}: {v}" for k, v in sorted(steps.items()))
    base = sum(e.get("source") == "baseline" for e in evaluations)
    scan_text = f", {scan} of them in the sensitivity scan" if scan else ""
    scan_text += ", one the unpruned baseline" if base else ""
    return (f"<p>{len(evaluations)} individuals evaluated over {len(gens)} generation{'s' * (len(gens) != 1)}{scan_text} "
            f"({feasible} feasible, {cached} latencies from the cache); accuracy estimated by "
            f"{step_text}; {len(pareto.get('front') or [])} on the search's final front"
            f"{_floor_text(pareto.get('front_floor'))}.</p>")


def _floor_text(floor: dict | None) -> str:
    """The members search.front_floor left off the reported front, if any."""
    if not floor or not floor.get("left_off"):
        return ""
    return (f" ({floor['left_off']} more below its floor, {100 * floor['accuracy']:.1f}% "
            f"estimated accuracy, left off)")


def _notes(pareto: dict, winners: list[tuple[str, dict]]) -> tuple[str, str]:
    """(banner html, short note for figure titles) about emulated or estimated latencies."""
    device = pareto.get("device") or next((m.get("device") for _, m in winners if m.get("device")), "")
    emulated = bool(pareto.get("device_emulated")) or any(m.get("device_emulated") for _, m in winners)
    source = pareto.get("latency_source") or "device"
    banner, short = [], []
    if emulated:
        banner.append(f"Latencies on <b>{html.escape(str(device))}</b> are <b>emulation times</b> "
                      "(the target's runtime under an instruction-set emulator): they rank models "
                      "against each other but are not the real device's times.")
        short.append(f"{device}: emulation times, comparable only with each other")
    if source == "predicted":
        banner.append("The search ranked most individuals by the device's <b>learned latency "
                      "predictor</b>; every front member and winner was measured on the device.")
    elif source != "device":
        banner.append(f"The search ranked individuals by <b>{html.escape(source)}</b>, not by "
                      "latency measured on the device.")
    html_notes = "".join(f'<p class="note">{b}</p>' for b in banner)
    return html_notes, "; ".join(short)


def _data_note(data: dict) -> str:
    """Where each split came from (data.json, written by the run), beside the figures."""
    if not isinstance(data, dict) or not data.get("split_source"):
        return ""
    sizes = f"{data.get('train', DASH)} train / {data.get('val', DASH)} val / {data.get('test', DASH)} test"
    return (f"<p>Data <b>{html.escape(str(data.get('name', DASH)))}</b>: {html.escape(sizes)}. "
            f"{html.escape(str(data['split_source']))}.</p>")


def write_report(run_dir) -> Path:
    """Render run_dir/report.html (and the PNGs it embeds, under run_dir/figures/)."""
    run_dir = Path(run_dir)
    run = load_run(run_dir)
    pareto, evaluations, winners = run["pareto"], run["evaluations"], run["winners"]
    baseline = pareto.get("baseline") or {}
    banner, short_note = _notes(pareto, winners)
    banner += _data_note(_read_json(run_dir / "data.json", {}))
    figures = run_dir / "figures"
    caption = html.escape(short_note)

    pareto_html = "<p>No evaluations to plot.</p>"
    if evaluations:
        labelled = [{"id": m.get("search_id", name), "reason": name} for name, m in winners]
        labelled = labelled or list(pareto.get("winners") or [])
        path = plot_pareto(evaluations, baseline, figures / "pareto.png", winners=labelled,
                           note=short_note, flops_points=pareto.get("flops_points"))
        pareto_html = _img(path, "Pareto plot: accuracy against latency", caption)

    criteria_html = _criteria_figure(run_dir, figures)

    full = pareto.get("full_channels") or baseline.get("channels") or {}
    channel_html = []
    for name, m in winners:
        if m.get("channels"):
            path = plot_channels(m["channels"], m.get("full_channels") or full,
                                 figures / f"channels-{_safe(name)}.png", title=name)
            channel_html.append(_img(path, f"channels kept by {name}"))

    samples = {f"{name} · {fmt}": _lat(a.get("latency_ms"), "samples")
               for name, m in winners for fmt, a in (m.get("artifacts") or {}).items() if a}
    samples = {k: v for k, v in samples.items() if v}
    latency_html = _no_samples_note(winners)
    if samples:
        path = plot_latency(samples, figures / "latency.png", note=short_note)
        latency_html = _img(path, "latency distribution per exported file", caption)

    timings = run["timings"]
    timing_html = ""
    if timings:
        rows = [[html.escape(k), _num(v, ".1f")] for k, v in timings.items()]
        timing_html = "<h2>Stage times</h2>" + _table(["stage", "seconds"], rows)

    model = next((m.get("model") for _, m in winners if m.get("model")), None) or _config_model(run["config"])
    meta = [f"model <b>{html.escape(str(model or DASH))}</b>",
            f"device <b>{html.escape(str(pareto.get('device', DASH)))}</b>",
            f"cost: {html.escape(str(pareto.get('latency_source', 'device')))}",
            f"folder {html.escape(run_dir.name)}",
            f"written {time.strftime('%Y-%m-%d %H:%M')}"]
    page = string.Template((Path(__file__).parent / "template.html").read_text()).substitute(
        title=html.escape(run_dir.name), meta=" · ".join(meta), emulation_note=banner,
        summary_table=summary_table(baseline, winners), artifact_tables=artifact_tables(winners),
        search_summary=search_summary(pareto, evaluations), pareto_figure=pareto_html,
        criteria_figure=criteria_html,
        channel_figures="".join(channel_html) or "<p>No winners.</p>",
        latency_figure=latency_html, timings=timing_html,
        config=html.escape(run["config"] or "(config.toml not found)"))
    out = run_dir / "report.html"
    write_text_atomic(out, page)
    return out


def _criteria_figure(run_dir: Path, figures: Path) -> str:
    """The criteria agreement heat-map and the chosen blend, when the run searched one."""
    study = _read_json(run_dir / "criteria.json", None)
    if not isinstance(study, dict):
        return ""
    from pipeline.criteria.heatmap import plot_agreement

    try:
        names, matrix = list(study["criteria"]), study["matrix"]
        blend = dict(zip(study["blend"]["criteria"], study["blend"]["weights"]))
        path = plot_agreement(matrix, names, figures / "criteria.png",
                              clusters=study.get("clusters") or (),
                              correlation=str(study.get("correlation", "")))
    except (KeyError, TypeError, ValueError):
        return '<p class="note">criteria.json is malformed: no criteria figure.</p>'
    weights = ", ".join(f"{html.escape(str(c))} {float(w):.2f}" for c, w in blend.items())
    return ("<h3>Importance criteria blend</h3>"
            + _img(path, "agreement of the importance criteria",
                   f"pruned with the blend {weights}"))


def _no_samples_note(winners: list[tuple[str, dict]]) -> str:
    """Why there is no latency figure: no file measured, or manifests with statistics only."""
    counted = [a["latency_ms"].get("n") for _, m in winners
               for a in (m.get("artifacts") or {}).values()
               if a and isinstance(a.get("latency_ms"), dict) and a["latency_ms"].get("n")]
    if not counted:
        return "<p>No exported file was measured on the device.</p>"
    return (f"<p>The manifests hold latency statistics of {len(counted)} files "
            f"({sum(counted):,} timed runs) but not the runs themselves (written before "
            "edgeprune kept them); <code>edgeprune export WINNER --device NAME</code> measures "
            "a winner again and keeps them.</p>")


def _config_model(text: str):
    import tomllib

    try:
        return tomllib.loads(text).get("model", {}).get("name")
    except (tomllib.TOMLDecodeError, AttributeError):
        return None


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
