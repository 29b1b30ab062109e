"""HTML pages for the web server: entity pages, the home page, the saved-query catalogue and forms,
and the pages around the pictures of ``pictures`` (timeline, mandate lineage).

Everything taken from the graph goes through ``_e`` (html.escape) before it reaches the markup, so a
label holding ``<script>`` is shown as text, never run. Entity IRIs under ``id/`` link to their page
on this server (``/id/...``); other IRIs link to themselves.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import pyoxigraph as ox

from .describe import Description
from .namespaces import ID, compact, natural_key

if TYPE_CHECKING:
    from .pictures import TimelineEvent

__all__ = ["LANGS", "href", "page", "entity_page", "home_page", "picture_page", "catalogue_page",
           "saved_query_page", "results_table"]

LANGS = ("en", "ru")
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


# --- the pictures' pages ----------------------------------------------------------------------

def picture_page(name: str, svg: str, lang: str) -> str:
    """An HTML page around one of the pictures (``name`` is "timeline" or "lineage")."""
    words = _words(lang)
    return page(words[name], f"<h1>{_e(words[name])}</h1>\n{svg}"
                f'<p><a href="/{name}.svg">SVG</a></p>', lang, switch=f"/{name}")


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
           '<li><a href="/sparql">/sparql</a>: SPARQL 1.1 endpoint (service description)</li>',
           '<li><a href="/ontology">/ontology</a>: the ontology and its documentation</li>',
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
