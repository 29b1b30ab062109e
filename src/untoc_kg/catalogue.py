"""The catalogue of saved queries: ``queries/*.rq`` files and their documented headers.

A saved query starts with a comment header and stays valid SPARQL::

    # summary: Meetings of a body, in order, with dates and places.
    # description: Lists each meeting of the body with its ordinal, dates and place
    #   where the paper gives them.
    # param: body (iri, default body:wg-international-cooperation): The body whose meetings to list.
    # param: year (year, optional): Only meetings held in this year. Example: 2012
    # example: untoc query meetings-of-body -p year 2012

Parameters are SPARQL variables of the same name. Their values are checked against the declared
type and bound as RDF terms (never pasted into the query text); an optional parameter left out stays
unbound. Types: ``iri`` (full IRI or CURIE), ``integer``, ``date`` (YYYY-MM-DD), ``year`` (YYYY),
``string``, ``lang`` (a language tag such as ``en``).
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .errors import InputError, ParameterError, UnknownQueryError
from .namespaces import PREFIXES

__all__ = ["Param", "SavedQuery", "Catalogue", "PARAM_TYPES", "parse_header", "to_term", "expand_iri"]

XSD = "http://www.w3.org/2001/XMLSchema#"

_KEY = re.compile(r"^#\s*(summary|description|param|example|source)\s*:\s*(.*)$")
_CONT = re.compile(r"^#\s{2,}(\S.*)$")
_PARAM = re.compile(
    r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*\((?P<spec>[^)]*)\)\s*:?\s*(?P<desc>.*)$")
_EXAMPLE = re.compile(r"\s*Example:\s*(?P<ex>\S.*?)\s*$")
_LANG = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")
_IRI_BAD = re.compile(r'[\s<>"{}|\\^`]')
# Schemes accepted for IRIs written without "//"; anything else of the form x:y is a CURIE.
_SCHEMES = {"http", "https", "urn", "mailto", "tag", "file"}
_CURIE = re.compile(r"^(?P<prefix>[A-Za-z][\w.-]*)?:(?P<local>\S*)$")


def expand_iri(value: str) -> str:
    """A full IRI from ``<iri>``, an absolute IRI or a CURIE with one of the project's prefixes."""
    text = value.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    m = _CURIE.match(text)
    scheme = text.split(":", 1)[0].lower() if ":" in text else ""
    if m and m.group("prefix") in PREFIXES and scheme not in _SCHEMES:
        text = PREFIXES[m.group("prefix")] + m.group("local")
    elif scheme not in _SCHEMES and "://" not in text:
        known = ", ".join(sorted(PREFIXES))
        raise ValueError(f"{value!r} is neither an absolute IRI nor a CURIE with a known prefix ({known})")
    if _IRI_BAD.search(text):
        raise ValueError(f"{value!r} contains characters not allowed in an IRI")
    return text


def _integer(value: str) -> ox.Literal:
    if not re.fullmatch(r"[+-]?\d{1,18}", value.strip()):
        raise ValueError(f"{value!r} is not an integer")
    return ox.Literal(str(int(value)), datatype=ox.NamedNode(XSD + "integer"))


def _date(value: str) -> ox.Literal:
    try:
        day = _dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a date of the form YYYY-MM-DD") from None
    return ox.Literal(day.isoformat(), datatype=ox.NamedNode(XSD + "date"))


def _year(value: str) -> ox.Literal:
    if not re.fullmatch(r"\d{4}", value.strip()):
        raise ValueError(f"{value!r} is not a year of the form YYYY")
    return ox.Literal(value.strip(), datatype=ox.NamedNode(XSD + "gYear"))


def _lang(value: str) -> ox.Literal:
    if not _LANG.match(value.strip()):
        raise ValueError(f"{value!r} is not a language tag such as en or ru")
    return ox.Literal(value.strip().lower())


PARAM_TYPES = {
    "iri": lambda v: ox.NamedNode(expand_iri(v)),
    "integer": _integer,
    "date": _date,
    "year": _year,
    "string": lambda v: ox.Literal(v),
    "lang": _lang,
}


def to_term(type_: str, value: str):
    """Check ``value`` against ``type_`` and return the pyoxigraph term; ValueError if it fails."""
    return PARAM_TYPES[type_](value)


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    optional: bool = False
    default: str | None = None
    description: str = ""
    example: str | None = None

    @property
    def required(self) -> bool:
        return not self.optional and self.default is None


@dataclass(frozen=True)
class SavedQuery:
    name: str
    path: Path | None
    text: str
    summary: str = ""
    description: str = ""
    params: tuple[Param, ...] = ()
    examples: tuple[str, ...] = ()
    source: str = ""
    kind: str = field(default="SELECT")

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def bindings(self, values: dict[str, str] | None = None) -> dict[str, object]:
        """Check the given values against the declared parameters; return name → RDF term."""
        values = dict(values or {})
        unknown = [n for n in values if self.param(n) is None]
        if unknown:
            declared = ", ".join(p.name for p in self.params) or "none"
            raise ParameterError(
                f"query {self.name!r} has no parameter {unknown[0]!r} (its parameters: {declared})")
        out: dict[str, object] = {}
        for p in self.params:
            raw = values.get(p.name, p.default)
            if raw is None:
                if p.required:
                    hint = f", e.g. -p {p.name} {p.example}" if p.example else ""
                    raise ParameterError(
                        f"query {self.name!r} needs parameter {p.name!r} ({p.type}){hint}")
                continue
            try:
                out[p.name] = to_term(p.type, raw)
            except ValueError as exc:
                raise ParameterError(f"parameter {p.name!r} of {self.name!r}: {exc}") from None
        return out


def parse_header(text: str) -> dict:
    """The documented header of a saved query as a dict (summary, description, params, ...)."""
    fields: dict[str, list[str]] = {"summary": [], "description": [], "param": [], "example": [],
                                    "source": []}
    last: tuple[str, int] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("#"):
            break
        m = _KEY.match(stripped)
        if m:
            fields[m.group(1)].append(m.group(2).strip())
            last = (m.group(1), len(fields[m.group(1)]) - 1)
            continue
        c = _CONT.match(line.rstrip())
        if c and last:
            key, i = last
            fields[key][i] = (fields[key][i] + " " + c.group(1).strip()).strip()
    return fields


def _parse_param(spec_line: str, where: str) -> Param:
    m = _PARAM.match(spec_line)
    if not m:
        raise InputError(f"malformed param line {spec_line!r}; expected 'name (type[, optional]"
                         f"[, default VALUE]): description'", path=where)
    parts = [s.strip() for s in m.group("spec").split(",") if s.strip()]
    type_ = parts[0] if parts else ""
    if type_ not in PARAM_TYPES:
        raise InputError(f"param {m.group('name')!r} has unknown type {type_!r} "
                         f"(known: {', '.join(PARAM_TYPES)})", path=where)
    optional, default = False, None
    for extra in parts[1:]:
        if extra == "optional":
            optional = True
        elif extra.startswith("default "):
            default = extra[len("default "):].strip()
        else:
            raise InputError(f"param {m.group('name')!r}: unknown option {extra!r}", path=where)
    desc, example = m.group("desc").strip(), None
    ex = _EXAMPLE.search(desc)
    if ex:
        example = ex.group("ex").rstrip(".")
        desc = desc[: ex.start()].strip()
    if default is not None:
        try:
            to_term(type_, default)
        except ValueError as exc:
            raise InputError(f"param {m.group('name')!r}: bad default: {exc}", path=where) from None
    return Param(m.group("name"), type_, optional, default, desc, example)


_FORM = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)


def _strip_comments(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] if not line.lstrip().startswith(("PREFIX", "prefix"))
                     else "" for line in text.splitlines())


def load_query(path: Path) -> SavedQuery:
    """Read one ``.rq`` file and its header."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(getattr(exc, "strerror", None) or str(exc), path=str(path)) from None
    header = parse_header(text)
    params = tuple(_parse_param(p, str(path)) for p in header["param"])
    form = _FORM.search(_strip_comments(text))
    return SavedQuery(
        name=path.stem,
        path=path,
        text=text,
        summary=" ".join(header["summary"]),
        description=" ".join(header["description"]),
        params=params,
        examples=tuple(header["example"]),
        source=" ".join(header["source"]),
        kind=form.group(1).upper() if form else "SELECT",
    )


class Catalogue:
    """The saved queries of a directory, by name (the file's stem)."""

    def __init__(self, queries: dict[str, SavedQuery]):
        self._queries = dict(sorted(queries.items()))

    @classmethod
    def from_dir(cls, directory: Path) -> "Catalogue":
        return cls({p.stem: load_query(p) for p in sorted(Path(directory).glob("*.rq"))})

    def __iter__(self):
        return iter(self._queries.values())

    def __len__(self) -> int:
        return len(self._queries)

    def __contains__(self, name: str) -> bool:
        return name in self._queries

    def names(self) -> list[str]:
        return list(self._queries)

    def get(self, name: str) -> SavedQuery:
        try:
            return self._queries[name]
        except KeyError:
            import difflib

            close = difflib.get_close_matches(name, self.names(), n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else "; 'untoc queries' lists them"
            raise UnknownQueryError(f"no saved query named {name!r}{hint}") from None
