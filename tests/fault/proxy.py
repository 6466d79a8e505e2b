"""Fault-injecting TCP proxies between cmqd nodes.

Each pair of nodes shares one TCP connection, dialed by the node with the smaller id. The
harness points that node's --peers entry for the larger one at a FaultProxy, which forwards
to the larger node's real --listen port. So every byte between two nodes crosses exactly one
proxy, and the proxy can:

  - pass:   forward both ways;
  - cut:    reset every open connection and reset new ones as soon as they are accepted
            (a crashed switch, a firewall that rejects);
  - block:  stop forwarding the bytes sent by one node (or both), holding them instead of
            dropping them: on a real network TCP keeps retransmitting, so after the fault the
            bytes arrive late but intact; a proxy that discarded bytes mid-stream would
            inject corruption that no real network produces;
  - heal:   back to pass; held bytes flow on.

All proxies share one asyncio loop on its own thread (ProxyLoop); the nemesis and the
cluster call the thread-safe methods of FaultProxy from other threads.
"""

import asyncio
import threading


class ProxyLoop:
    """An asyncio event loop running on a daemon thread, shared by every proxy."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="proxy-loop", daemon=True)
        self._thread.start()

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def call(self, coroutine, timeout=10.0):
        """Runs a coroutine on the loop and returns its result (from any other thread)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self):
        if not self.loop.is_running():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


class _Connection:
    """One proxied connection: the dialer's socket, the acceptor's socket, two pumps."""

    def __init__(self, dialer_writer, acceptor_writer):
        self.writers = (dialer_writer, acceptor_writer)
        self.tasks = []

    def abort(self):
        # abort() sends a RST and drops unsent bytes: the nodes see the connection die at
        # once, as with a cut cable and a rejecting firewall, not a graceful FIN.
        for writer in self.writers:
            writer.transport.abort()
        for task in self.tasks:
            task.cancel()


class FaultProxy:
    """Forwards 127.0.0.1:<port> (ephemeral) to target_port; dialer/acceptor are node ids.

    The dialer (smaller node id) connects to this proxy; the proxy connects to the acceptor.
    """

    CONNECT_TIMEOUT_S = 2.0
    CHUNK_BYTES = 64 * 1024

    def __init__(self, proxy_loop, dialer, acceptor, target_port, host="127.0.0.1"):
        self._loop = proxy_loop
        self.dialer = dialer
        self.acceptor = acceptor
        self.host = host
        self.target_port = target_port
        self.port = None
        self._server = None
        self._connections = set()
        self._cut = False
        # One gate per sending node: open = its bytes flow. Created on the loop's thread.
        self._gates = {}
        self.accepted = 0  # connections accepted since start (for tests and logs)

    @property
    def name(self):
        return f"{self.dialer}->{self.acceptor}"

    # --- control (any thread) -------------------------------------------------------------

    def start(self):
        self._loop.call(self._start())
        return self

    def stop(self):
        self._loop.call(self._stop())

    def cut(self):
        """Resets every connection and refuses new ones until heal()."""
        self._loop.call(self._set(cut=True, blocked=()))

    def block(self, *senders):
        """Holds the bytes sent by each node in senders (dialer and/or acceptor id)."""
        for sender in senders:
            if sender not in (self.dialer, self.acceptor):
                raise ValueError(f"node {sender} is not an end of proxy {self.name}")
        self._loop.call(self._set(cut=False, blocked=senders))

    def heal(self):
        self._loop.call(self._set(cut=False, blocked=()))

    def state(self):
        """A short description for logs: 'pass', 'cut' or 'blocked from 1,2'."""
        if self._cut:
            return "cut"
        blocked = [str(n) for n, gate in sorted(self._gates.items()) if not gate.is_set()]
        return "blocked from " + ",".join(blocked) if blocked else "pass"

    # --- on the loop ----------------------------------------------------------------------

    async def _start(self):
        self._gates = {self.dialer: asyncio.Event(), self.acceptor: asyncio.Event()}
        for gate in self._gates.values():
            gate.set()
        self._server = await asyncio.start_server(self._on_accept, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self):
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections):
            connection.abort()
        self._connections.clear()

    async def _set(self, cut, blocked):
        self._cut = cut
        for node, gate in self._gates.items():
            if node in blocked:
                gate.clear()
            else:
                gate.set()
        if cut:
            for connection in list(self._connections):
                connection.abort()
            self._connections.clear()

    async def _on_accept(self, dialer_reader, dialer_writer):
        self.accepted += 1
        if self._cut:
            dialer_writer.transport.abort()
            return
        try:
            acceptor_reader, acceptor_writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.target_port), self.CONNECT_TIMEOUT_S)
        except (OSError, asyncio.TimeoutError):
            # The acceptor is down (killed, restarting): the dialer sees a reset, as if it
            # had dialed the dead node directly.
            dialer_writer.transport.abort()
            return
        if self._cut:  # cut while we were connecting
            dialer_writer.transport.abort()
            acceptor_writer.transport.abort()
            return
        connection = _Connection(dialer_writer, acceptor_writer)
        self._connections.add(connection)
        connection.tasks = [
            asyncio.ensure_future(self._pump(dialer_reader, acceptor_writer, self.dialer)),
            asyncio.ensure_future(self._pump(acceptor_reader, dialer_writer, self.acceptor)),
        ]
        # When either direction ends (EOF, reset, cut), the whole connection goes: the
        # transport's connections are all-or-nothing, half-closed states don't matter to it.
        await asyncio.wait(connection.tasks, return_when=asyncio.FIRST_COMPLETED)
        connection.abort()
        self._connections.discard(connection)

    async def _pump(self, reader, writer, sender):
        gate = self._gates[sender]
        try:
            while True:
                data = await reader.read(self.CHUNK_BYTES)
                if not data:
                    return
                # Blocked: hold this chunk and read no more, so TCP flow control pushes back
                # on the sender like an unacknowledged window would.
                await gate.wait()
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            return
