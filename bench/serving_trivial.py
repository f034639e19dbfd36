"""A trivial HTTP/1.1 server for calibrating ``bench.serving``'s load generator.

Answers every request with the same small JSON body, after reading the request's body
(``Content-Length``), on uvloop when installed: the cheapest server Python can run, so the
requests/s the client reaches against it bound what the client itself can generate.
``python -m bench.serving_trivial PORT``.
"""

from __future__ import annotations

import asyncio
import sys

BODY = b'{"model_name":"trivial","outputs":[]}'
RESPONSE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
    + str(len(BODY)).encode()
    + b"\r\n\r\n"
    + BODY
)


class _Echo(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = bytes(self.buffer[:head_end]).lower() + b"\r\n"
            at = head.find(b"\r\ncontent-length:")
            length = int(head[at + 17 : head.find(b"\r\n", at + 2)]) if at >= 0 else 0
            if len(self.buffer) < head_end + 4 + length:
                return
            del self.buffer[: head_end + 4 + length]
            self.transport.write(RESPONSE)  # type: ignore[attr-defined]


async def _serve(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(_Echo, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main() -> int:
    """Serve on 127.0.0.1:PORT until killed."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(_serve(int(sys.argv[1])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
