"""The report's plots as PNG bytes (matplotlib, Agg canvas; pyplot's global state is never touched).

Each model keeps one colour across every plot of the page, in the order of the config's
``[[models]]``, so a line in the training curves and a bar in the group plot are recognisably the
same model. Values over seeds are means; error bars are the sample standard deviation.
"""

from __future__ import annotations

import io
import math

_PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def colours(labels: list[str]) -> dict[str, str]:
    return {label: _PALETTE[i % len(_PALETTE)] for i, label in enumerate(labels)}


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _style(ax, title: str, xlabel: str, ylabel: str) -> None:
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(True, alpha=0.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def training_curves(
    curves: dict[str, dict[str, list[tuple[int, float]]]], metric: str, colour: dict[str, str]
) -> bytes:
    """Two panels: training loss and validation ``metric`` per epoch, one line per model.

    :param curves: label -> {"loss": [(epoch, value)], "valid": [(epoch, value)]}, seeds averaged
    """
    fig = _figure(10, 3.6)
    ax_loss, ax_valid = fig.subplots(1, 2)
    for label, c in curves.items():
        for ax, key in ((ax_loss, "loss"), (ax_valid, "valid")):
            pts = c.get(key, [])
            if pts:
                xs, ys = zip(*pts)
                ax.plot(
                    xs,
                    ys,
                    marker="o" if len(xs) <= 15 else None,
                    markersize=3,
                    linewidth=1.6,
                    color=colour[label],
                    label=label,
                )
    from matplotlib.ticker import MaxNLocator

    _style(ax_loss, "training loss (as each model defines it)", "epoch", "loss")
    _style(ax_valid, f"validation {metric}", "epoch", metric)
    for ax in (ax_loss, ax_valid):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_valid.legend(fontsize=8, frameon=False)
    return _png(fig)


def metric_by_k(
    values: dict[str, dict[str, dict[int, tuple[float, float]]]],
    families: list[str],
    ks: list[int],
    colour: dict[str, str],
) -> bytes:
    """One panel per metric family (recall, ndcg, ...): test value at each K, one line per model.

    :param values: label -> family -> K -> (mean, std over seeds)
    """
    n = len(families)
    fig = _figure(min(3.3 * n, 13), 3.6)
    axes = fig.subplots(1, n, squeeze=False)[0]
    for ax, fam in zip(axes, families):
        for label, per_family in values.items():
            pts = sorted(per_family.get(fam, {}).items())
            if not pts:
                continue
            xs = [k for k, _ in pts]
            ys = [v[0] for _, v in pts]
            err = [0.0 if math.isnan(v[1]) else v[1] for _, v in pts]
            ax.errorbar(
                xs,
                ys,
                yerr=err,
                marker="o",
                markersize=3.5,
                linewidth=1.5,
                capsize=2.5,
                color=colour[label],
                label=label,
            )
        ax.set_xticks(ks)
        _style(ax, f"{fam}@K (test)", "K", fam)
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncol=len(names), fontsize=8, frameon=False)
    return _png(fig)


def group_bars(
    values: dict[str, dict[str, float | None]], groups: list[str], metric: str, colour: dict[str, str]
) -> bytes:
    """Grouped bars: ``metric`` per user group (x) and model (bar); None (n/a) leaves a gap marked n/a.

    :param values: label -> group -> mean over seeds, or None
    """
    labels = list(values)
    fig = _figure(max(6.5, 1.1 * len(groups) + 3), 3.4)
    ax = fig.subplots()
    width = 0.8 / max(1, len(labels))
    top = max([v for per in values.values() for v in per.values() if v is not None] or [1.0])
    labelled: set[str] = set()
    for j, label in enumerate(labels):
        for i, g in enumerate(groups):
            x = i - 0.4 + width * (j + 0.5)
            v = values[label].get(g)
            if v is None:
                ax.text(x, top * 0.02, "n/a", rotation=90, ha="center", va="bottom", fontsize=7, color="#666")
            else:
                ax.bar(x, v, width=width * 0.95, color=colour[label], label=None if label in labelled else label)
                labelled.add(label)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups, rotation=20, ha="right", fontsize=8)
    _style(ax, f"test {metric} per user group", "", metric)
    ax.grid(False)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _png(fig)
