"""Frontend: a Python inference function -> the ``pipeline`` dialect."""

from .spec import ArgumentSpec, FrontendError, FrontendResult, PythonCall, Unsupported
from .tracer import trace_to_module

__all__ = [
    "ArgumentSpec",
    "FrontendError",
    "FrontendResult",
    "PythonCall",
    "Unsupported",
    "trace_to_module",
]
