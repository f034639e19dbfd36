"""Frontend: a Python inference function -> the ``pipeline`` dialect."""

from .spec import (
    ArgumentSpec,
    FrontendError,
    FrontendResult,
    PythonCall,
    Unsupported,
    ValueSpec,
)
from .tracer import trace_to_module

__all__ = [
    "ArgumentSpec",
    "FrontendError",
    "FrontendResult",
    "PythonCall",
    "Unsupported",
    "ValueSpec",
    "trace_to_module",
]
