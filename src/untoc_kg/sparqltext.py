"""SPARQL text for another server: checked RDF terms written as SPARQL, parameters bound into the
text, and the project's prefixes declared.

The SPARQL 1.1 Protocol has no parameter substitution, so ``bind_values`` writes each saved-query
parameter into the query where the local engine would substitute it, plus a ``BIND(term AS ?name)``
at the end of the WHERE group (and of every sub-SELECT that projects it, which is where pyoxigraph's
substitution reaches too). The terms are written by ``sparql_term`` from the already type-checked
RDF terms with strict N-Triples escaping, never from the user's text, so a parameter cannot change
the query.

The tokenizer here reads the text one way (a '<' that can close as an IRI is an IRI), which is
enough to find where parameters go. It is not the reading ``querying.check_local_only`` needs to
refuse SERVICE/FROM/LOAD, which follows every reading of '<'; the two are kept apart on purpose.
"""

from __future__ import annotations

import functools
import re

import pyoxigraph as ox

from .errors import RemoteError
from .namespaces import PREFIXES

__all__ = ["sparql_term", "query_form", "bind_values", "with_prefixes"]

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

# (pattern, flags), compiled on first use: a query without parameters never needs them. The
# variable-name class is written as a complement (the same characters as \u00C0-\uFFFF): the range
# took 2.4 ms to compile, paid by every `untoc query` with a parameter.
@functools.cache
def _compiled(spec: tuple[str, int]) -> re.Pattern:
    return re.compile(*spec)


_LANG_TAG = (r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$", 0)
_IRI_FORBIDDEN = set('<>"{}|^`\\')
_ECHAR = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def _iri(value: str) -> str:
    for ch in value:
        if ch in _IRI_FORBIDDEN or ord(ch) <= 0x20 or 0xD800 <= ord(ch) <= 0xDFFF:
            raise ValueError(f"{value!r} contains characters not allowed in an IRI")
    return f"<{value}>"


def _string(value: str) -> str:
    out = []
    for ch in value:
        code = ord(ch)
        if ch in _ECHAR:
            out.append(_ECHAR[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        elif 0xD800 <= code <= 0xDFFF:
            raise ValueError("the text is not valid Unicode")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def sparql_term(term) -> str:
    """An RDF term (pyoxigraph) in strict N-Triples syntax, which is also valid SPARQL.

    Backslashes and quotes are always escaped, and no ``\\u`` escape is written for a quote or a
    backslash, so even a server that expands escapes before parsing cannot be led out of the string.
    """
    if isinstance(term, ox.NamedNode):
        return _iri(term.value)
    if isinstance(term, ox.Literal):
        text = _string(term.value)
        if term.language:
            if not _compiled(_LANG_TAG).match(term.language):
                raise ValueError(f"{term.language!r} is not a language tag")
            return f"{text}@{term.language}"
        if term.datatype.value != XSD_STRING:
            return f"{text}^^{_iri(term.datatype.value)}"
        return text
    raise ValueError(f"cannot bind {type(term).__name__} terms in a remote query")


_TOKEN = (
    r"""(?P<skip>'''(?:'{0,2}(?:[^'\\]|\\.))*'''|\"\"\"(?:\"{0,2}(?:[^"\\]|\\.))*\"\"\"
        |'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"
        |<[^<>"{}|^`\\\x00-\x20]*>|\#[^\n]*)
      |(?P<var>[?$](?:[A-Za-z0-9_\u00B7]|[^\x00-\u00BF\U00010000-\U0010FFFF])+)
      |(?P<word>[A-Za-z_][\w.:-]*)
      |(?P<punct>[{}()*])""",
    re.DOTALL | re.VERBOSE)
_FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}


def _tokens(text: str):
    """(kind, text, position) of the significant tokens: strings, IRIs and comments are skipped."""
    for m in _compiled(_TOKEN).finditer(text):
        kind = m.lastgroup
        if kind == "skip":
            continue
        value = m.group(kind)
        if kind == "word":
            if ":" in value:  # a prefixed name, never a keyword
                continue
            value = value.upper()
        yield kind, value, m.start()


def query_form(text: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the form of the top-level query."""
    depth = 0
    for kind, value, _ in _tokens(text):
        if value == "{":
            depth += 1
        elif value == "}":
            depth -= 1
        elif kind == "word" and depth == 0 and value in _FORMS:
            return value
    return "SELECT"


def _projection(toks, j: int) -> tuple[set[str] | None, int]:
    """Variables a SELECT at ``toks[j - 1]`` projects (None for ``*``) and the index of its '{'."""
    projected: set[str] | None = set()
    parens = 0
    after_as = False
    while j < len(toks) and toks[j][1] != "{":
        k, v, _ = toks[j]
        if v == "(":
            parens += 1
        elif v == ")":
            parens -= 1
        elif v == "*" and parens == 0:
            projected = None
        elif k == "var" and projected is not None and (parens == 0 or after_as):
            projected.add(v[1:])
        after_as = k == "word" and v == "AS"
        j += 1
    return projected, j


def _substitutions(text: str, names: set[str]):
    """Where the parameters go: (edits, roots).

    ``edits`` are (start, end, name or None): the text of a parameter variable used in the WHERE
    clause, to be replaced by its term; None marks a whole ``BOUND(?name)``, which becomes ``true``.
    ``roots`` are (offset of a WHERE group's closing '}', the parameters it binds): the query's WHERE
    group binds them all, a sub-SELECT's those it projects (all for ``SELECT *``), so that they are
    projected, grouped, ordered and put into a CONSTRUCT template as locally; a group binds none
    that a sub-SELECT inside it projects already.

    A sub-SELECT that does not project a parameter is left alone, as pyoxigraph's substitution
    leaves it. Variables that are assigned (``AS ?name``), listed by VALUES, or used in a
    sub-SELECT's projection and solution modifiers are not replaced: there a constant is not
    allowed, and the parameter is bound there by the BIND at the end of the sub-SELECT's WHERE.
    """
    toks = list(_tokens(text))
    edits: list[tuple[int, int, str | None]] = []
    roots: list[tuple[int, set[str]]] = []
    # frames: the parameters substituted in a group (None = all), or False for braces that are not
    # groups; beside them whether the group is a WHERE (root) and whether a sub-SELECT's solution
    # modifiers have started in it
    stack: list[set[str] | None | bool] = []
    is_root: list[bool] = []
    modifiers: list[bool] = []
    covered: list[set[str]] = []  # parameters a sub-SELECT inside the group already projects
    form_seen = template_pending = values_pending = False
    pending_select: tuple[set[str] | None] | None = None
    i = 0
    while i < len(toks):
        kind, value, pos = toks[i]
        scope = stack[-1] if stack else None
        if value == "{":
            root = False
            if not stack and not form_seen:
                stack.append(False)  # not a query we understand; never touch it
            elif template_pending:
                template_pending = False
                stack.append(False)
            elif values_pending or scope is False:
                values_pending = False
                stack.append(False)
            else:
                allowed = None if not stack else scope
                root = not stack or pending_select is not None
                if pending_select is not None:
                    projected = pending_select[0]
                    pending_select = None
                    if projected is not None:
                        allowed = projected if allowed is None else (allowed & projected)
                stack.append(allowed)
            is_root.append(root)
            modifiers.append(False)
            covered.append(set())
        elif value == "}":
            if stack:
                allowed = stack.pop()
                modifiers.pop()
                inner = covered.pop()
                if is_root.pop():
                    # a second BIND of a variable a sub-SELECT projects would be a syntax error
                    bound = (set(names) if allowed is None else (names & allowed)) - inner
                    if bound:
                        roots.append((pos, bound))
                    inner |= bound
                if covered:
                    covered[-1] |= inner
        elif kind == "word":
            if not stack and value in _FORMS and not form_seen:
                form_seen = True
                if value == "CONSTRUCT":
                    template_pending = i + 1 < len(toks) and toks[i + 1][1] == "{"
                elif value == "SELECT":
                    _, j = _projection(toks, i + 1)
                    i = j
                    continue
            elif stack and stack[-1] is not False:
                if value == "VALUES":
                    values_pending = True
                elif value == "SELECT":
                    projected, j = _projection(toks, i + 1)
                    pending_select = (projected,)
                    i = j
                    continue
                elif value in ("GROUP", "ORDER", "HAVING", "LIMIT", "OFFSET"):
                    modifiers[-1] = True
        elif kind == "var":
            name = value[1:]
            allowed = scope
            if (name in names and stack and allowed is not False and not values_pending
                    and not modifiers[-1] and (allowed is None or name in allowed)
                    and not (i > 0 and toks[i - 1][1] == "AS")):
                if (i >= 2 and i + 1 < len(toks) and toks[i - 1][1] == "(" and toks[i - 2][1] == "BOUND"
                        and toks[i + 1][1] == ")"):
                    edits.append((toks[i - 2][2], toks[i + 1][2] + 1, None))
                else:
                    edits.append((pos, pos + len(value), name))
        i += 1
    return edits, roots


def bind_values(text: str, bindings: dict[str, object] | None) -> str:
    """The query with each parameter's term put where its variable is used in the WHERE clause,
    and bound by ``BIND(term AS ?name)`` at the end of each WHERE group that projects it.

    This is what the local engine's substitution does. Binding the variables instead (a one-row
    ``VALUES`` or a ``BIND`` at the start of every group, as first done) is equivalent in SPARQL,
    but Virtuoso 7.2 drops rows when such a binding meets property paths with ``*``, UNION and
    OPTIONAL (regional-workshops gave 1 row of 5, endorsed-recommendations 1 of 4), while it
    handles constants in patterns and a trailing BIND as it should. The terms are written by
    ``sparql_term``, never copied from the user's text.
    """
    if not bindings:
        return text
    terms = {}
    for name, term in bindings.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise RemoteError(f"cannot bind a parameter named {name!r}")
        try:
            terms[name] = sparql_term(term)
        except ValueError as exc:
            raise RemoteError(f"parameter {name!r}: {exc}") from None
    edits, roots = _substitutions(text, set(terms))
    if not roots:
        raise RemoteError("cannot bind parameters: the query has no WHERE group")
    changes = [(start, end, "true" if name is None else terms[name]) for start, end, name in edits]
    changes += [(pos, pos, " " + " ".join(f"BIND({terms[n]} AS ?{n})" for n in terms if n in bound) + " ")
                for pos, bound in roots]
    for start, end, new in sorted(changes, key=lambda c: (c[0], c[1]), reverse=True):
        text = text[:start] + new + text[end:]
    return text


_PREFIX_DECL = (r"\bPREFIX\s+([A-Za-z][\w.-]*)?:", re.IGNORECASE)
_STRINGS_ONLY = (r"'''.*?'''|\"\"\".*?\"\"\"|'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"|#[^\n]*",
                           re.DOTALL)


def with_prefixes(text: str) -> str:
    """The project's prefixes the query uses without declaring (as the local engine allows)."""
    code = _compiled(_STRINGS_ONLY).sub(" ", text)
    declared = {m.group(1) or "" for m in _compiled(_PREFIX_DECL).finditer(code)}
    missing = [p for p in PREFIXES if p not in declared and re.search(rf"(?<![\w.-]){re.escape(p)}:", code)]
    if not missing:
        return text
    # on the query's first line, so that the server's line numbers in errors stay right
    return "".join(f"PREFIX {p}: <{PREFIXES[p]}> " for p in missing) + text
