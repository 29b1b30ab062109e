"""JSON-LD compacted with the project's context, written one node object at a time.

rdflib's writer held the whole graph as Python objects (a minute and 2.7 GiB at a million triples,
out of memory at ten million). Here the triples of one subject become one node object, written as
soon as the next subject starts, so memory is bounded by the largest node; the export's lines come
sorted, so each subject is written once (were they not, JSON-LD merges node objects that share an
``@id``, and the graph read back would be the same).

Compaction uses the kinds of term definition ``export.build_context`` makes: prefixes, aliases of
``@id`` and ``@type``, and terms for one property with ``"@type": "@id"``, ``"@type": DATATYPE`` or
``"@container": "@language"`` (other terms are left unused, and a default language is allowed for). A value a term's coercion turns into itself is written as a plain
string (a language map for language-tagged strings); any other value of that property is written
in full (``{"@value": ..., "@type": ...}``, ``{"id": ...}``) under a term that takes every value,
else under the property's compact IRI. Nothing is written as a JSON number or boolean, so lexical
forms come back exactly as they were.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import BinaryIO

import pyoxigraph as ox

from .errors import UntocError

__all__ = ["write_jsonld"]

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_GEN_DELIMS = tuple(":/?#[]@")


class _Context:
    """What a context lets a writer shorten: prefixes, aliases and the terms of each property."""

    def __init__(self, context: dict):
        ctx = context.get("@context") or {}
        if not isinstance(ctx, dict):
            ctx = {}
        self.names = set(ctx)
        # a default language (or direction) would be given to every plain string
        self.plain_strings = "@language" not in ctx and "@direction" not in ctx
        aliases = {v: k for k, v in sorted(ctx.items(), reverse=True) if v in ("@id", "@type")}
        self.id = aliases.get("@id", "@id")
        self.type = aliases.get("@type", "@type")
        # longest namespace first, so that the most specific prefix wins
        self._prefixes = sorted(((name, ns) for name, ns in ctx.items()
                                 if isinstance(ns, str) and not ns.startswith("@")
                                 and ns.endswith(_GEN_DELIMS) and ":" not in name),
                                key=lambda kv: (-len(kv[1]), kv[0]))
        self._namespaces = dict(self._prefixes)
        self.iri_term: dict[str, str] = {}  # property -> term whose string values are IRIs
        self.typed_term: dict[tuple[str, str], str] = {}  # (property, datatype) -> term
        self.plain_term: dict[str, str] = {}  # property -> term whose strings are xsd:string
        self.lang_term: dict[str, str] = {}  # property -> language-map term
        self.any_term: dict[str, str] = {}  # property -> a term that takes any value written out
        for name, d in sorted(ctx.items()):
            if (not isinstance(d, dict) or not isinstance(d.get("@id"), str) or name.startswith("@")
                    or ":" in name or set(d) - {"@id", "@type", "@container"}):
                continue
            prop, kind, container = self._expand(d["@id"]), d.get("@type"), d.get("@container")
            if container == "@language" and kind is None:
                self.lang_term.setdefault(prop, name)
                continue
            # "@vocab" and "@json" coerce what is written out too: such terms are not used
            if container is not None or (kind is not None and (
                    not isinstance(kind, str) or kind.startswith("@") and kind != "@id")):
                continue
            self.any_term.setdefault(prop, name)
            if kind is None:
                if self.plain_strings:
                    self.plain_term.setdefault(prop, name)
            elif kind == "@id":
                self.iri_term.setdefault(prop, name)
            else:
                self.typed_term.setdefault((prop, self._expand(kind)), name)

    def _expand(self, value: str) -> str:
        prefix, sep, local = value.partition(":")
        ns = self._namespaces.get(prefix) if sep and not local.startswith("//") else None
        return value if ns is None else ns + local

    def compact(self, term) -> str:
        """An IRI or blank node as the context lets it be written (a key, an id, a type)."""
        if isinstance(term, ox.BlankNode):
            return "_:" + term.value
        iri = term.value
        for name, ns in self._prefixes:
            local = iri[len(ns):]
            if iri.startswith(ns) and local and not local.startswith("//"):
                return f"{name}:{local}"
        scheme = iri.partition(":")[0]
        if scheme in self.names:
            # it would be read back as a compact IRI with that prefix: a different IRI
            raise UntocError(f"cannot write <{iri}> in JSON-LD with this context: '{scheme}' is a "
                             f"term of the context; export another format")
        return iri


def _node(subject, pairs: list[tuple], ctx: _Context) -> dict:
    """The node object of one subject from its (predicate, object) pairs."""
    node: dict = {ctx.id: ctx.compact(subject)}

    def put(key: str, value) -> None:
        node.setdefault(key, []).append(value)

    for predicate, obj in pairs:
        p = predicate.value
        if isinstance(obj, (ox.NamedNode, ox.BlankNode)):
            if p == RDF_TYPE:
                put(ctx.type, ctx.compact(obj))
            elif p in ctx.iri_term:
                put(ctx.iri_term[p], ctx.compact(obj))
            else:
                put(ctx.any_term.get(p) or ctx.compact(predicate), {ctx.id: ctx.compact(obj)})
            continue
        if obj.language:
            if p in ctx.lang_term:
                node.setdefault(ctx.lang_term[p], {}).setdefault(obj.language, []).append(obj.value)
            else:
                put(ctx.any_term.get(p) or ctx.compact(predicate),
                    {"@value": obj.value, "@language": obj.language})
            continue
        datatype = obj.datatype.value
        if (p, datatype) in ctx.typed_term:
            put(ctx.typed_term[p, datatype], obj.value)
        elif datatype == XSD_STRING and p in ctx.plain_term:
            put(ctx.plain_term[p], obj.value)
        elif datatype == XSD_STRING and p not in ctx.any_term and ctx.plain_strings:
            put(ctx.compact(predicate), obj.value)  # a compact IRI coerces nothing
        else:
            value = {"@value": obj.value}
            if datatype != XSD_STRING:
                value[ctx.type] = ctx.compact(obj.datatype)
            put(ctx.any_term.get(p) or ctx.compact(predicate), value)
    for key, values in node.items():
        if isinstance(values, list) and len(values) == 1:
            node[key] = values[0]
        elif isinstance(values, dict):
            node[key] = {lang: v[0] if len(v) == 1 else v for lang, v in values.items()}
    return node


def write_jsonld(triples: Iterable[ox.Triple], context: dict, out: BinaryIO) -> None:
    """Write ``triples`` (best sorted by subject) to ``out`` as one JSON-LD document: the
    ``context`` (``{"@context": {...}}``) and a ``@graph`` of one node object per line."""
    ctx = _Context(context)
    out.write(b'{\n "@context": ')
    out.write(json.dumps(context.get("@context") or {}, indent=1, sort_keys=True,
                         ensure_ascii=False).replace("\n", "\n ").encode("utf-8"))
    out.write(b',\n "@graph": [')
    first = True
    subject, pairs = None, []

    def flush() -> None:
        nonlocal first
        line = json.dumps(_node(subject, pairs, ctx), sort_keys=True, ensure_ascii=False)
        out.write((b"\n  " if first else b",\n  ") + line.encode("utf-8"))
        first = False

    for t in triples:
        if t.subject != subject:
            if pairs:
                flush()
            subject, pairs = t.subject, []
        pairs.append((t.predicate, t.object))
    if pairs:
        flush()
    out.write(b"\n ]\n}\n" if not first else b"]\n}\n")
