"""Errors the server turns into HTTP statuses; the message is what the client sees."""


class ServeError(Exception):
    """A request the server refuses (400 unless a subclass says otherwise)."""

    status: int = 400


class NotFound(ServeError):
    """An unknown model or version."""

    status = 404


class NotReady(ServeError):
    """A model (or the server) that is not ready to serve."""

    status = 503


class TooLarge(ServeError):
    """A body or a request over the configured limits."""

    status = 413


class HeadTooLarge(ServeError):
    """A request line and headers over :data:`willump_mlir.serve.http.MAX_HEAD` bytes."""

    status = 431


class RequestTimeout(ServeError):
    """A request line and headers, or a body, not complete within the server's header or
    body timeout."""

    status = 408


class Overloaded(ServeError):
    """A full queue: the client should retry after `retry_after` seconds."""

    status = 503

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after
