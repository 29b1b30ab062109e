"""Documentation of the ontology: one bilingual HTML page (every class and property with its English
and Russian labels and definitions, its place in the hierarchy and the SHACL constraints on it) and
the ontology itself in the RDF formats, served at the ontology's IRI and written as a static site.

The page is generated here rather than by pyLODE (a dependency since the docs were planned): pyLODE
3.4.1 does not import from a wheel (it reads a pyproject.toml next to site-packages, RDFLib/pyLODE#260),
writes a pickle cache into its own install directory on first use, orders some lists differently
from run to run, and passes definitions through Markdown with raw HTML allowed, so a definition
holding ``<img onerror=...>`` reaches the page as markup. Here every text from the graph goes through
``html.escape``, everything is sorted, and nothing outside the given files is read.
"""

from __future__ import annotations

import hashlib
import html
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from . import __version__
from .errors import InputError
from .loading import GraphSource
from .namespaces import PREFIXES, UNTOC, natural_key
from .namespaces import compact as _compact

__all__ = ["FORMAT_FILES", "MARKER", "ontology_page", "docs_files", "write_docs"]

# What the site holds, by format name as used by the server's content negotiation; the suffixes
# are those of the entity pages (/id/...ttl), so /ontology.ttl on the server is ontology.ttl here.
FORMAT_FILES = {"html": "index.html", "turtle": "ontology.ttl", "jsonld": "ontology.jsonld",
                "ntriples": "ontology.nt", "xml": "ontology.rdf"}
# Written into every site; a directory holding it (and only the site's files) may be replaced whole.
MARKER = ".untoc-docs"

ONTOLOGY_IRI = UNTOC.rstrip("#")
RDF = PREFIXES["rdf"]
RDFS = PREFIXES["rdfs"]
OWL = PREFIXES["owl"]
SKOS = PREFIXES["skos"]
SH = PREFIXES["sh"]
DCT = PREFIXES["dcterms"]
_TYPE = RDF + "type"
_LANG_ORDER = {"en": 0, "ru": 1}

_SECTIONS = [  # (anchor, English, Russian, rdf:type that puts a term there)
    ("classes", "Classes", "Классы", (OWL + "Class", RDFS + "Class")),
    ("object-properties", "Object properties", "Объектные свойства", (OWL + "ObjectProperty",)),
    ("datatype-properties", "Datatype properties", "Свойства данных", (OWL + "DatatypeProperty",)),
    ("annotation-properties", "Annotation properties", "Свойства аннотаций",
     (OWL + "AnnotationProperty",)),
    ("other-properties", "Other properties", "Другие свойства",
     (RDF + "Property", OWL + "FunctionalProperty", OWL + "InverseFunctionalProperty",
      OWL + "SymmetricProperty", OWL + "AsymmetricProperty", OWL + "TransitiveProperty",
      OWL + "ReflexiveProperty", OWL + "IrreflexiveProperty")),
    ("individuals", "Named individuals", "Именованные индивиды", (OWL + "NamedIndividual",)),
]
_CHARACTERISTICS = {OWL + "FunctionalProperty": "functional",
                    OWL + "InverseFunctionalProperty": "inverse functional",
                    OWL + "SymmetricProperty": "symmetric", OWL + "AsymmetricProperty": "asymmetric",
                    OWL + "TransitiveProperty": "transitive", OWL + "ReflexiveProperty": "reflexive",
                    OWL + "IrreflexiveProperty": "irreflexive"}
# Predicates each term entry shows in its own place; any other is listed under "Other".
_SHOWN = {_TYPE, RDFS + "label", SKOS + "definition", RDFS + "comment", RDFS + "subClassOf",
          RDFS + "subPropertyOf", RDFS + "domain", RDFS + "range", OWL + "inverseOf",
          OWL + "equivalentClass", OWL + "disjointWith", OWL + "equivalentProperty",
          RDFS + "isDefinedBy"}
_HEADER_FIRST = [OWL + "versionIRI", OWL + "versionInfo", DCT + "created",
                 "http://purl.org/dc/elements/1.1/creator", DCT + "license", DCT + "source",
                 "http://purl.org/vocab/vann/preferredNamespacePrefix",
                 "http://purl.org/vocab/vann/preferredNamespaceUri", RDFS + "seeAlso"]


# Vocabularies the ontology cites that the data files never use, so namespaces.PREFIXES lacks them.
_PREFIXES = {**PREFIXES, "dc": "http://purl.org/dc/elements/1.1/"}


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _short(iri: str) -> str:
    short = _compact(iri)
    if short == iri and iri.startswith(_PREFIXES["dc"]) and iri[len(_PREFIXES["dc"]):].isalnum():
        return "dc:" + iri[len(_PREFIXES["dc"]):]
    return short


# --- the graph as plain dictionaries ------------------------------------------------------------

@dataclass
class _Index:
    """Triples by subject and by object, for a graph small enough to hold twice."""

    out: dict = field(default_factory=dict)   # subject -> predicate IRI -> [object]
    back: dict = field(default_factory=dict)  # object -> predicate IRI -> [subject]

    @classmethod
    def of(cls, triples) -> "_Index":
        index = cls()
        for t in triples:
            index.out.setdefault(t.subject, {}).setdefault(t.predicate.value, []).append(t.object)
            index.back.setdefault(t.object, {}).setdefault(t.predicate.value, []).append(t.subject)
        return index

    def values(self, subject, predicate: str) -> list:
        return _sorted(self.out.get(subject, {}).get(predicate, []))

    def subjects(self, predicate: str, obj) -> list:
        return _sorted(self.back.get(obj, {}).get(predicate, []))

    def one(self, subject, predicate: str):
        found = self.values(subject, predicate)
        return found[0] if found else None

    def items(self, head) -> list:
        """The members of an RDF list, in order (cycles and broken lists end it)."""
        members, seen = [], set()
        while isinstance(head, (ox.BlankNode, ox.NamedNode)) and head.value != RDF + "nil" \
                and head not in seen:
            seen.add(head)
            first = self.one(head, RDF + "first")
            if first is None:
                break
            members.append(first)
            head = self.one(head, RDF + "rest")
        return members


def _key(term):
    if isinstance(term, ox.Literal):
        return (2, _LANG_ORDER.get(term.language or "", 9), term.language or "",
                natural_key(term.value))
    return (0 if isinstance(term, ox.NamedNode) else 1, natural_key(_short(term.value)), term.value)


def _sorted(terms) -> list:
    # Blank-node labels change from parse to parse, so they never decide an order on the page:
    # blank nodes keep the order they come in after the named terms.
    named = sorted({t for t in terms if not isinstance(t, ox.BlankNode)}, key=_key)
    blank = list(dict.fromkeys(t for t in terms if isinstance(t, ox.BlankNode)))
    return named + blank


def _parse(data: bytes, path: Path) -> list[ox.Triple]:
    try:
        return [q.triple for q in ox.parse(data, ox.RdfFormat.TURTLE, base_iri=path.resolve().as_uri())]
    except SyntaxError as exc:
        raise InputError(" ".join(str(exc).split()), path=str(path),
                         line=getattr(exc, "lineno", None)) from None
    except (ValueError, OSError) as exc:
        raise InputError(str(exc), path=str(path)) from None


# --- the page -----------------------------------------------------------------------------------

class _Page:
    def __init__(self, ontology: _Index, shapes: _Index):
        self.g = ontology
        self.sh = shapes
        self.terms: dict[ox.NamedNode, str] = {}  # term -> anchor
        self.sections: list[tuple[str, str, str, list]] = []
        placed: set = set()
        for anchor, en, ru, types in _SECTIONS:
            typed = [s for ty in types for s in self.g.subjects(_TYPE, ox.NamedNode(ty))]
            members = [t for t in _sorted(typed) if isinstance(t, ox.NamedNode)
                       and t not in placed and t.value != ONTOLOGY_IRI]
            placed.update(members)
            if members:
                members.sort(key=lambda t: (not t.value.startswith(UNTOC), _key(t)))
                self.sections.append((anchor, en, ru, members))
        for *_, members in self.sections:
            for t in members:
                self.terms[t] = self._anchor(t)
        self.prefixes_used: set[str] = set()

    @staticmethod
    def _anchor(term: ox.NamedNode) -> str:
        # untoc terms keep their local name, so https://w3id.org/untoc/ontology#Meeting lands on
        # its entry when the ontology IRI serves this page.
        if term.value.startswith(UNTOC):
            return term.value[len(UNTOC):]
        short = _short(term.value)
        if short != term.value:
            return short
        return "term-" + hashlib.sha256(term.value.encode()).hexdigest()[:12]

    # -- small pieces

    def curie(self, iri: str) -> str:
        short = _short(iri)
        if short != iri:
            self.prefixes_used.add(short.split(":", 1)[0])
        return short

    def ref(self, term) -> str:
        """A link to a term: its entry on this page when it has one, else the IRI itself."""
        if isinstance(term, ox.Literal):
            return self.literal(term)
        if isinstance(term, ox.BlankNode):
            return self.expression(term)
        anchor = self.terms.get(term)
        shown = f"<code>{_e(self.curie(term.value))}</code>"
        label = self.label(term)
        title = f' title="{_e(label)}"' if label else ""
        if anchor is not None:
            return f'<a href="#{_e(anchor)}"{title}>{shown}</a>'
        if term.value.startswith(("http://", "https://")):
            return f'<a href="{_e(term.value)}"{title}>{shown}</a>'
        return shown

    @staticmethod
    def literal(term: ox.Literal) -> str:
        if term.language:
            return f'<span lang="{_e(term.language)}">{_e(term.value)}</span>'
        return _e(term.value)

    def label(self, term, lang: str = "en") -> str:
        for lit in self.g.values(term, RDFS + "label"):
            if isinstance(lit, ox.Literal) and lit.language == lang:
                return lit.value
        return ""

    def expression(self, node, depth: int = 0) -> str:
        """An anonymous class in words: unions, intersections, complements, restrictions."""
        if not isinstance(node, ox.BlankNode):
            return self.ref(node)
        if depth > 8:
            return "…"
        sub = lambda n: self.expression(n, depth + 1)  # noqa: E731
        for pred, word in ((OWL + "unionOf", " or "), (OWL + "intersectionOf", " and ")):
            head = self.g.one(node, pred)
            if head is not None:
                return "(" + f" <em>{word.strip()}</em> ".join(sub(m) for m in self.g.items(head)) + ")"
        head = self.g.one(node, OWL + "oneOf")
        if head is not None:
            return "{" + ", ".join(sub(m) for m in self.g.items(head)) + "}"
        comp = self.g.one(node, OWL + "complementOf")
        if comp is not None:
            return f"<em>not</em> {sub(comp)}"
        prop = self.g.one(node, OWL + "onProperty")
        if prop is not None:
            for pred, word in ((OWL + "someValuesFrom", "some"), (OWL + "allValuesFrom", "only"),
                               (OWL + "hasValue", "value")):
                value = self.g.one(node, pred)
                if value is not None:
                    return f"({sub(prop)} <em>{word}</em> {sub(value)})"
            for pred, word in ((OWL + "minQualifiedCardinality", "min"),
                               (OWL + "maxQualifiedCardinality", "max"),
                               (OWL + "qualifiedCardinality", "exactly"), (OWL + "minCardinality", "min"),
                               (OWL + "maxCardinality", "max"), (OWL + "cardinality", "exactly")):
                value = self.g.one(node, pred)
                if value is not None:
                    of = self.g.one(node, OWL + "onClass") or self.g.one(node, OWL + "onDataRange")
                    return (f"({sub(prop)} <em>{word}</em> {_e(value.value)}"
                            + (f" {sub(of)}" if of is not None else "") + ")")
        return "<em>an anonymous class</em>"

    def refs(self, terms) -> str:
        return ", ".join(self.ref(t) for t in terms)

    def texts(self, term, predicate: str) -> dict[str, list[str]]:
        by_lang: dict[str, list[str]] = {}
        for lit in self.g.values(term, predicate):
            if isinstance(lit, ox.Literal):
                by_lang.setdefault(lit.language or "", []).append(lit.value)
        return by_lang

    # -- the entries

    def text_table(self, term) -> str:
        rows = [("label", RDFS + "label"), ("definition", SKOS + "definition"),
                ("comment", RDFS + "comment")]
        found = {name: self.texts(term, pred) for name, pred in rows}
        langs = sorted({lang for texts in found.values() for lang in texts},
                       key=lambda lang: (_LANG_ORDER.get(lang, 9), lang))
        if not langs:
            return ""
        head = "".join(f"<th>{_e(lang) or '—'}</th>" for lang in langs)
        body = []
        for name, _ in rows:
            if not found[name]:
                continue
            cells = "".join(
                f'<td lang="{_e(lang)}">' + "<br>".join(_e(v) for v in found[name].get(lang, []))
                + "</td>" if lang else
                "<td>" + "<br>".join(_e(v) for v in found[name].get(lang, [])) + "</td>"
                for lang in langs)
            body.append(f'<tr><th scope="row">{name}</th>{cells}</tr>')
        return f'<table class="texts"><tr><th></th>{head}</tr>{"".join(body)}</table>'

    def fields(self, term) -> list[tuple[str, str]]:
        g = self.g
        out: list[tuple[str, str]] = []

        def add(name: str, terms) -> None:
            terms = _sorted(terms)
            if terms:
                out.append((name, self.refs(terms)))

        types = g.values(term, _TYPE)
        is_class = any(t.value in (OWL + "Class", RDFS + "Class") for t in types)
        if is_class:
            add("Subclass of", g.values(term, RDFS + "subClassOf"))
            add("Superclass of", g.subjects(RDFS + "subClassOf", term))
            add("Equivalent to", g.values(term, OWL + "equivalentClass")
                + g.subjects(OWL + "equivalentClass", term))
            disjoint = g.values(term, OWL + "disjointWith") + g.subjects(OWL + "disjointWith", term)
            for group in g.subjects(_TYPE, ox.NamedNode(OWL + "AllDisjointClasses")):
                members = [m for head in g.values(group, OWL + "members") for m in g.items(head)]
                if term in members:
                    disjoint += [m for m in members if m != term]
            add("Disjoint with", disjoint)
            add("In the domain of", self._uses(term, RDFS + "domain"))
            add("In the range of", self._uses(term, RDFS + "range"))
        else:
            characteristics = sorted(_CHARACTERISTICS[t.value] for t in types
                                     if t.value in _CHARACTERISTICS)
            if characteristics:
                out.append(("Characteristics", _e(", ".join(characteristics))))
            add("Domain", g.values(term, RDFS + "domain"))
            add("Range", g.values(term, RDFS + "range"))
            add("Subproperty of", g.values(term, RDFS + "subPropertyOf"))
            add("Superproperty of", g.subjects(RDFS + "subPropertyOf", term))
            add("Inverse of", g.values(term, OWL + "inverseOf") + g.subjects(OWL + "inverseOf", term))
            add("Equivalent to", g.values(term, OWL + "equivalentProperty")
                + g.subjects(OWL + "equivalentProperty", term))
        add("Defined by", g.values(term, RDFS + "isDefinedBy"))
        for pred, values in sorted(g.out.get(term, {}).items(), key=lambda kv: _short(kv[0])):
            if pred not in _SHOWN:
                out.append((f"<code>{_e(self.curie(pred))}</code>", self.refs(_sorted(values))))
        shapes = self.shapes_html(term, is_class)
        if shapes:
            out.append(("SHACL", shapes))
        return out

    def _uses(self, cls, predicate: str) -> list:
        """Properties whose domain (or range) is the class, or a union naming it."""
        found = []
        for prop, preds in self.g.out.items():
            for value in preds.get(predicate, []):
                if value == cls or (isinstance(value, ox.BlankNode) and cls in [
                        m for head in self.g.values(value, OWL + "unionOf") for m in self.g.items(head)]):
                    found.append(prop)
        return [p for p in found if isinstance(p, ox.NamedNode)]

    def shapes_html(self, term, is_class: bool) -> str:
        sh = self.sh
        if is_class:
            nodes = sh.subjects(SH + "targetClass", term)
            return "".join(self.shape_html(n) for n in nodes)
        nodes = sh.subjects(SH + "targetSubjectsOf", term) + sh.subjects(SH + "targetObjectsOf", term)
        owners = []
        for prop_shape in sh.subjects(SH + "path", term):
            owners += sh.subjects(SH + "property", prop_shape)
        names = _sorted(nodes + owners)
        if not names:
            return ""
        return "checked by " + ", ".join(f"<code>{_e(self.curie(n.value))}</code>" if isinstance(
            n, ox.NamedNode) else "an anonymous shape" for n in names)

    def shape_html(self, node) -> str:
        sh = self.sh
        name = (f"<code>{_e(self.curie(node.value))}</code>" if isinstance(node, ox.NamedNode)
                else "an anonymous shape")
        comments = [c for c in sh.values(node, RDFS + "comment") if isinstance(c, ox.Literal)]
        about = "".join(f" — {self.literal(c)}" for c in comments if c.language in ("en", None, ""))
        rows = []
        for prop_shape in sh.values(node, SH + "property"):
            path = sh.one(prop_shape, SH + "path")
            if path is None:
                continue
            low = sh.one(prop_shape, SH + "minCount")
            high = sh.one(prop_shape, SH + "maxCount")
            count = ""
            if low is not None or high is not None:
                count = f"{low.value if low is not None else 0}..{high.value if high is not None else '*'}"
            value = [self.ref(v) for pred in (SH + "datatype", SH + "class", SH + "nodeKind")
                     for v in sh.values(prop_shape, pred)]
            severity = sh.one(prop_shape, SH + "severity") or sh.one(node, SH + "severity")
            labels = [lab for lab in sh.values(prop_shape, RDFS + "label")
                      if isinstance(lab, ox.Literal) and lab.language in ("en", None, "")]
            rows.append("<tr><td>" + (self.ref(path) if isinstance(path, ox.NamedNode)
                                       else "<em>a property path</em>")
                        + f"</td><td>{_e(count)}</td><td>{', '.join(value)}</td>"
                        + f"<td>{_e(severity.value.rsplit('#', 1)[-1]) if severity else ''}</td>"
                        + f"<td>{self.literal(labels[0]) if labels else ''}</td></tr>")
        table = ("" if not rows else '<table class="shape"><tr><th>path</th><th>count</th>'
                 "<th>values</th><th>severity</th><th>checks</th></tr>" + "".join(rows) + "</table>")
        return f'<div class="shape-block"><p>{name}{about}</p>{table}</div>'

    def entry(self, term) -> str:
        anchor = self.terms[term]
        en, ru = self.label(term, "en"), self.label(term, "ru")
        heading = f"<code>{_e(self.curie(term.value))}</code>"
        if en:
            heading += f" {_e(en)}"
        if ru:
            heading += f' <span class="ru" lang="ru">/ {_e(ru)}</span>'
        reused = "" if term.value.startswith(UNTOC) else ' <span class="tag">reused</span>'
        rows = [("IRI", f'<a href="{_e(term.value)}"><code>{_e(term.value)}</code></a>'
                 if term.value.startswith(("http://", "https://")) else f"<code>{_e(term.value)}</code>")]
        rows += self.fields(term)
        dl = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)
        return (f'<article class="term" id="{_e(anchor)}"><h3>{heading}{reused}</h3>'
                f"{self.text_table(term)}<dl>{dl}</dl></article>")

    # -- the whole document

    def header(self) -> tuple[str, str]:
        onto = ox.NamedNode(ONTOLOGY_IRI)
        titles = self.texts(onto, DCT + "title") or self.texts(onto, RDFS + "label")
        title = (titles.get("en") or next(iter(titles.values()), None) or [ONTOLOGY_IRI])[0]
        out = [f"<h1>{_e(title)}</h1>"]
        out += [f'<p class="ru" lang="{_e(lang)}">{_e(t)}</p>'
                for lang, texts in sorted(titles.items()) if lang != "en" for t in texts]
        rows = [("IRI", f'<a href="{_e(ONTOLOGY_IRI)}"><code>{_e(ONTOLOGY_IRI)}</code></a>')]
        preds = self.g.out.get(onto, {})
        order = _HEADER_FIRST + sorted((p for p in preds if p not in _HEADER_FIRST), key=_short)
        for pred in order:
            if pred in preds and pred not in (_TYPE, DCT + "title", DCT + "description"):
                name = self.label(ox.NamedNode(pred)) or self.curie(pred)
                rows.append((_e(name), self.refs(_sorted(preds[pred]))))
        rows.append(("Formats", " · ".join(
            f'<a href="{name}">{label}</a>' for label, name in (
                ("Turtle", FORMAT_FILES["turtle"]), ("JSON-LD", FORMAT_FILES["jsonld"]),
                ("N-Triples", FORMAT_FILES["ntriples"]), ("RDF/XML", FORMAT_FILES["xml"])))))
        out.append('<dl class="meta">' + "".join(f"<dt>{n}</dt><dd>{v}</dd>" for n, v in rows) + "</dl>")
        for lang, texts in sorted(self.texts(onto, DCT + "description").items(),
                                  key=lambda kv: (_LANG_ORDER.get(kv[0], 9), kv[0])):
            for text in texts:
                for para in text.split("\n\n"):
                    attr = f' lang="{_e(lang)}"' if lang else ""
                    out.append(f'<p class="description"{attr}>{_e(" ".join(para.split()))}</p>')
        return title, "\n".join(out)

    def render(self) -> str:
        title, header = self.header()
        toc, body = [], []
        for anchor, en, ru, members in self.sections:
            toc.append(f'<li><a href="#{anchor}">{en}</a> <span lang="ru">/ {ru}</span> '
                       f"({len(members)})<ul class=\"terms\">"
                       + "".join(f"<li>{self.ref(t)}</li>" for t in members) + "</ul></li>")
            body.append(f'<section id="{anchor}"><h2>{en} <span class="ru" lang="ru">/ {ru}</span>'
                        "</h2>" + "\n".join(self.entry(t) for t in members) + "</section>")
        prefixes = "".join(f"<tr><td><code>{_e(p)}:</code></td><td><code>{_e(_PREFIXES[p])}</code></td></tr>"
                           for p in sorted(self.prefixes_used))
        body.append('<section id="prefixes"><h2>Prefixes <span class="ru" lang="ru">/ Префиксы</span>'
                    f'</h2><table class="prefixes">{prefixes}</table></section>')
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title>"
            + "".join(f'<link rel="alternate" type="{mime}" href="{FORMAT_FILES[fmt]}">'
                      for fmt, mime in (("turtle", "text/turtle"), ("jsonld", "application/ld+json"),
                                        ("ntriples", "application/n-triples"),
                                        ("xml", "application/rdf+xml")))
            + f"<style>{_CSS}</style></head><body>\n<header>{header}</header>\n"
            f'<nav><h2>Contents <span class="ru" lang="ru">/ Содержание</span></h2><ul>{"".join(toc)}'
            '<li><a href="#prefixes">Prefixes</a></li></ul></nav>\n<main>'
            + "\n".join(body)
            + f"</main>\n<footer>Generated by untoc-kg {_e(__version__)} from the ontology and its "
            "SHACL shapes.</footer>\n</body></html>\n")


_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:70em;margin:auto;padding:1em;line-height:1.4;"
    "color:#222}code{font-size:.95em}a{color:#1a5fb4}.ru{color:#555}"
    "h3{margin:0 0 .4em;font-size:1.1em}.tag{font-size:.7em;background:#eee;padding:0 .4em;"
    "border-radius:.3em;vertical-align:middle}"
    "article.term{border-top:1px solid #ccc;padding:.8em 0}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;margin:.4em 0}"
    "dt{font-weight:600}dd{margin:0}table{border-collapse:collapse;margin:.3em 0}"
    "td,th{border:1px solid #ddd;padding:.2em .5em;text-align:left;vertical-align:top}"
    "table.texts{width:100%}table.texts td{width:45%}"
    "nav ul.terms{columns:4 12em;font-size:.9em;padding-left:1em}"
    "footer{margin-top:2em;color:#666;font-size:.9em}"
)


def ontology_page(ontology: bytes, shapes: bytes = b"", *, ontology_path: str | os.PathLike = "untoc.ttl",
                  shapes_path: str | os.PathLike = "untoc-shapes.ttl") -> str:
    """The HTML documentation of an ontology given as Turtle (with its SHACL shapes, if any)."""
    onto = _Index.of(_parse(ontology, Path(ontology_path)))
    sh = _Index.of(_parse(shapes, Path(shapes_path))) if shapes else _Index()
    return _Page(onto, sh).render()


# --- the site -----------------------------------------------------------------------------------

_cache: dict[str, dict[str, bytes]] = {}
_cache_lock = threading.Lock()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), path=str(path)) from None


def docs_files(source: GraphSource | None = None) -> dict[str, bytes]:
    """The site's files (name -> bytes; see FORMAT_FILES and MARKER).

    Built once per content of the ontology, shapes and JSON-LD context files and kept in memory, so
    a server answering many requests reads and hashes the files but generates nothing again.
    """
    from .export import load_context, serialize

    source = source or GraphSource.default()
    context_file = Path(source.ontology_file).with_name("context.jsonld")
    ontology, shapes = _read(source.ontology_file), _read(source.shapes_file)
    digest = hashlib.sha256()
    for part in (__version__.encode(), ontology, shapes, _read(context_file)):
        digest.update(hashlib.sha256(part).digest())
    key = digest.hexdigest()
    with _cache_lock:
        if key in _cache:
            return dict(_cache[key])
    page = ontology_page(ontology, shapes, ontology_path=source.ontology_file,
                         shapes_path=source.shapes_file)
    quads = [ox.Quad(t.subject, t.predicate, t.object)
             for t in _parse(ontology, Path(source.ontology_file))]
    files = {FORMAT_FILES["html"]: page.encode("utf-8"),
             # the file as written, comments and layout included: it is the source of the others
             FORMAT_FILES["turtle"]: ontology,
             FORMAT_FILES["jsonld"]: serialize(quads, "jsonld", context=load_context(source)),
             FORMAT_FILES["ntriples"]: serialize(quads, "ntriples"),
             FORMAT_FILES["xml"]: serialize(quads, "xml"),
             MARKER: (f"untoc docs output (untoc-kg {__version__}); 'untoc docs -o' may replace "
                      "this directory whole\n").encode()}
    with _cache_lock:
        _cache.clear()  # one ontology at a time: an edited file replaces the old entry
        _cache[key] = files
    return dict(files)


def _previous_site(target: Path) -> bool:
    names = {p.name for p in target.iterdir()}
    return MARKER in names and names <= set(FORMAT_FILES.values()) | {MARKER}


def _fresh_dir(parent: Path, prefix: str) -> Path:
    """A new directory with the usual permissions (mkdtemp's are private; a site is to be read)."""
    for _ in range(100):
        path = parent / (prefix + os.urandom(4).hex())
        try:
            path.mkdir(0o777)  # less the umask
            return path
        except FileExistsError:
            continue
    raise FileExistsError(17, "cannot create a temporary directory", str(parent))


def write_docs(out_dir: str | os.PathLike, source: GraphSource | None = None) -> list[Path]:
    """Write the site into ``out_dir``, which must be new, empty, or an earlier output (it holds
    MARKER and nothing but the site's files); anything else is refused, so no one's files are lost.

    The site is written into a temporary sibling directory and renamed into place: a failure
    leaves the old directory (or none) as it was, never half a site.
    """
    shown = str(out_dir)
    target = Path(os.path.abspath(out_dir))  # "." and ".." have no name to rename
    if target.exists() and not target.is_dir():
        raise InputError("exists and is not a directory", path=shown)
    replace = False
    if target.is_dir():
        if Path.cwd() == target or target in Path.cwd().parents:
            # the site takes the directory's place: the shell would be left in a deleted one
            raise InputError("cannot replace the current directory: name another one", path=shown)
        try:
            if any(target.iterdir()):
                if not _previous_site(target):
                    raise InputError("the directory is not empty and is not an earlier 'untoc docs' "
                                     f"output (no {MARKER}, or other files in it): name a new or "
                                     "empty directory", path=shown)
                replace = True
        except OSError as exc:
            raise InputError(exc.strerror or str(exc), path=shown) from None
    files = docs_files(source)
    parent = target.parent
    tmp = old = None
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = _fresh_dir(parent, f".{target.name}-")
        for name, data in sorted(files.items()):
            (tmp / name).write_bytes(data)
        if replace:
            old = _fresh_dir(parent, f".{target.name}-old-")
            os.replace(target, old / "site")
            try:
                os.replace(tmp, target)
            except OSError:
                os.replace(old / "site", target)  # put the earlier site back
                raise
        else:
            os.replace(tmp, target)  # rename(2) may replace an empty directory
        tmp = None
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), path=str(exc.filename or shown)) from None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return [Path(out_dir) / name for name in sorted(files)]
