"""Time and memory per stage step, from ``OUT/pipeline.json``."""

from __future__ import annotations

from ckgrec.pipeline.runner import STAGES
from ckgrec.report.blocks import Section, Text
from ckgrec.report.collect import ReportData
from ckgrec.report.tables import Table, cell

BUILD_ORDER = (
    "read",
    "validate",
    "interactions",
    "split",
    "attributes",
    "concepts",
    "external_kg",
    "graphs",
    "write",
)  # kgbuild.build's stages


def _mib(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.0f}"


def build(d: ReportData) -> Section:
    recs = d.state.records
    steps = d.state.meta.get("last_invocation", {}).get("steps", {})
    current = [
        n for n in recs if n != "report" and (not steps or n in steps)
    ]  # steps of models since removed from the config: not shown
    names = sorted(
        current, key=lambda n: (STAGES.index(recs[n].stage) if recs[n].stage in STAGES else 99, list(recs).index(n))
    )
    rows = []
    total = cpu = 0.0
    for n in names:
        r = recs[n]
        done = r.status == "done"
        total += r.seconds or 0.0
        cpu += r.cpu_seconds or 0.0
        when = (r.finished or "")[:19].replace("T", " ")
        rows.append(
            [
                cell(n),
                cell(r.status + (" (resumed)" if r.resumed else ""), muted=not done),
                cell(steps.get(n, "—")),
                cell(when),
                cell(f"{r.seconds:.1f}" if r.seconds is not None else "—"),
                cell(f"{r.cpu_seconds:.1f}" if r.cpu_seconds is not None else "—"),
                cell(_mib(r.peak_rss_mib)),
                cell(_mib(r.rss_start_mib)),
            ]
        )
    rows.append(
        [
            cell("total", bold=True),
            cell(""),
            cell(""),
            cell(""),
            cell(f"{total:.1f}", bold=True),
            cell(f"{cpu:.1f}", bold=True),
            cell(""),
            cell(""),
        ]
    )
    t = Table(
        ["step", "status", "this invocation", "finished (UTC)", "wall s", "CPU s", "peak RSS MiB", "RSS at start MiB"],
        rows,
        caption="Time and memory per step, as last executed",
        numeric_from=4,
    )
    t.notes = [
        "Wall and CPU seconds of the step's last execution (a resumed training step counts only the resumed part). "
        "Peak RSS: the process's resident memory sampled every 20 ms during the step; it includes what earlier steps left "
        "loaded (libraries, the store), so compare it with the RSS at the step's start. The report step is not listed: it was "
        "still running when this page was written (pipeline.json has its figures).",
    ]
    blocks: list = [t]
    build_rec = recs.get("build")
    if build_rec and build_rec.outputs.get("seconds"):
        secs = build_rec.outputs["seconds"]
        order = [k for k in BUILD_ORDER if k in secs] + sorted(set(secs) - set(BUILD_ORDER))
        parts = ", ".join(f"{k} {secs[k]:.2f}s" for k in order)
        blocks.append(Text(f"Build stages: {parts}."))
    return Section("resources", "Time and memory", blocks)
