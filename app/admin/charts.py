"""Small charts drawn on the server as inline SVG: no script, nothing fetched, allowed by the strict CSP. Colours
come from classes in admin.css (the site's palette), never from attributes here. A chart is an image with a
title and a description a screen reader reads; the page gives its numbers as a table too."""
from markupsafe import Markup, escape

WIDTH, HEIGHT = 280, 76
TOP, BASELINE = 6, 58  # the bars stand between these
LABEL_Y = 72


def bars(values, *, chart_id, title, description, tips=(), first_label="", last_label=""):
    """A bar a value (oldest first, the last one marked as the current one). ``tips`` (one a bar) show on
    hover; ``first_label``/``last_label`` sit under the first and the last bar."""
    slot = WIDTH / max(len(values), 1)
    bar = slot * 0.7
    top = max(values, default=0)
    parts = frame(chart_id, title, description)
    for n, value in enumerate(values):
        height = (BASELINE - TOP) * value / top if top else 0
        if value and height < 2:
            height = 2  # a value is never drawn as nothing
        x = n * slot + (slot - bar) / 2
        css = "chart-bar chart-current" if n == len(values) - 1 else "chart-bar"
        tip = f"<title>{escape(tips[n])}</title>" if n < len(tips) else ""
        parts.append(f'<rect class="{css}" x="{x:.1f}" y="{BASELINE - height:.1f}" width="{bar:.1f}" '
                     f'height="{height:.1f}">{tip}</rect>')
    return close(parts, first_label, last_label)


def frame(chart_id, title, description, *, width=WIDTH, height=HEIGHT) -> list[str]:
    """The opening of a chart: the image with its title and description (the parts a chart adds to)."""
    return [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
    ]


def close(parts, first_label="", last_label="", *, width=WIDTH, baseline=BASELINE, label_y=LABEL_Y) -> Markup:
    """The axis under the marks, the labels under its two ends, and the end of the image."""
    parts = [*parts, f'<line class="chart-axis" x1="0" y1="{baseline + 0.5}" x2="{width}" y2="{baseline + 0.5}"/>']
    if first_label:
        parts.append(f'<text class="chart-label" x="0" y="{label_y}">{escape(first_label)}</text>')
    if last_label:
        parts.append(f'<text class="chart-label" x="{width}" y="{label_y}" text-anchor="end">'
                     f'{escape(last_label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
