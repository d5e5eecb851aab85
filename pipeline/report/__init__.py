"""The run report: pareto.png, per-layer channel charts, latency distributions, report.html.

`import pipeline.report` stays light: matplotlib is imported by the plotting functions.
"""
from pipeline.report.document import write_report
from pipeline.report.plots import pareto_front, plot_channels, plot_latency, plot_pareto

__all__ = ["pareto_front", "plot_channels", "plot_latency", "plot_pareto", "write_report"]
