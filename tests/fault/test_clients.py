"""clients.py: what a call to a node that cannot be reached answers, over HTTP and TCP.

  python3 -m unittest discover -s tests/fault -p 'test_*.py'
"""

import os
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from clients import UNKNOWN, CmqHttp, CmqTcp  # noqa: E402


def closed_port():
    """A loopback port that nothing listens on (bound once, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class UnreachableNodeTest(unittest.TestCase):
    def check(self, reply):
        self.assertEqual(reply.outcome, UNKNOWN)  # the checker counts it neither way
        self.assertEqual(reply.code, -1)
        self.assertTrue(reply.detail.startswith("ConnectionRefusedError"), reply.detail)
        self.assertGreaterEqual(reply.t_end, reply.t_start)

    def test_http_call_to_a_closed_port(self):
        client = CmqHttp({1: closed_port()}, timeout_s=2.0)
        self.check(client.call(1, "SendMessage", [("queueName", "q"), ("msgBody", "x")]))
        self.assertEqual(client._connections, {})  # a failed connection is not reused

    def test_tcp_call_to_a_closed_port(self):
        client = CmqTcp({1: closed_port()}, timeout_s=2.0)
        self.check(client.call(1, "send", "q", b"x"))
        client.close()


if __name__ == "__main__":
    unittest.main()
