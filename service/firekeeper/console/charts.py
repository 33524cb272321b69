"""Server-side SVG charts (pygal), inlined into the pages: no script, no network.

pygal's default output links a tooltip script from the web (``js=[]`` leaves it out)
and carries an inline config script; ``_svg`` drops every script element from the tree
before it is written, so a chart is plain SVG (the page's CSP allows no script anyway).
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from datetime import datetime

import pygal
from markupsafe import Markup
from pygal.style import Style

from firekeeper.console.stats import Bucket, Counts, RuleRef, RuleStats

# pygal appends a legacy import hook (for map plugins, which the console does not use)
# that has only find_module: on Python 3.11 every later failed import then raises an
# ImportWarning (an error under pytest's -W error), 3.12 skips it. Take it out again.
sys.meta_path[:] = [f for f in sys.meta_path if type(f) is not pygal.PluginImportFixer]

TOP_RULES = 8  # series in the per-rule chart; the table lists every rule

_STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#222",
    foreground_strong="#111",
    foreground_subtle="#666",
    font_family="sans-serif",
    colors=("#1f6feb", "#d1242f", "#8250df", "#1a7f37", "#bf8700", "#0a3069", "#cf222e", "#57606a"),
)


def _label(at: datetime, bucket: Bucket) -> str:
    return at.strftime("%m-%d %H:00" if bucket is Bucket.HOUR else "%Y-%m-%d")


def _chart(kind: type[pygal.Line] | type[pygal.Bar], title: str) -> pygal.Line:
    return kind(
        js=[],
        disable_xml_declaration=True,
        style=_STYLE,
        width=900,
        height=320,
        title=title,
        x_label_rotation=30,
        show_minor_x_labels=False,
        legend_at_bottom=True,
        legend_at_bottom_columns=4,
        truncate_legend=40,
        print_values=False,
        show_dots=False,
        min_scale=1,
        max_scale=6,
    )


def _labels(stats: RuleStats) -> tuple[list[str], list[bool]]:
    labels = [_label(s, stats.bucket) for s in stats.starts]
    step = max(1, len(labels) // 12)
    major = [i % step == 0 for i in range(len(labels))]
    return labels, major


def matches_chart(stats: RuleStats) -> Markup:
    """Matches per bucket of the most matched rules, one line each."""
    chart = _chart(pygal.Line, f"matches per {stats.bucket.value}, top rules")
    labels, major = _labels(stats)
    chart.x_labels = labels
    chart.x_labels_major = [lab for lab, m in zip(labels, major, strict=True) if m]
    for rule in stats.rules()[:TOP_RULES]:
        chart.add(_name(rule), [c.matched for c in stats.series[rule]])
    return _svg(chart)


def outcomes_chart(stats: RuleStats) -> Markup:
    """Every rule together, per bucket: acted, shadow matches, false positives (side by
    side, not stacked: a false positive is also an action)."""
    chart = _chart(pygal.Bar, f"outcomes per {stats.bucket.value}, all rules")
    labels, major = _labels(stats)
    chart.x_labels = labels
    chart.x_labels_major = [lab for lab, m in zip(labels, major, strict=True) if m]
    sums = [Counts() for _ in stats.starts]
    for series in stats.series.values():
        for total, c in zip(sums, series, strict=True):
            total.acted += c.acted
            total.shadow += c.shadow
            total.false_positives += c.false_positives
    chart.add("acted", [c.acted for c in sums])
    chart.add("shadow", [c.shadow for c in sums])
    chart.add("false positives", [c.false_positives for c in sums])
    return _svg(chart)


def _svg(chart: pygal.Line) -> Markup:
    """The chart's SVG without its script elements (pygal builds an ElementTree)."""
    root = chart.render_tree()
    for parent in list(root.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    # pygal's own output is escaped by ElementTree: safe to inline
    return Markup(ET.tostring(root, encoding="unicode"))


def _name(rule: RuleRef) -> str:
    ruleset, rule_id = rule
    return f"{ruleset}/{rule_id}"
