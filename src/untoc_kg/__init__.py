"""untoc-kg: a linked-data knowledge graph of the UNTOC Conference of the Parties and its Working Group
on International Cooperation, with saved queries, validation of new entries and exports."""

from .catalogue import Catalogue, Param, SavedQuery
from .errors import (ConflictError, InputError, NotConformingError, ParameterError, QueryError,
                     UnknownQueryError, UntocError)
from .graph import KnowledgeGraph
from .querying import QueryResult

__version__ = "0.1.0"

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
