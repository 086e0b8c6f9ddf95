"""The baseline report: one self-contained HTML page (plot embedded), plus the tables it was
drawn from as JSON and CSV."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import pandas as pd

from lstmtune.data import TimeSeries


def _forecast_png(ts: TimeSeries, table: pd.DataFrame) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    one = table[table["step"] == 1]
    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=110)
    ax.plot(ts.index, ts.y, color="black", lw=1.5, label="actual")
    when = ts.index[one["target_index"].to_numpy()]
    for name in [c for c in table.columns if c not in ("origin", "step", "target_index", "y")]:
        ax.plot(when, one[name], marker="o", ms=3, lw=1, label=name)
    ax.axvspan(when[0], when[-1], color="0.92", zorder=0)
    ax.set_title(f"{ts.name}: one-step baseline forecasts over the test window")
    ax.legend(ncol=5, fontsize=8, loc="upper left")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def baseline_report(ts: TimeSeries, scores: dict[str, dict[str, float]], table: pd.DataFrame,
                    out: Path, extra: list[tuple[str, str]] = ()) -> Path:
    """Write ``index.html``, ``baselines.json`` and ``forecasts.csv`` into ``out``; return the
    HTML path.  ``extra`` sections (heading, HTML) are appended to the page."""
    out.mkdir(parents=True, exist_ok=True)
    png = _forecast_png(ts, table)
    (out / "baselines.json").write_text(json.dumps(scores, indent=2))
    table.to_csv(out / "forecasts.csv", index=False)
    frame = pd.DataFrame(scores).T.round(3)
    sections = "".join(f"<h2>{html.escape(h)}</h2>\n{body}\n" for h, body in extra)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lstmtune: {html.escape(ts.name)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto}}
table{{border-collapse:collapse}}td,th{{padding:.2rem .6rem;border-bottom:1px solid #ddd;
text-align:right}}</style></head><body>
<h1>{html.escape(ts.name)}</h1>
<h2>Baselines</h2>
<p>{len(ts)} points, {html.escape(str(ts.index[0]))} to {html.escape(str(ts.index[-1]))};
walk-forward one step ahead over the test window, in original units.</p>
{frame.to_html(border=0)}
{png_tag(png, "baseline forecasts")}
{sections}</body></html>
"""
    path = out / "index.html"
    path.write_text(page)
    return path


def png_tag(png: bytes, alt: str) -> str:
    """An <img> with the PNG embedded, so the page needs no other file."""
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,' \
           f'{base64.b64encode(png).decode()}">'
