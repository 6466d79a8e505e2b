"""FaultProxy against an echo server: pass, cut, one-way block, heal.

  python3 -m unittest discover -s tests/fault -p 'test_*.py'
"""

import os
import socket
import socketserver
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from proxy import FaultProxy, ProxyLoop  # noqa: E402

DIALER, ACCEPTOR = 1, 2


class _Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            try:
                data = self.request.recv(65536)
            except OSError:
                return
            if not data:
                return
            self.request.sendall(data)


class _EchoServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def _read_exactly(sock, count, timeout=5.0):
    sock.settimeout(timeout)
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def _nothing_arrives(sock, seconds=0.3):
    sock.settimeout(seconds)
    try:
        sock.recv(1)
        return False
    except socket.timeout:
        return True


class FaultProxyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.loop = ProxyLoop()

    @classmethod
    def tearDownClass(cls):
        cls.loop.close()

    def setUp(self):
        self.echo = _EchoServer(("127.0.0.1", 0), _Echo)
        threading.Thread(target=self.echo.serve_forever, daemon=True).start()
        self.proxy = FaultProxy(self.loop, DIALER, ACCEPTOR, self.echo.server_address[1]).start()

    def tearDown(self):
        self.proxy.stop()
        self.echo.shutdown()
        self.echo.server_close()

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.proxy.port), timeout=5)

    def test_passes_bytes_both_ways(self):
        with self.connect() as sock:
            payload = os.urandom(300_000)
            threading.Thread(target=sock.sendall, args=(payload,), daemon=True).start()
            self.assertEqual(_read_exactly(sock, len(payload)), payload)
        self.assertEqual(self.proxy.state(), "pass")

    def test_cut_resets_open_connections_and_refuses_new_ones(self):
        sock = self.connect()
        sock.sendall(b"ping")
        self.assertEqual(_read_exactly(sock, 4), b"ping")
        self.proxy.cut()
        self.assertEqual(self.proxy.state(), "cut")
        with self.assertRaises((ConnectionError, OSError)):
            sock.sendall(b"x")
            _read_exactly(sock, 1)
        sock.close()
        with self.connect() as fresh:
            with self.assertRaises((ConnectionError, OSError)):
                fresh.sendall(b"x")
                _read_exactly(fresh, 1)
        self.proxy.heal()
        with self.connect() as healed:
            healed.sendall(b"back")
            self.assertEqual(_read_exactly(healed, 4), b"back")

    def test_blocking_the_dialer_holds_its_bytes_until_heal(self):
        with self.connect() as sock:
            self.proxy.block(DIALER)
            self.assertEqual(self.proxy.state(), f"blocked from {DIALER}")
            sock.sendall(b"held")
            self.assertTrue(_nothing_arrives(sock))
            self.proxy.heal()
            self.assertEqual(_read_exactly(sock, 4), b"held")  # late but intact

    def test_blocking_the_acceptor_holds_only_the_way_back(self):
        with self.connect() as sock:
            self.proxy.block(ACCEPTOR)
            sock.sendall(b"one")  # reaches the echo server...
            self.assertTrue(_nothing_arrives(sock))  # ...whose answer is held
            self.proxy.heal()
            self.assertEqual(_read_exactly(sock, 3), b"one")

    def test_blocked_new_connections_are_accepted_but_silent(self):
        self.proxy.block(DIALER, ACCEPTOR)
        with self.connect() as sock:
            sock.sendall(b"late")
            self.assertTrue(_nothing_arrives(sock))
            self.proxy.heal()
            self.assertEqual(_read_exactly(sock, 4), b"late")

    def test_a_dead_target_resets_the_dialer(self):
        self.echo.shutdown()
        self.echo.server_close()
        time.sleep(0.05)
        with self.connect() as sock:
            with self.assertRaises((ConnectionError, OSError)):
                sock.sendall(b"x")
                _read_exactly(sock, 1)

    def test_rejects_a_node_that_is_not_an_end(self):
        with self.assertRaises(ValueError):
            self.proxy.block(3)


if __name__ == "__main__":
    unittest.main()
