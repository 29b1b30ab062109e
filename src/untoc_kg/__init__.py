"""untoc-kg: a linked-data knowledge graph of the UNTOC Conference of the Parties and its Working Group
on International Cooperation, with saved queries, validation of new entries and exports."""

from .errors import (ConflictError, InputError, NotConformingError, ParameterError, QueryError,
                     UnknownQueryError, UntocError)

__version__ = "0.1.0"

# Imported on first use: `untoc query` starts faster when the package does not load every module.
_LAZY = {"KnowledgeGraph": "graph", "Catalogue": "catalogue", "SavedQuery": "catalogue",
         "Param": "catalogue", "QueryResult": "querying"}


def __getattr__(name):
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "__version__",
    "KnowledgeGraph",
    "Catalogue",
    "SavedQuery",
    "Param",
    "QueryResult",
    "UntocError",
    "InputError",
    "QueryError",
    "UnknownQueryError",
    "ParameterError",
    "NotConformingError",
    "ConflictError",
]
