"""SVG pictures for the web server, drawn from the graph: the timeline of sessions and meetings and
the mandate lineage. Every mark links to its entity page (``pages.href``).

As on the pages, everything taken from the graph goes through ``_e`` (html.escape) before it reaches
the markup, so a label holding ``<script>`` is shown as text, never run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from .namespaces import PREFIXES, compact, natural_key
from .pages import _e, _words, href

__all__ = ["SVG_NS", "TimelineEvent", "timeline_events", "timeline_svg", "lineage_edges",
           "lineage_svg"]

SVG_NS = "http://www.w3.org/2000/svg"


# --- timeline ---------------------------------------------------------------------------------

@dataclass
class TimelineEvent:
    iri: str
    label: str
    year: int | None = None
    date: str | None = None
    bodies: list[str] = field(default_factory=list)
    session: bool = False
    joint: bool = False
    back_to_back: list[str] = field(default_factory=list)


_EVENTS = """
SELECT ?event ?label ?body ?session ?joint ?date ?gyear ?other ?lang WHERE {
  ?event a/rdfs:subClassOf* untoc:Meeting .
  BIND(EXISTS { ?event a/rdfs:subClassOf* untoc:Session } AS ?session)
  BIND(EXISTS { ?event a/rdfs:subClassOf* untoc:JointMeeting } AS ?joint)
  OPTIONAL { ?event rdfs:label ?label FILTER(LANG(?label) = ?lang) }
  OPTIONAL { ?event untoc:meetingOf ?body }
  OPTIONAL { ?event schema:startDate|untoc:sittingDate ?date }
  OPTIONAL { ?event untoc:year ?gyear }
  OPTIONAL { ?event untoc:heldBackToBackWith|^untoc:heldBackToBackWith ?other }
}"""


def _query(store, text: str, **subs):
    return store.query(text, prefixes=PREFIXES, use_default_graph_as_union=True,
                       substitutions={ox.Variable(k): v for k, v in subs.items()} or None)


def timeline_events(store, lang: str) -> list[TimelineEvent]:
    """Sessions and meetings with their bodies and year (earliest date, else the stated year)."""
    events: dict[str, TimelineEvent] = {}
    fallback: dict[str, str] = {}
    for want in dict.fromkeys((lang, "en")):
        for sol in _query(store, _EVENTS, lang=ox.Literal(want)):
            iri = sol["event"].value
            ev = events.setdefault(iri, TimelineEvent(iri, compact(iri)))
            if sol["label"] is not None:
                fallback.setdefault(iri, sol["label"].value)
            ev.session = sol["session"].value == "true"
            ev.joint = sol["joint"].value == "true"
            if sol["body"] is not None and sol["body"].value not in ev.bodies:
                ev.bodies.append(sol["body"].value)
            if sol["date"] is not None and (ev.date is None or sol["date"].value < ev.date):
                ev.date = sol["date"].value
            for term in (sol["date"], sol["gyear"]):
                if term is not None and term.value[:4].isdigit():
                    y = int(term.value[:4])
                    ev.year = y if ev.year is None else min(ev.year, y)
            if sol["other"] is not None and sol["other"].value not in ev.back_to_back:
                ev.back_to_back.append(sol["other"].value)
    for iri, ev in events.items():
        ev.label = fallback.get(iri, ev.label)
        ev.bodies.sort()
    return sorted(events.values(), key=lambda e: (e.year or 9999, e.date or "", e.iri))


def timeline_svg(events: list[TimelineEvent], label_of, lang: str) -> str:
    """One lane per body, one column per year; squares are sessions, circles meetings, diamonds
    joint meetings (their marks in each lane joined by a dashed line); an orange arc joins meetings
    held back-to-back. Every mark links to its entity page."""
    words = _words(lang)
    dated = [e for e in events if e.year is not None and e.bodies]
    if not dated:
        return f'<svg xmlns="{SVG_NS}" width="200" height="20"><text y="15">-</text></svg>'
    first = min(e.year for e in dated)
    years = list(range(first, max(e.year for e in dated) + 1))
    lanes = sorted({b for e in dated for b in e.bodies},
                   key=lambda b: (min(e.year for e in dated if b in e.bodies), b))
    for e in dated:  # partners in a joint meeting get neighbouring lanes, so its line crosses no other
        if e.joint:
            for partner in e.bodies[1:]:
                lanes.remove(partner)
                lanes.insert(lanes.index(e.bodies[0]) + 1, partner)
    left, col, lane_h, top = 300, 80, 44, 30
    width, height = left + col * len(years) + 20, top + lane_h * len(lanes) + 70
    out = [f'<svg xmlns="{SVG_NS}" xmlns:xlink="http://www.w3.org/1999/xlink" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f"<title>{_e(words['timeline'])}</title>"]
    for i, y in enumerate(years):
        x = left + col * i + col // 2
        out.append(f'<text x="{x}" y="{top - 10}" text-anchor="middle">{y}</text>'
                   f'<line x1="{x}" y1="{top}" x2="{x}" y2="{top + lane_h * len(lanes)}" '
                   f'stroke="#eee"/>')
    for j, body in enumerate(lanes):
        name = label_of(body) or compact(body)
        short = name if len(name) <= 45 else name[:44] + "…"
        y = top + lane_h * j + lane_h // 2
        out.append(f'<a href="{_e(href(body, lang))}" xlink:href="{_e(href(body, lang))}">'
                   f'<text x="4" y="{y + 4}"><title>{_e(name)}</title>{_e(short)}</text></a>'
                   f'<line x1="{left}" y1="{y}" x2="{width - 20}" y2="{y}" stroke="#ccc"/>')
    # Position of each mark: events of one body in one year sit side by side in the year's column.
    cells: dict[tuple[str, int], list[TimelineEvent]] = {}
    for e in dated:
        for b in e.bodies:
            cells.setdefault((b, e.year), []).append(e)
    pos: dict[tuple[str, str], tuple[float, float]] = {}
    for (b, year), evs in cells.items():
        for k, e in enumerate(evs):
            x = left + col * (year - first) + col / 2 + (k - (len(evs) - 1) / 2) * 18
            pos[(e.iri, b)] = (x, top + lane_h * lanes.index(b) + lane_h / 2)
    drawn = set()
    for e in dated:  # connectors first, so the marks sit on top of them
        if e.joint and len(e.bodies) > 1:
            points = " ".join(f"{x},{y}" for x, y in sorted((pos[(e.iri, b)] for b in e.bodies),
                                                             key=lambda p: p[1]))
            out.append(f'<polyline points="{points}" fill="none" stroke="#7a3" '
                       f'stroke-dasharray="4 3" stroke-width="2"/>')
        for other in e.back_to_back:
            pair = tuple(sorted((e.iri, other)))
            mate = next((o for o in dated if o.iri == other), None)
            if pair in drawn or mate is None:
                continue
            drawn.add(pair)
            (x1, y1), (x2, y2) = pos[(e.iri, e.bodies[0])], pos[(other, mate.bodies[0])]
            out.append(f'<path d="M{x1},{y1} Q{(x1 + x2) / 2 + 25},{(y1 + y2) / 2} {x2},{y2}" '
                       f'fill="none" stroke="#e80" stroke-width="2.5">'
                       f"<title>{_e(words['b2b'])}</title></path>")
    for e in dated:
        for b in e.bodies:
            x, y = pos[(e.iri, b)]
            if e.joint:
                shape = (f'<polygon points="{x},{y - 8} {x + 8},{y} {x},{y + 8} {x - 8},{y}" '
                         f'fill="#7a3"/>')
            elif e.session:
                shape = f'<rect x="{x - 6}" y="{y - 6}" width="12" height="12" fill="#36c"/>'
            else:
                shape = f'<circle cx="{x}" cy="{y}" r="6" fill="#c33"/>'
            link = _e(href(e.iri, lang))
            when = e.date or str(e.year)
            out.append(f'<a href="{link}" xlink:href="{link}">{shape}'
                       f"<title>{_e(e.label)} ({_e(when)})</title></a>")
    ly = top + lane_h * len(lanes) + 30
    out.append(f'<rect x="{left}" y="{ly - 6}" width="12" height="12" fill="#36c"/>'
               f'<text x="{left + 16}" y="{ly + 4}">{_e(words["session"])}</text>'
               f'<circle cx="{left + 96}" cy="{ly}" r="6" fill="#c33"/>'
               f'<text x="{left + 106}" y="{ly + 4}">{_e(words["meeting"])}</text>'
               f'<polygon points="{left + 196},{ly - 8} {left + 204},{ly} {left + 196},{ly + 8} '
               f'{left + 188},{ly}" fill="#7a3"/>'
               f'<text x="{left + 210}" y="{ly + 4}">{_e(words["joint"])}</text>'
               f'<line x1="{left}" y1="{ly + 24}" x2="{left + 30}" y2="{ly + 24}" stroke="#e80" '
               f'stroke-width="2.5"/><text x="{left + 36}" y="{ly + 28}">{_e(words["b2b"])}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


# --- mandate lineage --------------------------------------------------------------------------

_LINEAGE = """
SELECT DISTINCT ?mandate ?relation ?target WHERE {
  ?mandate a/rdfs:subClassOf* untoc:Mandate .
  { { ?mandate untoc:establishes ?target } UNION { ?target untoc:establishedBy ?mandate }
    BIND(untoc:establishes AS ?relation) }
  UNION { { ?mandate untoc:endorses ?target } UNION { ?target untoc:endorsedBy ?mandate }
    BIND(untoc:endorses AS ?relation) }
  UNION { ?mandate untoc:relatedMandate ?target BIND(untoc:relatedMandate AS ?relation) }
  UNION { ?mandate untoc:hasAction|^untoc:actionOf ?action .
          ?action untoc:actionKind ?relation ; untoc:regarding ?target }
} ORDER BY ?mandate ?relation ?target"""


def lineage_edges(store) -> list[tuple[str, str, str]]:
    """(mandate, relation, target): what each decision or resolution establishes, endorses, acts on
    or relates to (the same edges as the saved query mandate-lineage)."""
    return [(s["mandate"].value, s["relation"].value, s["target"].value)
            for s in _query(store, _LINEAGE)]


_COLOURS = ("#36c", "#c33", "#7a3", "#e80", "#939", "#099", "#663", "#c39", "#0a6", "#a50", "#66c",
            "#555")


def lineage_svg(edges, label_of, lang: str) -> str:
    """Mandates on the left, what they reach on the right (mandates that are also targets stay on
    the left, with curved edges), one colour per relation."""
    mandates = sorted({m for m, _, _ in edges}, key=lambda i: natural_key(compact(i)))
    targets = sorted({t for _, _, t in edges if t not in mandates}, key=lambda i: natural_key(compact(i)))
    relations = sorted({r for _, r, _ in edges})
    colour = {r: _COLOURS[i % len(_COLOURS)] for i, r in enumerate(relations)}
    row, top, lx, rx = 22, 20, 10, 660
    height = top + row * max(len(mandates), len(targets), 1) + row * (len(relations) + 2)
    width = rx + 420
    y_of = {m: top + row * i for i, m in enumerate(mandates)}
    y_of.update({t: top + row * i for i, t in enumerate(targets)})
    out = [f'<svg xmlns="{SVG_NS}" xmlns:xlink="http://www.w3.org/1999/xlink" width="{width}" '
           f'height="{height}" font-family="sans-serif" font-size="12">',
           f"<title>{_e(_words(lang)['lineage'])}</title>"]
    ax = lx + 270  # where the mandates' edges start; mandate names are cut to fit before it
    for m, r, t in edges:
        y1 = y_of[m]
        if t in mandates:
            y2 = y_of[t]
            d = f"M{ax},{y1} C{ax + 120},{y1} {ax + 120},{y2} {ax},{y2}"
        else:
            d = f"M{ax},{y1} C{ax + 150},{y1} {rx - 160},{y_of[t]} {rx - 6},{y_of[t]}"
        out.append(f'<path d="{d}" fill="none" stroke="{colour[r]}" stroke-width="1.5" opacity=".8">'
                   f"<title>{_e(compact(m))} {_e(label_of(r) or compact(r))} {_e(compact(t))}</title>"
                   f"</path>")

    def node(iri: str, x: int, y: float, anchor: str, room: int = 55) -> str:
        name = label_of(iri) or compact(iri)
        short = name if len(name) <= room else name[: room - 1] + "…"
        link = _e(href(iri, lang))
        return (f'<a href="{link}" xlink:href="{link}"><text x="{x}" y="{y + 4}" '
                f'text-anchor="{anchor}"><title>{_e(name)}</title>{_e(short)}</text></a>')

    out += [node(m, ax - 6, y_of[m], "end", room=40) for m in mandates]
    out += [node(t, rx, y_of[t], "start") for t in targets]
    ly = top + row * max(len(mandates), len(targets), 1) + row
    for i, r in enumerate(relations):
        y = ly + row * i
        out.append(f'<line x1="{lx}" y1="{y}" x2="{lx + 30}" y2="{y}" stroke="{colour[r]}" '
                   f'stroke-width="2"/><text x="{lx + 36}" y="{y + 4}">'
                   f"{_e(label_of(r) or compact(r))} ({_e(compact(r))})</text>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
