"""Pictures in the assistant's answers, drawn on the server as inline SVG like the back office's charts (their
frame and axis are app/admin/charts.py's): a premium curve by age. Colours come from classes in site.css; the
answer gives the same numbers as a table."""
from markupsafe import escape

from app.admin.charts import close, frame
from app.core.money import format_yuan

WIDTH, HEIGHT = 320, 120
TOP, BASELINE = 18, 100  # the curve stays between these
LABEL_Y = 116
TOP_LABEL_Y = 10


def curve(points, *, chart_id, title, description):
    """A line through ``points`` ((age, annual premium in fen), one an age, youngest first); a mark where the premium changes
    (a rate table's band) with its figure on hover, the highest premium above, the youngest and the oldest age
    under the axis."""
    if not points:
        return close(frame(chart_id, title, description, width=WIDTH, height=HEIGHT), width=WIDTH,
                     baseline=BASELINE, label_y=LABEL_Y)
    first, last = points[0][0], points[-1][0]
    top = max(fen for _, fen in points)
    span = max(last - first, 1)

    def at(age, fen):
        return (age - first) * WIDTH / span, BASELINE - (BASELINE - TOP) * fen / top

    xy = [at(age, fen) for age, fen in points]
    parts = frame(chart_id, title, description, width=WIDTH, height=HEIGHT)
    parts.append('<polyline class="chart-line" points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in xy) + '"/>')
    parts.append(f'<text class="chart-label" x="0" y="{TOP_LABEL_Y}">{escape(f"最高 {format_yuan(top)}/年")}</text>')
    for n, ((age, fen), (x, y)) in enumerate(zip(points, xy)):
        if n and fen == points[n - 1][1]:
            continue
        until = age
        while until - first + 1 < len(points) and points[until - first + 1][1] == fen:
            until += 1
        ages = f"{age}–{until}周岁" if until > age else f"{age}周岁"
        parts.append(f'<circle class="chart-point" cx="{x:.1f}" cy="{y:.1f}" r="2.5">'
                     f"<title>{escape(f'{ages}：{format_yuan(fen)}/年')}</title></circle>")
    return close(parts, f"{first}周岁", f"{last}周岁", width=WIDTH, baseline=BASELINE, label_y=LABEL_Y)
