"""A TCP proxy in front of a server, which a test cuts off and brings back: the server
is away for its clients (connections dropped, new ones refused) without being stopped."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class Outage:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.listening_port = 0
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def restore(self) -> None:
        """Accept connections (again, on the same port)."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.listening_port)
        self.listening_port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Drop every connection and refuse new ones."""
        assert self._server is not None
        self._server.close()
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    async def _serve(self, client_in: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        try:
            server_in, server = await asyncio.open_connection(self.host, self.port)
        except OSError:
            client.transport.abort()
            return
        self._open |= {client, server}
        await asyncio.gather(_pipe(client_in, server), _pipe(server_in, client))
        self._open -= {client, server}


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    sink.close()


@contextlib.asynccontextmanager
async def outage(host: str, port: int) -> AsyncIterator[Outage]:
    proxy = Outage(host, port)
    await proxy.restore()
    try:
        yield proxy
    finally:
        await proxy.cut()
