"""A deterministic Turtle writer, so data files diff cleanly.

The same set of triples always gives the same bytes: prefixes in the project's fixed order (only
those used), subjects sorted by their written form, ``a`` first and labels next, objects sorted,
blank nodes used once written inline. A reified statement (``[] a rdf:Statement``) is written right
after the block of the entity it describes.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict

import pyoxigraph as ox

from .namespaces import PREFIXES

__all__ = ["write_turtle", "term_to_turtle"]

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = RDF + "type"
RDF_SUBJECT = RDF + "subject"
_FIRST = [RDF_TYPE, RDF_SUBJECT, RDF + "predicate", RDF + "object", "http://www.w3.org/2000/01/rdf-schema#label",
          "http://www.w3.org/2004/02/skos/core#prefLabel",
          "http://www.w3.org/2004/02/skos/core#altLabel"]
_LOCAL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?$")
_BARE = {XSD + "integer": re.compile(r"^[+-]?\d+$"), XSD + "boolean": re.compile(r"^(true|false)$")}


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            .replace("\r", "\\r").replace("\t", "\\t"))


class _Names:
    def __init__(self, prefixes: dict[str, str]):
        # Longest namespace first, so body: wins over a shorter prefix of it.
        self._ordered = sorted(prefixes.items(), key=lambda kv: -len(kv[1]))
        self.used: set[str] = set()
        self._written: dict[str, str] = {}  # predicates and classes come back again and again

    def iri(self, iri: str) -> str:
        written = self._written.get(iri)
        if written is None:
            written = self._written[iri] = self._compact(iri)
        return written

    def _compact(self, iri: str) -> str:
        for prefix, ns in self._ordered:
            if iri.startswith(ns) and _LOCAL.match(iri[len(ns):]):
                self.used.add(prefix)
                return f"{prefix}:{iri[len(ns):]}"
        return f"<{iri}>"


def term_to_turtle(term, names: _Names | None = None) -> str:
    """One term in Turtle syntax (IRIs compacted when ``names`` is given)."""
    if isinstance(term, ox.NamedNode):
        return names.iri(term.value) if names else f"<{term.value}>"
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    text = f'"{_escape(term.value)}"'
    if term.language:
        return f"{text}@{term.language}"
    dt = term.datatype.value
    if dt == XSD + "string":
        return text
    if dt in _BARE and _BARE[dt].match(term.value):
        return term.value
    return f"{text}^^{names.iri(dt) if names else f'<{dt}>'}"


def _blank_shapes(by_subject, rounds: int = 4) -> dict[object, str]:
    """A content key per blank node: its triples both ways with other blank nodes replaced by their
    keys of the round before (colour refinement). Nodes left with equal keys are, for any graph
    this project writes, interchangeable, so their order cannot change the output."""
    edges: dict[object, list] = defaultdict(list)
    for s, preds in by_subject.items():
        for p, objs in preds.items():
            for o in objs:
                if isinstance(s, ox.BlankNode):
                    edges[s].append((">", p, o))
                if isinstance(o, ox.BlankNode):
                    edges[o].append(("<", p, s))
    key = {b: "" for b in edges}
    for _ in range(rounds):
        key = {b: hashlib.sha1(repr(sorted((d, p, key.get(t, "") if isinstance(t, ox.BlankNode)
                                            else str(t)) for d, p, t in es)).encode()).hexdigest()
               for b, es in edges.items()}
    return {b: "_:" + k for b, k in key.items()}


def write_turtle(triples, prefixes: dict[str, str] | None = None) -> str:
    """Serialize an iterable of pyoxigraph triples (or quads; graphs are ignored) as Turtle."""
    names = _Names(PREFIXES if prefixes is None else prefixes)
    by_subject: dict[object, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    refs: dict[object, int] = defaultdict(int)
    for t in set((t.subject, t.predicate, t.object) for t in triples):
        s, p, o = t
        by_subject[s][p.value].append(o)
        if isinstance(o, ox.BlankNode):
            refs[o] += 1

    shape = _blank_shapes(by_subject)
    inline = {b for b in by_subject if isinstance(b, ox.BlankNode) and refs.get(b) == 1}
    # A blank node referenced once is written inside its referrer, unless no written subject
    # reaches it (a cycle of such nodes): those get labels, or they would silently vanish.
    seen: set[object] = set()
    stack = [s for s in by_subject if s not in inline]
    while stack:
        for objs in by_subject[stack.pop()].values():
            for o in objs:
                if o in inline and o not in seen:
                    seen.add(o)
                    stack.append(o)
    inline &= seen
    labelled: dict[object, str] = {}
    rendering: set[object] = set()

    def obj(o, depth: int) -> str:
        if isinstance(o, ox.BlankNode):
            if o in inline and o not in rendering:
                return block(o, depth + 1, nested=True)
            return labelled.setdefault(o, f"_:b{len(labelled)}")
        return term_to_turtle(o, names)

    def pred_key(p: str):
        return (_FIRST.index(p), "") if p in _FIRST else (len(_FIRST), names.iri(p))

    def block(s, depth: int, nested: bool = False) -> str:
        rendering.add(s)
        pad = "    " * (depth + 1)
        parts = []
        for p in sorted(by_subject[s], key=pred_key):
            verb = "a" if p == RDF_TYPE else names.iri(p)
            # Labels are handed out as objects are met, so meet them in an order that depends on
            # content only (a blank node by its shape), never on the order triples came in.
            met = sorted(by_subject[s][p], key=lambda o: shape.get(o) or str(o))
            objs = sorted(obj(o, depth) for o in met)
            if len(objs) > 1 and all(isinstance(o, ox.Literal) for o in by_subject[s][p]):
                # One line per text value, predicate repeated: each label or title stays on a line
                # that names its property, and a changed translation is a one-line diff.
                parts.extend(f"{verb} {x}" for x in objs)
            elif len(objs) > 1 and (any("\n" in x for x in objs) or sum(map(len, objs)) > 80):
                parts.append(f"{verb} " + (" ,\n" + pad + "    ").join(objs))
            else:
                parts.append(f"{verb} " + " , ".join(objs))
        rendering.discard(s)
        body = (" ;\n" + pad).join(parts)
        if nested:
            return "[\n" + pad + body + "\n" + "    " * depth + "]"
        return body

    # Top-level anonymous nodes (reified statements) follow the entity they describe.
    attached: dict[object, list] = defaultdict(list)
    loose = []
    for s in by_subject:
        if isinstance(s, ox.BlankNode) and s not in inline and refs.get(s, 0) == 0:
            target = by_subject[s].get(RDF_SUBJECT, [None])[0]
            (attached[target] if target in by_subject and target is not None else loose).append(s)

    def anon(s) -> str:
        text = block(s, 0)
        if RDF + "Statement" in {o.value for o in by_subject[s].get(RDF_TYPE, [])}:
            # A reified statement on one line, so the triple it describes reads as a whole (and a
            # quoted title stays on the line that names dcterms:title).
            text = " ".join(line.strip() for line in text.splitlines())
        return "[] " + text + " .\n"

    chunks = []
    named = [s for s in by_subject if not isinstance(s, ox.BlankNode)]
    # Blank nodes referenced several times need labels: given up front, in content order, so that
    # labels never depend on the order the triples came in.
    others = sorted((s for s in by_subject if isinstance(s, ox.BlankNode) and s not in inline
                     and refs.get(s, 0) > 0),
                    key=lambda b: shape[b])
    for b in others:
        labelled.setdefault(b, f"_:b{len(labelled)}")
    is_named = set(named)  # a set: `in` on the list made this loop quadratic (37 s at 1M triples)
    for s in sorted(named, key=lambda x: term_to_turtle(x, names)) + others:
        text = term_to_turtle(s, names) if s in is_named else labelled.setdefault(s, f"_:b{len(labelled)}")
        chunk = text + " " + block(s, 0) + " .\n"
        chunk += "".join(sorted(anon(b) for b in sorted(attached.get(s, []), key=shape.get)))
        chunks.append(chunk)
    chunks += sorted(anon(b) for b in sorted(loose, key=shape.get))

    used = [p for p in (PREFIXES if prefixes is None else prefixes) if p in names.used]
    header = "".join(f"@prefix {p}: <{(PREFIXES if prefixes is None else prefixes)[p]}> .\n"
                     for p in used)
    return header + ("\n" if header else "") + "\n".join(chunks)
