"""A small blocking client of the CMQ TCP protocol, Python 3 standard library only.

The protocol (../shared/spec/cmq-tcp-protocol.md, docs/tcp-protocol.md, src/proto/cmq.proto):
a frame is 2 zero bytes, the total length as a little-endian int32 (the 6 header bytes
included), then one protobuf (proto2) CMQProto. The protobuf encoding here is written from
the wire format, for the fields the fault harness uses only; every other field of an answer
is skipped by its wire type.

One request is in flight per connection at a time (each call writes one frame and reads
its answer), with a deadline per call. Any transport failure, timeout or malformed frame
raises (an OSError: ConnectionError, TimeoutError or TcpProtocolError) and closes the
connection: its state is unknown, and the caller makes a new one.

    conn = TcpConnection("127.0.0.1", 8090, timeout_s=5)
    result, error, msg_ids = conn.send("q", b"hello")
    result, error, msg = conn.pull("q", poll_wait_seconds=1)   # msg: a dict, or None
    conn.close()
"""

import socket
import struct
import time
from collections import namedtuple

# Commands (CMQ_CMD).
CMD_AUTH = 1020
CMD_SEND = 1021
CMD_BATCH_SEND = 1022
CMD_PULL = 1023
CMD_BATCH_PULL = 1024
CMD_DELETE = 1025
CMD_BATCH_DELETE = 1026
CMD_PUBLISH = 1027
CMD_BATCH_PUBLISH = 1028
CMD_HEARTBEAT = 1040

# Results.
RESULT_OK = 0
RESULT_NOT_AUTHED = 306
RESULT_ALREADY_AUTHED = 307
RESULT_RETRY = 6000
RESULT_PARTIAL_DELETE = 6010
RESULT_NO_MESSAGE = 10200

HEADER = struct.Struct("<HI")  # "soh" (must be 0), total length; little-endian
HEADER_SIZE = HEADER.size      # 6
MAX_FRAME = 32 << 20           # what we accept from a server (its own limit is 16 MiB + 64 KiB)

# Wire types.
VARINT, FIXED64, LENGTH, START_GROUP, END_GROUP, FIXED32 = 0, 1, 2, 3, 4, 5

Answer = namedtuple("Answer", "result error payload")


class TcpProtocolError(OSError):
    """A malformed frame or message, or an answer that does not match the request."""


# --- protobuf encoding ------------------------------------------------------------------

def encode_varint(value):
    """A varint; negative values (int32/int64) as their 64-bit two's complement."""
    if value < 0:
        value += 1 << 64
    if not 0 <= value < 1 << 64:
        raise ValueError(f"{value} does not fit in 64 bits")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_varint(data, pos):
    """(value as an unsigned 64-bit int, next position)."""
    result, shift = 0, 0
    while True:
        if pos >= len(data):
            raise TcpProtocolError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if result >> 64:
                raise TcpProtocolError("varint longer than 64 bits")
            return result, pos
        shift += 7
        if shift >= 70:
            raise TcpProtocolError("varint longer than 10 bytes")


def signed(value, bits):
    """An unsigned varint value read as a signed intN (int32 fields are sign-extended to
    64 bits on the wire)."""
    value &= (1 << 64) - 1
    if value >> 63:
        value -= 1 << 64
    if bits == 32:
        value = ((value + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
    return value


def _key(field_number, wire_type):
    return encode_varint((field_number << 3) | wire_type)


def field_varint(field_number, value):
    return _key(field_number, VARINT) + encode_varint(value)


def field_bytes(field_number, value):
    if isinstance(value, str):
        value = value.encode("utf-8")
    return _key(field_number, LENGTH) + encode_varint(len(value)) + bytes(value)


def field_message(field_number, encoded):
    return field_bytes(field_number, encoded)


def iter_fields(data):
    """(field number, wire type, value) for every field of a message. value: an int for
    VARINT, FIXED64 and FIXED32 (unsigned), a bytes for LENGTH; groups are skipped whole
    and yielded with value None."""
    data = memoryview(data)
    pos, end = 0, len(data)
    while pos < end:
        key, pos = decode_varint(data, pos)
        field_number, wire_type = key >> 3, key & 7
        if field_number == 0:
            raise TcpProtocolError("field number 0")
        if wire_type == VARINT:
            value, pos = decode_varint(data, pos)
        elif wire_type == FIXED64:
            if pos + 8 > end:
                raise TcpProtocolError("truncated fixed64")
            value = int.from_bytes(data[pos:pos + 8], "little")
            pos += 8
        elif wire_type == FIXED32:
            if pos + 4 > end:
                raise TcpProtocolError("truncated fixed32")
            value = int.from_bytes(data[pos:pos + 4], "little")
            pos += 4
        elif wire_type == LENGTH:
            length, pos = decode_varint(data, pos)
            if pos + length > end:
                raise TcpProtocolError("truncated length-delimited field")
            value = bytes(data[pos:pos + length])
            pos += length
        elif wire_type == START_GROUP:
            pos = _skip_group(data, pos, field_number)
            value = None
        else:  # END_GROUP without a start, or 6/7
            raise TcpProtocolError(f"unexpected wire type {wire_type} (field {field_number})")
        yield field_number, wire_type, value


def _skip_group(data, pos, group_number):
    """The position after the END_GROUP that closes group_number (nested groups too)."""
    end = len(data)
    while True:
        if pos >= end:
            raise TcpProtocolError("unterminated group")
        key, pos = decode_varint(data, pos)
        field_number, wire_type = key >> 3, key & 7
        if wire_type == END_GROUP:
            if field_number != group_number:
                raise TcpProtocolError("mismatched end of group")
            return pos
        if wire_type == VARINT:
            _, pos = decode_varint(data, pos)
        elif wire_type == FIXED64:
            pos += 8
        elif wire_type == FIXED32:
            pos += 4
        elif wire_type == LENGTH:
            length, pos = decode_varint(data, pos)
            pos += length
        elif wire_type == START_GROUP:
            pos = _skip_group(data, pos, field_number)
        else:
            raise TcpProtocolError(f"unexpected wire type {wire_type} in a group")
        if pos > end:
            raise TcpProtocolError("truncated field in a group")


def _varints(wire_type, value):
    """The values of a repeated varint field's occurrence, packed (LENGTH) or not."""
    if wire_type == VARINT:
        return [value]
    if wire_type == LENGTH:
        out, pos = [], 0
        while pos < len(value):
            v, pos = decode_varint(value, pos)
            out.append(v)
        return out
    raise TcpProtocolError(f"wire type {wire_type} for a varint field")


def _expect(wire_type, expected, name):
    if wire_type != expected:
        raise TcpProtocolError(f"{name} has wire type {wire_type}, expected {expected}")


# --- CMQProto -----------------------------------------------------------------------------

def encode_request(seqno, cmd, body_field=None, body=b""):
    """A CMQProto: seqno (1), cmd (2) and the command's body message in body_field."""
    out = field_varint(1, seqno) + field_varint(2, cmd)
    if body_field is not None:
        out += field_message(body_field, body)
    return out


def decode_pull_msg(data):
    """cmq_pull_msg_rsp as a dict: msg_id, receipt_handle, msg_body (bytes), enqueue_time,
    next_visible_time, first_dequeue_time, dequeue_count."""
    msg = {}
    names = {1: "msg_id", 3: "receipt_handle", 5: "enqueue_time", 6: "next_visible_time",
             7: "first_dequeue_time", 8: "dequeue_count"}
    for number, wire_type, value in iter_fields(data):
        if number in names:
            _expect(wire_type, VARINT, names[number])
            msg[names[number]] = value if number in (1, 3) else signed(value, 64)
        elif number == 4:
            _expect(wire_type, LENGTH, "msg_body")
            msg["msg_body"] = value
    if "msg_id" not in msg:
        raise TcpProtocolError("cmq_pull_msg_rsp without msg_id")
    return msg


def decode_response(data):
    """A CMQProto answer as a dict: seqno, cmd, result (0 if absent), error, pull_rsp
    (dict or None), batch_pull_rsp (list of dicts or None), del_result (list of dicts),
    msgids (list of ints). Unknown fields are skipped."""
    answer = {"seqno": None, "cmd": None, "result": 0, "error": "", "pull_rsp": None,
              "batch_pull_rsp": None, "del_result": [], "msgids": []}
    for number, wire_type, value in iter_fields(data):
        if number == 1:
            _expect(wire_type, VARINT, "seqno")
            answer["seqno"] = signed(value, 64)
        elif number == 2:
            _expect(wire_type, VARINT, "cmd")
            answer["cmd"] = signed(value, 32)
        elif number == 3:
            _expect(wire_type, VARINT, "result")
            answer["result"] = signed(value, 32)
        elif number == 4:
            _expect(wire_type, LENGTH, "error")
            answer["error"] = value.decode("utf-8", "replace")
        elif number == 26:
            _expect(wire_type, LENGTH, "pull_rsp")
            answer["pull_rsp"] = decode_pull_msg(value)
        elif number == 27:
            _expect(wire_type, LENGTH, "batch_pull_rsp")
            msgs = answer["batch_pull_rsp"] if answer["batch_pull_rsp"] is not None else []
            for n, w, v in iter_fields(value):
                if n == 1:
                    _expect(w, LENGTH, "msg_list")
                    msgs.append(decode_pull_msg(v))
            answer["batch_pull_rsp"] = msgs
        elif number == 28:
            _expect(wire_type, LENGTH, "del_result")
            entry = {"receipt_handle": None, "err_code": None, "err_msg": ""}
            for n, w, v in iter_fields(value):
                if n == 1:
                    _expect(w, VARINT, "del_result.receipt_handle")
                    entry["receipt_handle"] = v
                elif n == 2:
                    _expect(w, VARINT, "del_result.err_code")
                    entry["err_code"] = signed(v, 32)
                elif n == 3:
                    _expect(w, LENGTH, "del_result.err_msg")
                    entry["err_msg"] = v.decode("utf-8", "replace")
            answer["del_result"].append(entry)
        elif number == 29:
            answer["msgids"].extend(_varints(wire_type, value))
    if answer["seqno"] is None or answer["cmd"] is None:
        raise TcpProtocolError("answer without seqno or cmd")
    return answer


# --- framing -------------------------------------------------------------------------------

def frame(message):
    return HEADER.pack(0, HEADER_SIZE + len(message)) + message


def read_frame(sock, deadline):
    """One frame's CMQProto bytes; raises on EOF, timeout or a bad header."""
    header = _read_exactly(sock, HEADER_SIZE, deadline)
    soh, total = HEADER.unpack(header)
    if soh != 0:
        raise TcpProtocolError(f"frame starts with {header[:2].hex()}, not 0000")
    if total < HEADER_SIZE or total > MAX_FRAME:
        raise TcpProtocolError(f"frame length {total}")
    return _read_exactly(sock, total - HEADER_SIZE, deadline)


def _read_exactly(sock, count, deadline):
    chunks, left = [], count
    while left > 0:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timed out")
        sock.settimeout(remaining)
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise ConnectionError("connection closed by the server")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# --- the connection ------------------------------------------------------------------------

def _as_bytes(body):
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


class TcpConnection:
    """One authenticated connection; one request at a time. Not thread-safe.

    Connects (and authenticates) lazily on the first call. Every call returns an Answer
    (result, error, payload) or raises an OSError, after which the connection is closed;
    the next call reconnects."""

    def __init__(self, host, port, timeout_s=5.0, secret_id="fault-test",
                 signature="fault-test", client_id="127.0.0.1@fault", signature_method="HmacSHA256",
                 idle_reconnect_s=30.0):
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self.auth = (secret_id, signature, client_id, signature_method)
        self.idle_reconnect_s = idle_reconnect_s  # the server closes a connection after 60 s idle
        self.sock = None
        self.seqno = 0
        self.last_used = 0.0

    # -- plumbing

    def connect(self):
        self.close()
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock = sock
            secret_id, signature, client_id, method = self.auth
            body = (field_bytes(1, secret_id) + field_bytes(2, signature) +
                    field_bytes(3, client_id) + field_bytes(4, method))
            answer = self._roundtrip(CMD_AUTH, 199, body, self.timeout_s)
            if answer["result"] not in (RESULT_OK, RESULT_ALREADY_AUTHED):
                raise TcpProtocolError(f"auth refused: {answer['result']} {answer['error']}")
        except BaseException:
            self.close()
            raise

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    def _stale(self):
        """True if the connection should not carry a new request: idle for long (the server
        may be closing it right now), or readable while nothing is in flight (EOF, reset)."""
        if time.monotonic() - self.last_used > self.idle_reconnect_s:
            return True
        try:
            self.sock.setblocking(False)
            try:
                return self.sock.recv(1, socket.MSG_PEEK) is not None
            finally:
                self.sock.setblocking(True)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True

    def _roundtrip(self, cmd, body_field, body, wait_s):
        self.seqno += 1
        seqno = self.seqno
        deadline = time.monotonic() + wait_s
        self.sock.settimeout(max(0.001, wait_s))
        self.sock.sendall(frame(encode_request(seqno, cmd, body_field, body)))
        while True:
            answer = decode_response(read_frame(self.sock, deadline))
            self.last_used = time.monotonic()
            if answer["seqno"] == seqno:
                return answer
            if answer["cmd"] == CMD_HEARTBEAT:
                continue  # a heartbeat answer or one the server sent on its own
            raise TcpProtocolError(f"answer to seqno {answer['seqno']} (cmd {answer['cmd']}), "
                                   f"expected {seqno}")

    def call(self, cmd, body_field, body, extra_wait_s=0.0):
        """Sends one command and returns its decoded answer (a dict, see decode_response).
        Raises OSError (and closes the connection) on any failure."""
        try:
            if self.sock is None or self._stale():
                self.connect()
            answer = self._roundtrip(cmd, body_field, body, self.timeout_s + extra_wait_s)
        except BaseException:
            self.close()
            raise
        if answer["result"] == RESULT_NOT_AUTHED:
            self.close()  # what the SDK does: reconnect and authenticate on the next call
        return answer

    # -- commands

    def send(self, queue_name, body, delay_seconds=None):
        fields = field_bytes(1, queue_name) + field_bytes(2, _as_bytes(body))
        if delay_seconds is not None:
            fields += field_varint(3, delay_seconds)
        a = self.call(CMD_SEND, 200, fields)
        return Answer(a["result"], a["error"], a["msgids"])

    def batch_send(self, queue_name, bodies, delay_seconds=None):
        fields = field_bytes(1, queue_name)
        fields += b"".join(field_bytes(2, _as_bytes(b)) for b in bodies)
        if delay_seconds is not None:
            fields += field_varint(3, delay_seconds)
        a = self.call(CMD_BATCH_SEND, 201, fields)
        return Answer(a["result"], a["error"], a["msgids"])

    def pull(self, queue_name, poll_wait_seconds=None):
        """payload: the message (a dict, see decode_pull_msg) or None."""
        fields = field_bytes(1, queue_name)
        if poll_wait_seconds is not None:
            fields += field_varint(2, poll_wait_seconds)
        a = self.call(CMD_PULL, 202, fields, extra_wait_s=poll_wait_seconds or 0)
        return Answer(a["result"], a["error"], a["pull_rsp"])

    def batch_pull(self, queue_name, num_msg, poll_wait_seconds=None):
        """payload: a list of messages (dicts)."""
        fields = field_bytes(1, queue_name) + field_varint(2, num_msg)
        if poll_wait_seconds is not None:
            fields += field_varint(3, poll_wait_seconds)
        a = self.call(CMD_BATCH_PULL, 204, fields, extra_wait_s=poll_wait_seconds or 0)
        return Answer(a["result"], a["error"], a["batch_pull_rsp"] or [])

    def delete(self, queue_name, receipt_handle):
        a = self.call(CMD_DELETE, 206, field_bytes(1, queue_name) +
                      field_varint(2, receipt_handle))
        return Answer(a["result"], a["error"], None)

    def batch_delete(self, queue_name, receipt_handles):
        """payload: the failed handles, [{receipt_handle, err_code, err_msg}]."""
        fields = field_bytes(1, queue_name)
        fields += b"".join(field_varint(2, h) for h in receipt_handles)  # unpacked, as the SDK
        a = self.call(CMD_BATCH_DELETE, 207, fields)
        return Answer(a["result"], a["error"], a["del_result"])

    def publish(self, topic_name, body, tags=()):
        fields = field_bytes(1, topic_name) + field_bytes(2, _as_bytes(body))
        fields += b"".join(field_bytes(3, t) for t in tags)
        a = self.call(CMD_PUBLISH, 208, fields)
        return Answer(a["result"], a["error"], a["msgids"])

    def batch_publish(self, topic_name, bodies, tags=()):
        fields = field_bytes(1, topic_name)
        fields += b"".join(field_bytes(2, _as_bytes(b)) for b in bodies)
        fields += b"".join(field_bytes(3, t) for t in tags)
        a = self.call(CMD_BATCH_PUBLISH, 209, fields)
        return Answer(a["result"], a["error"], a["msgids"])
