"""HTML pages and SVG pictures for the web server: entity pages, the home page, the timeline and the
mandate lineage.

Everything taken from the graph goes through ``_e`` (html.escape) before it reaches the markup, so a
label holding ``<script>`` is shown as text, never run. Entity IRIs under ``id/`` link to their page
on this server (``/id/...``); other IRIs link to themselves.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pyoxigraph as ox

from .describe import Description
from .namespaces import ID, PREFIXES, compact, natural_key

__all__ = ["LANGS", "href", "page", "entity_page", "home_page", "TimelineEvent", "timeline_events",
           "timeline_svg", "picture_page", "lineage_edges", "lineage_svg", "catalogue_page",
           "saved_query_page", "results_table"]

LANGS = ("en", "ru")
SVG_NS = "http://www.w3.org/2000/svg"
_TEXT = {  # the few words of the pages themselves, in both languages
    "en": {"type": "Type", "facts": "Facts", "incoming": "Pointed to by", "sources": "Sources",
           "property": "property", "value": "value", "source": "source paragraphs",
           "formats": "Other formats", "labels": "Labels", "none": "none recorded",
           "timeline": "Timeline of sessions and meetings", "lineage": "Mandate lineage",
           "home": "Home", "meetings": "Sessions and meetings", "queries": "Saved queries",
           "query": "Ask a SPARQL question", "run": "Run", "format": "Results format",
           "joint": "joint meeting (marks joined across lanes)", "b2b": "held back-to-back",
           "session": "session", "meeting": "meeting", "catalogue": "Catalogue of saved queries",
           "name": "name", "summary": "summary", "params": "Parameters", "param": "parameter",
           "ptype": "type", "example": "example", "required": "required", "optional": "optional",
           "default": "default", "results": "Results", "rows": "rows", "machine": "Machine formats",
           "missing": "Fill in the required parameters to run the query.", "error": "Error",
           "nothing": "no parameters", "use": "use", "description": "description"},
    "ru": {"type": "Тип", "facts": "Сведения", "incoming": "Ссылаются", "sources": "Источники",
           "property": "свойство", "value": "значение", "source": "пункты источника",
           "formats": "Другие форматы", "labels": "Названия", "none": "не указаны",
           "timeline": "Хронология сессий и совещаний", "lineage": "Преемственность мандатов",
           "home": "Главная", "meetings": "Сессии и совещания", "queries": "Сохранённые запросы",
           "query": "Задать вопрос на SPARQL", "run": "Выполнить", "format": "Формат результатов",
           "joint": "совместное совещание (отметки соединены)", "b2b": "проведены одно за другим",
           "session": "сессия", "meeting": "совещание", "catalogue": "Каталог сохранённых запросов",
           "name": "имя", "summary": "кратко", "params": "Параметры", "param": "параметр",
           "ptype": "тип", "example": "пример", "required": "обязательный",
           "optional": "необязательный", "default": "по умолчанию", "results": "Результаты",
           "rows": "строк", "machine": "Машиночитаемые форматы",
           "missing": "Заполните обязательные параметры, чтобы выполнить запрос.", "error": "Ошибка",
           "nothing": "без параметров", "use": "использование", "description": "описание"},
}


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _words(lang: str) -> dict[str, str]:
    return _TEXT.get(lang, _TEXT["en"])


def href(iri: str, lang: str = "en") -> str:
    """Where a link to ``iri`` points: its page here for our entities, the IRI itself otherwise."""
    if iri.startswith(ID):
        return "/id/" + iri[len(ID):] + ("?lang=" + lang if lang != "en" else "")
    return iri


def _link(iri: str, label_of, lang: str) -> str:
    label = label_of(iri)
    shown = f"{_e(label)} <small>({_e(compact(iri))})</small>" if label else _e(compact(iri))
    return f'<a href="{_e(href(iri, lang))}">{shown}</a>'


def page(title: str, body: str, lang: str = "en", *, switch: str | None = None) -> str:
    """A whole HTML document; ``switch`` is the path whose language versions are linked."""
    words = _words(lang)
    nav = f'<a href="/{"?lang=ru" if lang == "ru" else ""}">{words["home"]}</a>'
    if switch is not None:
        sep = "&" if "?" in switch else "?"
        nav += (f' · <a href="{_e(switch)}" hreflang="en">English</a>'
                f' · <a href="{_e(switch + sep + "lang=ru")}" hreflang="ru">Русский</a>')
    return (f'<!DOCTYPE html>\n<html lang="{_e(lang)}"><head><meta charset="utf-8">'
            f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n<body><nav>{nav}</nav>\n"
            f"{body}\n</body></html>\n")


_CSS = ("body{font-family:sans-serif;max-width:70em;margin:1em auto;padding:0 1em}"
        "table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:.2em .5em;"
        "text-align:left;vertical-align:top}small{color:#666}textarea{width:100%}")


# --- entity pages -----------------------------------------------------------------------------

def _in_language(facts, lang: str):
    """Facts with language-tagged values kept in ``lang`` only (English when ``lang`` has none)."""
    tagged: dict[str, set[str]] = {}
    for pred, obj in facts:
        if isinstance(obj, ox.Literal) and obj.language:
            tagged.setdefault(pred, set()).add(obj.language)
    out = []
    for pred, obj in facts:
        if isinstance(obj, ox.Literal) and obj.language:
            have = tagged[pred]
            wanted = lang if lang in have else ("en" if "en" in have else obj.language)
            if obj.language != wanted:
                continue
        out.append((pred, obj))
    return out


def _value(term, label_of, lang: str) -> str:
    if isinstance(term, ox.NamedNode):
        return _link(term.value, label_of, lang)
    if isinstance(term, ox.BlankNode):
        return "[]"
    return _e(term.value) + (f" <small>@{_e(term.language)}</small>" if term.language else "")


def _paras(iris, lang: str) -> str:
    return ", ".join(f'<a href="{_e(href(p, lang))}">{_e(compact(p))}</a>'
                     for p in sorted(set(iris), key=lambda i: natural_key(compact(i))))


def entity_page(d: Description, label_of, lang: str) -> str:
    """The HTML page of one entity: labels, type, facts with their source paragraphs, links in."""
    words = _words(lang)
    title = d.labels.get(lang) or d.labels.get("en") or compact(d.iri)
    path = href(d.iri)
    formats = " · ".join(f'<a href="{_e(path + suffix)}">{name}</a>' for suffix, name in
                         ((".ttl", "Turtle"), (".jsonld", "JSON-LD"), (".nt", "N-Triples"),
                          (".rdf", "RDF/XML")))
    out = [f"<h1>{_e(title)}</h1>",
           f"<p><code>{_e(d.iri)}</code> · {_e(compact(d.iri))}</p>",
           f"<p>{words['formats']}: {formats}</p>",
           f"<p>{words['type']}: " + ", ".join(_link(t, label_of, lang) for t in d.types) + "</p>"]
    if d.labels:
        out.append(f"<p>{words['labels']}: " + "; ".join(
            f"{_e(v)} <small>@{_e(k)}</small>" for k, v in sorted(d.labels.items())) + "</p>")
    facts = _in_language(d.facts, lang)
    if facts:
        out.append(f"<h2>{words['facts']}</h2><table><tr><th>{words['property']}</th>"
                   f"<th>{words['value']}</th><th>{words['source']}</th></tr>")
        for pred, obj in facts:
            paras = [p for (sp, so, ps) in d.statement_sources if sp == pred and so == obj for p in ps]
            out.append(f"<tr><td>{_link(pred, label_of, lang)}</td>"
                       f"<td>{_value(obj, label_of, lang)}</td><td>{_paras(paras, lang)}</td></tr>")
        out.append("</table>")
    if d.incoming:
        out.append(f"<h2>{words['incoming']}</h2><ul>")
        out += [f"<li>{_link(s, label_of, lang)} <small>{_e(compact(p))}</small></li>"
                for s, p in d.incoming]
        out.append("</ul>")
    out.append(f"<h2>{words['sources']}</h2><p>{_paras(d.sources, lang) or words['none']}</p>")
    return page(title, "\n".join(out), lang, switch=path)


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


def picture_page(name: str, svg: str, lang: str) -> str:
    """An HTML page around one of the pictures (``name`` is "timeline" or "lineage")."""
    words = _words(lang)
    return page(words[name], f"<h1>{_e(words[name])}</h1>\n{svg}"
                f'<p><a href="/{name}.svg">SVG</a></p>', lang, switch=f"/{name}")


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


# --- home -------------------------------------------------------------------------------------

def home_page(events: list[TimelineEvent], queries, lang: str) -> str:
    """Links to the endpoints, a plain query form, and the list of sessions and meetings."""
    words = _words(lang)
    q = "?lang=ru" if lang == "ru" else ""
    options = "".join(f'<option value="{v}">{n}</option>' for v, n in (
        ("json", "SPARQL JSON"), ("xml", "SPARQL XML / RDF/XML"), ("csv", "CSV"), ("tsv", "TSV"),
        ("turtle", "Turtle (CONSTRUCT)"), ("jsonld", "JSON-LD (CONSTRUCT)"),
        ("ntriples", "N-Triples (CONSTRUCT)")))
    out = ["<h1>untoc-kg</h1>",
           "<ul>",
           f'<li><a href="/sparql">/sparql</a>: SPARQL 1.1 endpoint (service description)</li>',
           f'<li><a href="/queries{q}">{words["catalogue"]}</a> '
           f'(<a href="/queries?format=json">JSON</a>)</li>',
           f'<li><a href="/timeline{q}">{words["timeline"]}</a></li>',
           f'<li><a href="/lineage{q}">{words["lineage"]}</a></li>',
           "</ul>",
           f"<h2>{words['query']}</h2>",
           '<form method="post" action="/sparql">',
           '<textarea name="query" rows="8">SELECT ?meeting ?place WHERE {\n'
           "  ?meeting untoc:meetingOf body:wg-international-cooperation ;\n"
           "           schema:location ?place .\n}</textarea><br>",
           f'<label>{words["format"]} <select name="format">{options}</select></label> '
           f'<button type="submit">{words["run"]}</button></form>',
           f"<h2>{words['queries']}</h2><ul>"]
    out += [f'<li><a href="/queries/{_e(s.name)}{q}">{_e(s.name)}</a>: {_e(s.summary)}</li>'
            for s in queries]
    out += ["</ul>", f"<h2>{words['meetings']}</h2><ul>"]
    out += [f'<li>{_e(e.date or e.year or "")} <a href="{_e(href(e.iri, lang))}">{_e(e.label)}</a></li>'
            for e in events]
    out.append("</ul>")
    return page("untoc-kg", "\n".join(out), lang, switch="/")


# --- saved queries ----------------------------------------------------------------------------

def _param_cells(p, words) -> str:
    if p.required:
        status = words["required"]
    elif p.default is not None:
        status = f'{words["default"]} <code>{_e(p.default)}</code>'
    else:
        status = words["optional"]
    example = f"<code>{_e(p.example)}</code>" if p.example else ""
    return (f"<td><code>{_e(p.name)}</code></td><td>{_e(p.type)}</td><td>{status}</td>"
            f"<td>{_e(p.description)}</td><td>{example}</td>")


def _param_table(params, words) -> str:
    if not params:
        return f"<p>{words['nothing']}</p>"
    head = "".join(f"<th>{words[k]}</th>" for k in ("param", "ptype", "use", "description", "example"))
    return (f"<table class=\"params\"><tr>{head}</tr>"
            + "".join(f"<tr>{_param_cells(p, words)}</tr>" for p in params) + "</table>")


def catalogue_page(queries, lang: str) -> str:
    """Every saved query: name (linking to its form), summary, description and typed parameters."""
    words = _words(lang)
    q = "?lang=ru" if lang == "ru" else ""
    out = [f"<h1>{_e(words['catalogue'])}</h1>",
           f'<p>{words["machine"]}: <a href="/queries?format=json">JSON</a></p>']
    for s in queries:
        out += [f'<section id="{_e(s.name)}"><h2><a href="/queries/{_e(s.name)}{q}">{_e(s.name)}</a>'
                f" <small>{_e(s.kind)}</small></h2>",
                f"<p><b>{_e(s.summary)}</b></p>",
                f"<p>{_e(s.description)}</p>" if s.description else "",
                _param_table(s.params, words), "</section>"]
    return page(words["catalogue"], "\n".join(x for x in out if x), lang, switch="/queries")


def _cell(term, label_of, lang: str) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return _link(term.value, label_of, lang)
    if isinstance(term, ox.BlankNode):
        return "_:" + _e(term.value)
    return _e(term.value) + (f" <small>@{_e(term.language)}</small>" if term.language else "")


def results_table(variables, rows, label_of, lang: str) -> str:
    """Rows (variable -> term) as an HTML table: IRIs link to their pages, labelled in ``lang``."""
    words = _words(lang)
    head = "".join(f"<th>{_e(v)}</th>" for v in variables)
    body = "".join("<tr>" + "".join(f"<td>{_cell(row.get(v), label_of, lang)}</td>"
                                    for v in variables) + "</tr>" for row in rows)
    return (f'<table class="results"><tr>{head}</tr>{body}</table>'
            f'<p class="count">{len(rows)} {words["rows"]}</p>')


def saved_query_page(saved, values: dict[str, str], lang: str, *, results: str | None = None,
                     error: str | None = None, formats: dict[str, str] | None = None) -> str:
    """One saved query: its documentation, a form for its parameters (filled with ``values``), and
    either its results (``results``, HTML from results_table), an ``error`` message, or a hint that
    required parameters are missing. ``formats`` maps a format's name to the link of the same
    results in it."""
    words = _words(lang)
    action = f"/queries/{saved.name}"
    fields = []
    for p in saved.params:
        value = values.get(p.name, p.default if p.default is not None else "")
        hint = p.example or ""
        fields.append(f'<p><label for="p-{_e(p.name)}"><code>{_e(p.name)}</code> '
                      f"<small>({_e(p.type)}, "
                      f'{words["required"] if p.required else words["optional"]})</small></label> '
                      f'<input type="text" id="p-{_e(p.name)}" name="{_e(p.name)}" '
                      f'value="{_e(value)}" placeholder="{_e(hint)}"'
                      f'{" required" if p.required else ""}> <small>{_e(p.description)}</small></p>')
    if saved.param("lang") is None and lang != "en":  # keep the page's language across the form
        fields.append(f'<input type="hidden" name="lang" value="{_e(lang)}">')
    out = [f"<h1>{_e(saved.name)}</h1>", f"<p><b>{_e(saved.summary)}</b></p>"]
    if saved.description:
        out.append(f"<p>{_e(saved.description)}</p>")
    if saved.source:
        out.append(f"<p><small>{_e(saved.source)}</small></p>")
    out += [f"<h2>{words['params']}</h2>", _param_table(saved.params, words),
            f'<form method="get" action="{_e(action)}" id="query-form">', *fields,
            f'<button type="submit">{words["run"]}</button></form>']
    if error is not None:
        out.append(f'<h2>{words["error"]}</h2><p class="error">{_e(error)}</p>')
    elif results is not None:
        out.append(f"<h2>{words['results']}</h2>{results}")
        if formats:
            out.append(f"<p>{words['machine']}: " + " · ".join(
                f'<a href="{_e(link)}">{_e(name)}</a>' for name, link in formats.items()) + "</p>")
    else:
        out.append(f"<p>{words['missing']}</p>")
    out.append(f"<details><summary>SPARQL</summary><pre>{_e(saved.text)}</pre></details>")
    switch = action
    kept = {k: v for k, v in values.items() if k != "lang"}
    if kept:
        from urllib.parse import urlencode

        switch += "?" + urlencode(kept)
    return page(saved.name, "\n".join(out), lang, switch=switch)
