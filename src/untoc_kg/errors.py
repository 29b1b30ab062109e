"""The package's exceptions: one small hierarchy, turned into one-line messages at the CLI edge.

``UntocError``
    ├── ``InputError``        a file or text cannot be read or parsed (says where: file, line, column)
    ├── ``QueryError``        a SPARQL query is invalid or cannot run
    │     └── ``UnknownQueryError``   no saved query of that name (suggests the closest)
    ├── ``ParameterError``    a saved-query parameter is missing, unknown or of the wrong type
    ├── ``NotConformingError`` entries break the shapes (carries the validation report)
    ├── ``ConflictError``     entries contradict what the graph already holds
    ├── ``ReasoningLimitError`` the OWL RL closure would pass its time, size or memory budget
    └── ``RemoteError``       a remote endpoint or store is unreachable or answers with an error
          └── ``RemoteQueryError``    the endpoint rejected the query itself (HTTP 400)
"""

from __future__ import annotations

__all__ = [
    "UntocError",
    "InputError",
    "QueryError",
    "UnknownQueryError",
    "ParameterError",
    "NotConformingError",
    "ConflictError",
    "ReasoningLimitError",
    "RemoteError",
    "RemoteQueryError",
]


class UntocError(Exception):
    """Base class: every error the library raises on purpose. ``str(err)`` is one line."""

    exit_code = 1


class InputError(UntocError):
    """A file, value or text that cannot be read or parsed."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 column: int | None = None):
        self.path, self.line, self.column = path, line, column
        where = ""
        if path:
            # A file name may hold a newline or other control characters: shown escaped.
            where = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(path))
            if line is not None:
                where += f":{line}"
                if column is not None:
                    where += f":{column}"
            where += ": "
        super().__init__(where + " ".join(message.split()))


class QueryError(UntocError):
    """A query that is not valid SPARQL, or that the engine refuses to run."""

    exit_code = 2


class UnknownQueryError(QueryError):
    """No saved query has that name."""


class ParameterError(UntocError):
    """A parameter missing, unknown, or not of its declared type."""

    exit_code = 2


class NotConformingError(UntocError):
    """New entries do not conform to the shapes; ``report`` holds the details."""

    def __init__(self, message: str, report=None):
        self.report = report
        super().__init__(message)


class ConflictError(UntocError):
    """New entries contradict facts already in the graph."""


class ReasoningLimitError(UntocError):
    """The OWL RL closure was refused or stopped: it would pass its time, size or memory budget."""


class RemoteError(UntocError):
    """A remote endpoint or store cannot be reached, or answers with an error or not in SPARQL."""

    exit_code = 1


class RemoteQueryError(RemoteError):
    """The endpoint rejected the query itself (HTTP 400): the question, not the network, is wrong."""

    exit_code = 2
