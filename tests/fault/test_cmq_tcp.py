"""cmq_tcp.py: the protobuf encoding, the framing and the client against an in-test server.

  python3 -m unittest discover -s tests/fault -p 'test_*.py'
"""

import os
import socket
import struct
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cmq_tcp  # noqa: E402
from cmq_tcp import (TcpConnection, TcpProtocolError, decode_response,  # noqa: E402
                     decode_varint, encode_varint, field_bytes, field_message, field_varint,
                     frame, iter_fields, signed)

U64_MAX = (1 << 64) - 1
BIG_ID = (3 << 48) | 0x0000_FFFF_FFFF_FFF1  # a msgId of data group 3


def _packed(field_number, values):
    payload = b"".join(encode_varint(v) for v in values)
    return field_bytes(field_number, payload)


def _fixed64(field_number, value):
    return encode_varint((field_number << 3) | 1) + struct.pack("<Q", value)


def _fixed32(field_number, value):
    return encode_varint((field_number << 3) | 5) + struct.pack("<I", value)


def _group(field_number, inner):
    return (encode_varint((field_number << 3) | 3) + inner +
            encode_varint((field_number << 3) | 4))


def _pull_msg(msg_id, handle, body, **extra):
    out = field_varint(1, msg_id) + field_varint(3, handle) + field_bytes(4, body)
    for number, value in extra.items():
        out += field_varint({"enqueue_time": 5, "dequeue_count": 8}[number], value)
    return out


class VarintTest(unittest.TestCase):
    def test_round_trips_including_64_bit_values(self):
        for value in (0, 1, 127, 128, 300, 16383, 16384, (1 << 32) - 1, 1 << 32, 1 << 63,
                      BIG_ID, U64_MAX):
            encoded = encode_varint(value)
            self.assertEqual(decode_varint(encoded, 0), (value, len(encoded)), value)
        self.assertEqual(encode_varint(300), b"\xac\x02")
        self.assertEqual(len(encode_varint(U64_MAX)), 10)

    def test_negative_values_are_ten_byte_twos_complement(self):
        encoded = encode_varint(-1)
        self.assertEqual(encoded, b"\xff" * 9 + b"\x01")
        raw, _ = decode_varint(encoded, 0)
        self.assertEqual(signed(raw, 32), -1)
        self.assertEqual(signed(raw, 64), -1)
        self.assertEqual(signed(decode_varint(encode_varint(-2 ** 31), 0)[0], 32), -2 ** 31)
        self.assertEqual(signed(decode_varint(encode_varint(-2 ** 63), 0)[0], 64), -2 ** 63)

    def test_truncated_and_overlong_varints_are_refused(self):
        with self.assertRaises(TcpProtocolError):
            decode_varint(b"\x80\x80", 0)
        with self.assertRaises(TcpProtocolError):
            decode_varint(b"\xff" * 11, 0)
        with self.assertRaises(ValueError):
            encode_varint(1 << 64)


class MessageTest(unittest.TestCase):
    def test_a_request_encodes_as_protobuf(self):
        # seqno 1, cmd 1021, tcp_send_msg {queue_name "q", msgBody "hi"}
        body = field_bytes(1, "q") + field_bytes(2, b"hi")
        encoded = cmq_tcp.encode_request(1, 1021, 200, body)
        self.assertEqual(encoded, b"\x08\x01\x10\xfd\x07\xc2\x0c\x07\x0a\x01q\x12\x02hi")
        fields = list(iter_fields(encoded))
        self.assertEqual(fields[:2], [(1, 0, 1), (2, 0, 1021)])
        self.assertEqual(fields[2], (200, 2, body))

    def test_answer_round_trip_with_64_bit_ids_packed_and_unpacked(self):
        data = (field_varint(1, 7) + field_varint(2, 1022) + field_varint(3, 0) +
                field_varint(29, BIG_ID) + _packed(29, [U64_MAX, 5]) + field_varint(29, 1))
        answer = decode_response(data)
        self.assertEqual((answer["seqno"], answer["cmd"], answer["result"]), (7, 1022, 0))
        self.assertEqual(answer["msgids"], [BIG_ID, U64_MAX, 5, 1])

    def test_pull_answers_and_delete_results(self):
        body = "p1-2-\u00e9\u4e2d\U0001f600 &=%".encode() + b"\x00\xff"
        one = _pull_msg(BIG_ID, U64_MAX, body, enqueue_time=1_700_000_000, dequeue_count=2)
        batch = field_message(1, _pull_msg(1, 2, b"a")) + field_message(1, _pull_msg(3, 4, b""))
        data = (field_varint(1, 1) + field_varint(2, 1024) + field_varint(3, 6010) +
                field_bytes(4, "(10200)partly") + field_message(26, one) +
                field_message(27, batch) +
                field_message(28, field_varint(1, BIG_ID) + field_varint(2, 4430) +
                              field_bytes(3, "bad")) +
                field_message(28, field_varint(1, 9) + field_varint(2, 6000) +
                              field_bytes(3, "")))
        answer = decode_response(data)
        self.assertEqual(answer["result"], 6010)
        self.assertEqual(answer["error"], "(10200)partly")
        msg = answer["pull_rsp"]
        self.assertEqual((msg["msg_id"], msg["receipt_handle"], msg["msg_body"]),
                         (BIG_ID, U64_MAX, body))
        self.assertEqual((msg["enqueue_time"], msg["dequeue_count"]), (1_700_000_000, 2))
        self.assertEqual([(m["msg_id"], m["receipt_handle"], m["msg_body"])
                          for m in answer["batch_pull_rsp"]], [(1, 2, b"a"), (3, 4, b"")])
        self.assertEqual(answer["del_result"],
                         [{"receipt_handle": BIG_ID, "err_code": 4430, "err_msg": "bad"},
                          {"receipt_handle": 9, "err_code": 6000, "err_msg": ""}])

    def test_negative_result_and_absent_result(self):
        self.assertEqual(decode_response(field_varint(1, 1) + field_varint(2, 1021) +
                                         field_varint(3, -5))["result"], -5)
        self.assertEqual(decode_response(field_varint(1, 1) + field_varint(2, 1021))["result"], 0)

    def test_unknown_fields_of_every_wire_type_are_skipped(self):
        unknown = (field_varint(10, U64_MAX) + _fixed64(11, 0x0102030405060708) +
                   _fixed32(12, 0xDEADBEEF) + field_bytes(13, b"\x08\x01" * 50) +
                   _group(14, field_varint(1, 5) + _group(2, field_bytes(3, b"x")) +
                          _fixed32(4, 1)) +
                   field_varint(255, 1) + field_bytes(5000, b"future"))
        inner_unknown = _fixed64(2, 77) + field_bytes(9, "dlq") + field_varint(11, 3)
        data = (unknown + field_varint(1, 42) + unknown + field_varint(2, 1023) +
                field_message(26, inner_unknown + _pull_msg(BIG_ID, 8, b"body") + inner_unknown) +
                unknown + field_varint(29, 3))
        answer = decode_response(data)
        self.assertEqual((answer["seqno"], answer["cmd"]), (42, 1023))
        self.assertEqual(answer["pull_rsp"]["msg_id"], BIG_ID)
        self.assertEqual(answer["pull_rsp"]["msg_body"], b"body")
        self.assertEqual(answer["msgids"], [3])

    def test_malformed_messages_are_refused(self):
        ok = field_varint(1, 1) + field_varint(2, 1021)
        for bad in (field_varint(2, 1021),                       # no seqno
                    field_varint(1, 1),                          # no cmd
                    ok + b"\x22\x05ab",                          # truncated string
                    ok + b"\x59\x01\x02",                        # truncated fixed64
                    ok + encode_varint((14 << 3) | 3) + field_varint(1, 1),  # open group
                    ok + encode_varint((14 << 3) | 4),           # stray end group
                    ok + encode_varint((14 << 3) | 6),           # wire type 6
                    ok + field_varint(4, 1),                     # error as a varint
                    ok + field_message(26, field_varint(3, 1))):  # pull_rsp without msg_id
            with self.assertRaises(TcpProtocolError, msg=bad.hex()):
                decode_response(bad)


class _Server:
    """A scripted CMQ TCP server on loopback. handler(request dict, raw body) returns the
    answer's CMQProto bytes (or None for no answer). Writes can be chopped into small
    pieces to test reassembly."""

    def __init__(self, handler, chop=None):
        self.handler, self.chop = handler, chop
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.requests = []  # (seqno, cmd, {field: raw value}) in arrival order
        self.connections = 0
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self._stop:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock):
        with sock:
            try:
                while True:
                    body = cmq_tcp.read_frame(sock, time.monotonic() + 10)
                    fields = {}
                    for number, _, value in iter_fields(body):
                        fields.setdefault(number, value)
                    request = {"seqno": signed(fields[1], 64), "cmd": fields[2], "fields": fields}
                    self.requests.append(request)
                    answer = self.handler(request)
                    if answer is None:
                        continue
                    if answer == "close":
                        return
                    data = frame(answer) if isinstance(answer, bytes) else answer.raw
                    if self.chop:
                        # The first pieces (the header among them) one by one with a pause,
                        # so that the client reads them separately; then the rest in 4 KiB.
                        head = self.chop * 40
                        for i in range(0, min(head, len(data)), self.chop):
                            sock.sendall(data[i:min(i + self.chop, head)])
                            time.sleep(0.002)
                        for i in range(head, len(data), 4096):
                            sock.sendall(data[i:i + 4096])
                    else:
                        sock.sendall(data)
            except OSError:
                return

    def close(self):
        self._stop = True
        self.listener.close()


class _Raw:
    def __init__(self, raw):
        self.raw = raw


def _envelope(request, result=0, extra=b""):
    return (field_varint(1, request["seqno"]) + field_varint(2, request["cmd"]) +
            field_varint(3, result) + extra)


def _cmq_handler(request):
    """A tiny CMQ: every data command succeeds with fixed answers."""
    cmd, fields = request["cmd"], request["fields"]
    if cmd == cmq_tcp.CMD_AUTH:
        auth = dict((n, v) for n, _, v in iter_fields(fields[199]))
        assert set(auth) == {1, 2, 3, 4}, auth
        return _envelope(request)
    if cmd in (cmq_tcp.CMD_SEND, cmq_tcp.CMD_PUBLISH):
        return _envelope(request, extra=field_varint(29, BIG_ID))
    if cmd in (cmq_tcp.CMD_BATCH_SEND, cmq_tcp.CMD_BATCH_PUBLISH):
        body = fields[201 if cmd == cmq_tcp.CMD_BATCH_SEND else 209]
        count = sum(1 for n, _, _ in iter_fields(body) if n == 2)
        return _envelope(request, extra=_packed(29, [BIG_ID + i for i in range(count)]))
    if cmd == cmq_tcp.CMD_PULL:
        return _envelope(request, extra=field_message(26, _pull_msg(BIG_ID, U64_MAX,
                                                                    b"x" * 70000)))
    if cmd == cmq_tcp.CMD_BATCH_PULL:
        return _envelope(request, cmq_tcp.RESULT_NO_MESSAGE, field_bytes(4, "(10200)no message"))
    if cmd == cmq_tcp.CMD_DELETE:
        return _envelope(request)
    if cmd == cmq_tcp.CMD_BATCH_DELETE:
        handles = [v for n, _, v in iter_fields(fields[207]) if n == 2]
        failure = field_message(28, field_varint(1, handles[-1]) + field_varint(2, 4430) +
                                field_bytes(3, "invalid"))
        return _envelope(request, cmq_tcp.RESULT_PARTIAL_DELETE, failure)
    return _envelope(request, 4000)


class ClientTest(unittest.TestCase):
    def _server(self, handler=_cmq_handler, **kwargs):
        server = _Server(handler, **kwargs)
        self.addCleanup(server.close)
        return server

    def _connect(self, server, timeout_s=2.0):
        conn = TcpConnection("127.0.0.1", server.port, timeout_s=timeout_s)
        self.addCleanup(conn.close)
        return conn

    def test_every_command_with_frames_split_across_reads(self):
        for chop in (None, 1, 5):
            server = self._server(chop=chop)
            conn = self._connect(server)
            self.assertEqual(conn.send("q", "p1-1-\u00e9"), (0, "", [BIG_ID]))
            self.assertEqual(conn.batch_send("q", ["a", b"b", "c"], delay_seconds=0),
                             (0, "", [BIG_ID, BIG_ID + 1, BIG_ID + 2]))
            self.assertEqual(conn.publish("t", "x", tags=["a"]), (0, "", [BIG_ID]))
            self.assertEqual(conn.batch_publish("t", ["x", "y"]), (0, "", [BIG_ID, BIG_ID + 1]))
            result, _, msg = conn.pull("q", poll_wait_seconds=1)
            self.assertEqual((result, msg["msg_id"], msg["receipt_handle"]), (0, BIG_ID, U64_MAX))
            self.assertEqual(msg["msg_body"], b"x" * 70000)
            self.assertEqual(conn.batch_pull("q", 16, poll_wait_seconds=1),
                             (10200, "(10200)no message", []))
            self.assertEqual(conn.delete("q", U64_MAX), (0, "", None))
            result, _, failed = conn.batch_delete("q", [1, U64_MAX])
            self.assertEqual((result, [f["receipt_handle"] for f in failed]), (6010, [U64_MAX]))
            self.assertEqual(server.connections, 1)
            cmds = [r["cmd"] for r in server.requests]
            self.assertEqual(cmds, [1020, 1021, 1022, 1027, 1028, 1023, 1024, 1025, 1026])
            seqnos = [r["seqno"] for r in server.requests]
            self.assertEqual(seqnos, sorted(set(seqnos)))

    def test_request_bodies_are_what_the_schema_says(self):
        server = self._server()
        conn = self._connect(server)
        conn.batch_delete("q", [BIG_ID, 2])
        conn.batch_pull("q", 16, poll_wait_seconds=1)
        body = server.requests[1]["fields"][207]
        self.assertEqual(list(iter_fields(body)), [(1, 2, b"q"), (2, 0, BIG_ID), (2, 0, 2)])
        body = server.requests[2]["fields"][204]
        self.assertEqual(list(iter_fields(body)), [(1, 2, b"q"), (2, 0, 16), (3, 0, 1)])

    def test_a_timeout_raises_and_the_next_call_reconnects(self):
        slow = {"on": True}

        def handler(request):
            if request["cmd"] == cmq_tcp.CMD_SEND and slow["on"]:
                slow["on"] = False
                return None  # never answered
            return _cmq_handler(request)
        server = self._server(handler)
        conn = self._connect(server, timeout_s=0.5)
        start = time.monotonic()
        with self.assertRaises(TimeoutError):
            conn.send("q", "a")
        self.assertLess(time.monotonic() - start, 2.0)
        self.assertIsNone(conn.sock)
        self.assertEqual(conn.send("q", "a").result, 0)
        self.assertEqual(server.connections, 2)

    def test_a_pull_waits_for_its_poll_time_on_top_of_the_timeout(self):
        def slow_pulls(request):
            if request["cmd"] == cmq_tcp.CMD_PULL:
                time.sleep(1.5)
            return _cmq_handler(request)
        server = self._server(slow_pulls)
        conn = self._connect(server, timeout_s=0.5)
        self.assertEqual(conn.pull("q", poll_wait_seconds=2).result, 0)  # waits up to 2.5 s
        with self.assertRaises(TimeoutError):
            conn.pull("q", poll_wait_seconds=0)  # waits up to 0.5 s

    def test_a_closed_connection_raises_and_the_next_call_reconnects(self):
        closed = {"done": False}

        def handler(request):
            if request["cmd"] == cmq_tcp.CMD_SEND and not closed["done"]:
                closed["done"] = True
                return "close"
            return _cmq_handler(request)
        server = self._server(handler)
        conn = self._connect(server)
        with self.assertRaises(ConnectionError):
            conn.send("q", "a")
        self.assertEqual(conn.send("q", "a").payload, [BIG_ID])

    def test_a_connection_the_server_closed_while_idle_is_replaced_before_use(self):
        def handler(request):
            answer = _cmq_handler(request)
            return answer if request["cmd"] != cmq_tcp.CMD_DELETE else _Raw(frame(answer))
        server = self._server(handler)
        conn = self._connect(server)
        conn.send("q", "a")
        conn.sock.shutdown(socket.SHUT_WR)  # the server sees EOF and closes its end
        time.sleep(0.2)
        self.assertEqual(conn.send("q", "a").result, 0)  # not an error: never sent on it
        self.assertEqual(server.connections, 2)

    def test_refused_connection_and_refused_auth_raise(self):
        port = socket.create_server(("127.0.0.1", 0))
        free = port.getsockname()[1]
        port.close()
        with self.assertRaises(ConnectionError):
            TcpConnection("127.0.0.1", free, timeout_s=1).send("q", "a")

        def refuse(request):
            return _envelope(request, 4100, field_bytes(4, "authentication failed"))
        server = self._server(refuse)
        with self.assertRaises(TcpProtocolError):
            self._connect(server).send("q", "a")

    def test_bad_frames_and_mismatched_answers_raise(self):
        for raw in (b"\x01\x00\x06\x00\x00\x00",             # non-zero soh
                    b"\x00\x00\x05\x00\x00\x00",             # length below 6
                    b"\x00\x00\xff\xff\xff\x7f"):            # absurd length
            server = self._server(lambda r, raw=raw: _Raw(raw) if r["cmd"] != 1020
                                  else _envelope(r))
            with self.assertRaises(TcpProtocolError):
                self._connect(server).send("q", "a")

        def wrong_seqno(request):
            if request["cmd"] == cmq_tcp.CMD_AUTH:
                return _envelope(request)
            return field_varint(1, request["seqno"] + 100) + field_varint(2, request["cmd"])
        server = self._server(wrong_seqno)
        with self.assertRaises(TcpProtocolError):
            self._connect(server).send("q", "a")

    def test_not_authed_answer_closes_the_connection(self):
        state = {"first": True}

        def handler(request):
            if request["cmd"] == cmq_tcp.CMD_SEND and state["first"]:
                state["first"] = False
                return _envelope(request, cmq_tcp.RESULT_NOT_AUTHED)
            return _cmq_handler(request)
        server = self._server(handler)
        conn = self._connect(server)
        self.assertEqual(conn.send("q", "a").result, 306)
        self.assertIsNone(conn.sock)
        self.assertEqual(conn.send("q", "a").result, 0)
        self.assertEqual([r["cmd"] for r in server.requests], [1020, 1021, 1020, 1021])


class _MiniCmq:
    """An in-memory queue behind the scripted server, with faults: every 5th send is
    refused with 6000 (not applied), every 7th is applied and then the connection is closed
    before the answer (an unknown outcome that did apply)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.next_id = BIG_ID
        self.visible, self.invisible = {}, {}  # msg_id -> body
        self.sends = 0

    def __call__(self, request):
        cmd, fields = request["cmd"], request["fields"]
        if cmd == cmq_tcp.CMD_AUTH:
            return _envelope(request)
        with self.lock:
            if cmd in (cmq_tcp.CMD_SEND, cmq_tcp.CMD_BATCH_SEND):
                self.sends += 1
                if self.sends % 5 == 0:
                    return _envelope(request, cmq_tcp.RESULT_RETRY, field_bytes(4, "retry"))
                body = fields[200 if cmd == cmq_tcp.CMD_SEND else 201]
                ids = []
                for n, _, v in iter_fields(body):
                    if n == 2:
                        self.next_id += 1
                        self.visible[self.next_id] = v
                        ids.append(self.next_id)
                if self.sends % 7 == 0:
                    return "close"
                return _envelope(request, extra=b"".join(field_varint(29, i) for i in ids))
            if cmd == cmq_tcp.CMD_BATCH_PULL or cmd == cmq_tcp.CMD_PULL:
                count = 1 if cmd == cmq_tcp.CMD_PULL else 16
                taken = list(self.visible.items())[:count]
                for msg_id, _ in taken:
                    self.invisible[msg_id] = self.visible.pop(msg_id)
            if cmd == cmq_tcp.CMD_DELETE or cmd == cmq_tcp.CMD_BATCH_DELETE:
                body = fields[206 if cmd == cmq_tcp.CMD_DELETE else 207]
                handles = [v for n, _, v in iter_fields(body) if n == 2]
                bad = [h for h in handles if self.invisible.pop(h ^ 0xABC, None) is None]
        if cmd in (cmq_tcp.CMD_PULL, cmq_tcp.CMD_BATCH_PULL):
            if not taken:
                time.sleep(0.02)
                return _envelope(request, cmq_tcp.RESULT_NO_MESSAGE)
            msgs = [_pull_msg(i, i ^ 0xABC, b) for i, b in taken]
            if cmd == cmq_tcp.CMD_PULL:
                return _envelope(request, extra=field_message(26, msgs[0]))
            return _envelope(request, extra=field_message(
                27, b"".join(field_message(1, m) for m in msgs)))
        if cmd == cmq_tcp.CMD_DELETE:
            return _envelope(request, 4430 if bad else 0)
        if cmd == cmq_tcp.CMD_BATCH_DELETE:
            failures = b"".join(field_message(28, field_varint(1, h) + field_varint(2, 4430) +
                                              field_bytes(3, "invalid")) for h in bad)
            return _envelope(request, cmq_tcp.RESULT_PARTIAL_DELETE if bad else 0, failures)
        return _envelope(request, 4000)


class TcpClientsTest(unittest.TestCase):
    """The harness's TCP producer and consumer (clients.py) against _MiniCmq, checked by
    the checker: retried unknown outcomes, numeric ids, deletes by numeric handle."""

    def test_producer_and_consumer_over_tcp_pass_the_checker(self):
        from checker import check
        from clients import OK, UNKNOWN, CmqTcp, Consumer, History, Producer
        server = _Server(_MiniCmq())
        self.addCleanup(server.close)
        ports = {1: server.port, 2: server.port}
        history, stop = History(), threading.Event()
        producer = Producer(1, ports, "q", history, stop, seed=1, timeout_s=2, rate=400,
                            tcp=True)
        consumer = Consumer(1, ports, "q", history, stop, seed=1, timeout_s=2,
                            abandon_probability=0.0, tcp=True)
        producer.start()
        consumer.start()
        time.sleep(1.5)
        stop.set()
        producer.join()
        consumer.join()
        # Drain what the consumer had not taken yet.
        stop2 = threading.Event()
        drain = Consumer(2, ports, "q", history, stop2, seed=1, timeout_s=2,
                         abandon_probability=0.0, tcp=True)
        drain.start()
        deadline = time.monotonic() + 10
        while drain.empty_rounds < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        stop2.set()
        drain.join()
        report = check(history)
        self.assertEqual(report.failures, [])
        self.assertGreater(report.sends_acked, 50)
        self.assertGreater(report.send_calls_unknown, 0)
        self.assertEqual(report.lost, 0)
        self.assertEqual(report.protocols["tcp"]["sends_acked"], report.sends_acked)
        self.assertGreater(report.protocols["tcp"]["deletes_acked"], 0)
        self.assertTrue(all(isinstance(i, int) and i > BIG_ID
                            for r in history.sends for i in r.msg_ids))
        self.assertTrue(all(r.tcp for r in history.sends + history.receives))
        self.assertIn(("tcp Send", "6000 retry"), history.unknowns)
        self.assertFalse(history.errors)

        # Outcomes of CmqTcp.call: 0 and 10200 OK, 6000 unknown, a refused connection
        # unknown, any other result an error.
        client = CmqTcp({1: server.port}, timeout_s=1)
        self.addCleanup(client.close)
        self.assertEqual(client.call(1, "batch_pull", "q", 16, poll_wait_seconds=0).outcome, OK)
        self.assertEqual(client.call(1, "batch_pull", "q", 16, poll_wait_seconds=0).code, 10200)
        reply = client.call(1, "delete", "q", 12345)
        self.assertEqual((reply.outcome, reply.code), ("error", 4430))
        with socket.create_server(("127.0.0.1", 0)) as unused:
            free = unused.getsockname()[1]
        refused = CmqTcp({1: free}, timeout_s=1).call(1, "send", "q", "x")
        self.assertEqual((refused.outcome, refused.code), (UNKNOWN, -1))


if __name__ == "__main__":
    unittest.main()
