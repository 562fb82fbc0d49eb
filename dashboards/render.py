#!/usr/bin/env python3
"""Renders mozaiek's Grafana dashboards into PNGs from a real Prometheus.

Each dashboard in dashboards/grafana/ becomes one picture in dashboards/img/
with its panels where Grafana puts them: time series and heatmaps from range
queries, stats, gauges and bar gauges from instant queries, with the panels'
units and thresholds. It reads the same queries Grafana runs, with every
variable set to "All", so the pictures show what the dashboards show.

Without --prometheus it starts `mozaiek demo` and a Prometheus scraping it
every second (as the real-Prometheus test does), lets the demo run for
--warmup seconds, and renders the last --range seconds. Needs
python3-matplotlib.

  dashboards/render.py --mozaiek build/mozaiek            # start the demo, render
  dashboards/render.py --prometheus http://127.0.0.1:9090 # an existing Prometheus
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import colors as mcolors  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dashlib  # noqa: E402

BG, PANEL_BG, FG, GRID = "#111217", "#181b1f", "#ccccdc", "#2c3235"
PALETTE = ["#73bf69", "#f2cc0c", "#8ab8ff", "#ff780a", "#f2495c", "#5794f2", "#b877d9",
           "#705da0", "#37872d", "#fade2a", "#447ebc", "#c15c17", "#890f02", "#0a437c"]
NAMED = {"green": "#73bf69", "red": "#f2495c", "orange": "#ff9830", "blue": "#5794f2",
         "yellow": "#fade2a"}
GRID_ROW_INCHES = 0.36
WIDTH_INCHES = 22.0


# ------------------------------------------------------------------ formatting

def fmt(v: float, unit: str, decimals: int | None = None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "No data"
    if unit == "percentunit":
        return f"{v * 100:.{1 if decimals is None else decimals}f}%"
    if unit in ("s", "d"):
        s = v * 86400 if unit == "d" else v
        for size, name in ((86400, "day"), (3600, "hour"), (60, "min"), (1, "s")):
            if abs(s) >= size:
                n = s / size
                return f"{n:.1f} {name}{'s' if name in ('day', 'hour') and n != 1 else ''}"
        return f"{s * 1000:.1f} ms" if s else "0 s"
    suffix = " /s" if unit == "reqps" else ""
    for size, name in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            return f"{v / size:.1f}{name}{suffix}"
    if decimals == 0 or float(v).is_integer():
        return f"{v:.0f}{suffix}"
    return f"{v:.{2 if decimals is None else decimals}f}{suffix}"


def threshold_color(v: float, field: dict) -> str:
    steps = field.get("thresholds", {}).get("steps", [])
    color = steps[0]["color"] if steps else "green"
    for s in steps[1:]:
        if v is not None and not math.isnan(v) and v >= s["value"]:
            color = s["color"]
    return NAMED.get(color, color)


def legend(fmt_str: str, labels: dict) -> str:
    if not fmt_str or fmt_str == "__auto":
        inner = ", ".join(f'{k}="{v}"' for k, v in labels.items() if k != "__name__")
        return inner or labels.get("__name__", "value")
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), fmt_str)


def style(ax, title: str) -> None:
    ax.set_facecolor(PANEL_BG)
    for s in ax.spines.values():
        s.set_color(GRID)
    ax.tick_params(colors=FG, labelsize=7)
    ax.set_title(title, color=FG, fontsize=9, loc="left", pad=4)


# ------------------------------------------------------------------- panels

class Renderer:
    def __init__(self, prom: dashlib.Prometheus, end: float, range_s: float, step_s: float):
        self.prom, self.end, self.range_s, self.step_s = prom, end, range_s, step_s

    def values(self, dashboard: dict) -> dict:
        v = dashlib.variable_values(dashboard)
        v["__range"] = f"{int(self.range_s)}s"
        v["__rate_interval"] = f"{max(int(4 * self.step_s), 20)}s"
        return v

    def instant(self, expr: str) -> list[dict]:
        r = self.prom.query(expr, at=self.end)
        return r.get("data", {}).get("result", []) if r.get("status") == "success" else []

    def range(self, expr: str) -> list[dict]:
        r = self.prom.query_range(expr, self.end - self.range_s, self.end, self.step_s)
        return r.get("data", {}).get("result", []) if r.get("status") == "success" else []

    def draw(self, ax, p: dict, values: dict) -> None:
        kind = p["type"]
        field = p["fieldConfig"]["defaults"]
        unit = field.get("unit", "short")
        style(ax, p["title"])
        exprs = [(dashlib.substitute(t["expr"], values), t.get("legendFormat", "")) for t in p["targets"]]
        if kind == "timeseries":
            self.timeseries(ax, p, exprs, unit)
        elif kind in ("stat", "gauge"):
            self.stat(ax, exprs, field, unit)
        elif kind == "bargauge":
            self.bargauge(ax, exprs, field, unit)
        elif kind == "heatmap":
            self.heatmap(ax, exprs, unit)

    def timeseries(self, ax, p, exprs, unit):
        custom = p["fieldConfig"]["defaults"].get("custom", {})
        stacked = custom.get("stacking", {}).get("mode") == "normal"
        i = 0
        base = None
        for expr, lf in exprs:
            for s in sorted(self.range(expr), key=lambda s: legend(lf, s["metric"])):
                xs = [(float(t) - self.end) / 60 for t, _ in s["values"]]
                ys = [float(v) for _, v in s["values"]]
                color = PALETTE[i % len(PALETTE)]
                label = legend(lf, s["metric"])
                if stacked:
                    lower = base if base and len(base) == len(ys) else [0.0] * len(ys)
                    upper = [a + (0 if math.isnan(b) else b) for a, b in zip(lower, ys)]
                    ax.fill_between(xs, lower, upper, color=color, alpha=0.5, lw=0, label=label)
                    ax.plot(xs, upper, color=color, lw=1)
                    base = upper
                else:
                    ax.plot(xs, ys, color=color, lw=1.2, label=label)
                i += 1
        if i == 0:
            ax.text(0.5, 0.5, "No data", color=FG, ha="center", va="center", transform=ax.transAxes)
            return
        ax.grid(color=GRID, lw=0.5)
        ax.set_xlabel("minutes before render", color=FG, fontsize=7)
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt(v, unit)))
        if i <= 12:
            ax.legend(fontsize=6, loc="upper left", facecolor=PANEL_BG, edgecolor=GRID,
                      labelcolor=FG, ncol=1 if i <= 6 else 2)

    def stat(self, ax, exprs, field, unit):
        results = [(lf, s) for expr, lf in exprs for s in self.instant(expr)]
        ax.set_xticks([])
        ax.set_yticks([])
        if not results:
            ax.text(0.5, 0.45, "No data", color=FG, ha="center", va="center", fontsize=16,
                    transform=ax.transAxes)
            return
        n = len(results)
        for i, (lf, s) in enumerate(results):
            v = float(s["value"][1])
            x0, w = i / n, 1 / n
            ax.add_patch(plt.Rectangle((x0 + 0.01, 0.03), w - 0.02, 0.8, transform=ax.transAxes,
                                       color=threshold_color(v, field), alpha=0.85))
            ax.text(x0 + w / 2, 0.45, fmt(v, unit, field.get("decimals")), color="white",
                    ha="center", va="center", fontsize=18 if n == 1 else 12, weight="bold",
                    transform=ax.transAxes)
            if n > 1:
                ax.text(x0 + w / 2, 0.12, legend(lf, s["metric"]), color="white", ha="center",
                        fontsize=7, transform=ax.transAxes)

    def bargauge(self, ax, exprs, field, unit):
        rows = []
        for expr, lf in exprs:
            for s in self.instant(expr):
                rows.append((legend(lf, s["metric"]), float(s["value"][1])))
        rows = sorted((r for r in rows if not math.isnan(r[1])), key=lambda r: r[1])[-14:]
        if not rows:
            ax.text(0.5, 0.5, "No data", color=FG, ha="center", va="center", transform=ax.transAxes)
            ax.set_xticks([])
            ax.set_yticks([])
            return
        labels, vals = zip(*rows)
        ax.barh(range(len(vals)), vals, color=[threshold_color(v, field) for v in vals])
        ax.set_yticks(range(len(vals)), labels, fontsize=7)
        top = max(vals) or 1
        for i, v in enumerate(vals):
            ax.text(v + top * 0.01, i, fmt(v, unit, field.get("decimals")), color=FG, va="center",
                    fontsize=7)
        ax.set_xlim(0, top * 1.25)
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt(v, unit)))

    def heatmap(self, ax, exprs, unit):
        expr = exprs[0][0]
        series = self.range(expr)
        buckets = []
        for s in series:
            le = s["metric"].get("le", "+Inf")
            buckets.append((math.inf if le == "+Inf" else float(le), [float(v) for _, v in s["values"]]))
        buckets.sort(key=lambda b: b[0])
        if not buckets or not any(any(v > 0 for v in b[1]) for b in buckets):
            ax.text(0.5, 0.5, "No data", color=FG, ha="center", va="center", transform=ax.transAxes)
            return
        n = min(len(b[1]) for b in buckets)
        # cumulative buckets -> counts per bucket
        grid = []
        prev = [0.0] * n
        for _, vals in buckets:
            grid.append([max(vals[j] - prev[j], 0.0) for j in range(n)])
            prev = vals[:n]
        ax.imshow(grid, aspect="auto", origin="lower", cmap="Oranges",
                  norm=mcolors.PowerNorm(0.5), interpolation="nearest",
                  extent=(-self.range_s / 60, 0, -0.5, len(grid) - 0.5))
        ax.set_yticks(range(len(buckets)), [fmt(b[0], unit) if b[0] != math.inf else "+Inf"
                                             for b in buckets], fontsize=6)
        ax.set_xlabel("minutes before render", color=FG, fontsize=7)


def render_dashboard(r: Renderer, name: str, d: dict, out: Path) -> Path:
    items = list(dashlib.panels(d))
    total_h = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in items)
    fig = plt.figure(figsize=(WIDTH_INCHES, total_h * GRID_ROW_INCHES + 0.8), facecolor=BG)
    fig.suptitle(d["title"], color=FG, x=0.01, ha="left", fontsize=14)
    top = 1 - 0.6 / (total_h * GRID_ROW_INCHES + 0.8)
    values = r.values(d)
    for p in items:
        g = p["gridPos"]
        x0 = g["x"] / 24
        y0 = top * (1 - (g["y"] + g["h"]) / total_h)
        w, h = g["w"] / 24, top * g["h"] / total_h
        if p["type"] == "row":
            fig.text(x0 + 0.005, y0 + h / 2, p["title"], color=FG, fontsize=11, weight="bold",
                     va="center")
            continue
        unit = top / total_h  # one grid row in figure coordinates
        boxed = p["type"] in ("stat", "gauge")
        left = 0.004 if boxed else (0.06 if p["type"] == "bargauge" else 0.035)
        bottom = 0.3 * unit if boxed else 1.0 * unit
        ax = fig.add_axes((x0 + left, y0 + bottom, w - left - 0.008, h - bottom - 0.75 * unit))
        r.draw(ax, p, values)
    path = out / (Path(name).stem + ".png")
    fig.savefig(path, dpi=72, facecolor=BG)
    plt.close(fig)
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--prometheus", help="URL of a Prometheus that scrapes mozaiek")
    ap.add_argument("--mozaiek", help="mozaiek binary: start the demo and a Prometheus first")
    ap.add_argument("--warmup", type=int, default=240, help="seconds of demo before rendering")
    ap.add_argument("--rate", type=int, default=150, help="demo records per second")
    ap.add_argument("--range", type=int, default=0, help="seconds shown (default: the warmup)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "img"))
    args = ap.parse_args()
    if not args.prometheus and not args.mozaiek:
        ap.error("give --prometheus URL or --mozaiek BINARY")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    range_s = args.range or args.warmup

    def render(prom: dashlib.Prometheus) -> None:
        r = Renderer(prom, time.time(), range_s, max(range_s / 120, 1))
        for name, d in dashlib.load_dashboards().items():
            print(render_dashboard(r, name, d, out))

    if args.prometheus:
        render(dashlib.Prometheus(args.prometheus))
    else:
        # Spread the synthetic traffic over the whole warm-up so rates show as rates.
        demo = ["--rate", str(args.rate), "--signals", str(args.rate * (args.warmup + 60))]
        with dashlib.local_stack(args.mozaiek, args.warmup + 120, demo_args=demo) as (_, prom):
            time.sleep(args.warmup)
            render(prom)
    return 0


if __name__ == "__main__":
    sys.exit(main())
