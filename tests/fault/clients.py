"""Producers and consumers that talk CMQ to random nodes and record everything, over HTTP
or (tcp=True) over the CMQ TCP protocol (cmq_tcp.py, straight to each node's --tcp port).

Every call has a timeout. Its outcome is one of:
  OK       code 0 (or 7000 "no message" for a receive, 6010 for a partial batch delete);
           over TCP result 0 (10200 "no message" for a pull, 6010 for a partial batch
           delete). A send is acknowledged only with its msgId(s), one per body;
  UNKNOWN  the connection failed or timed out, the answer was not JSON (over TCP: not a
           well-formed frame answering the request), or code 6000 (the cluster says: retry,
           e.g. during a leader change; over TCP also 306 "not authenticated", after which
           the connection is replaced). The request may or may not have taken effect, so a
           producer retries the same bodies (a duplicate is allowed: delivery is
           at-least-once) and the checker never counts an unknown send as lost;
  ERROR    any other code: a definite refusal, which a correct cluster should not give to
           these well-formed requests. Counted and shown in the summary.

Message ids and receipt handles are numbers over TCP and decimal strings over HTTP; the
history stores msgIds as ints either way (msg_id_key), so the checker matches a message
sent over one protocol and received over the other.

Bodies identify themselves: "p<producer>-<seq>-<padding>", where the padding is a pure
function of (producer, seq). So the checker can tell a corrupted body from a good one
without storing what was sent.
"""

import hashlib
import http.client
import json
import random
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field

import cmq_tcp

OK, UNKNOWN, ERROR = "ok", "unknown", "error"
CODE_OK = 0
CODE_RETRY = 6000          # internal/unavailable: the request may or may not have applied
CODE_PARTIAL_DELETE = 6010
CODE_NO_MESSAGE = 7000
CODE_INVALID_HANDLE = 4430  # receipt handle expired, superseded or already used
TCP_NO_MESSAGE = cmq_tcp.RESULT_NO_MESSAGE  # 10200: an empty pull over TCP
TCP_NOT_AUTHED = cmq_tcp.RESULT_NOT_AUTHED  # 306: the SDK reconnects and retries
PATH = "/v2/index.php"

# Padding characters: form-encoding and JSON-escaping specials, 2-, 3- and 4-byte UTF-8.
_PAD_ALPHABET = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                 " &=%+?#\"\\/\n\t\u00e9\u00df\u20ac\u4e2d\U0001f600")
_ASCII_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def make_body(producer, seq):
    """The body for (producer, seq): mostly short, sometimes a few KB, rarely ~12 KB
    (under the default 64 KiB maxMsgSize even in 4-byte characters)."""
    rng = random.Random(f"body/{producer}/{seq}")
    roll = rng.random()
    if roll < 0.90:
        padding = "".join(rng.choices(_PAD_ALPHABET, k=rng.randint(0, 200)))
    elif roll < 0.99:
        padding = "".join(rng.choices(_PAD_ALPHABET, k=rng.randint(200, 4000)))
    else:
        padding = "".join(rng.choices(_ASCII_ALPHABET, k=rng.randint(4000, 12000)))
    return f"p{producer}-{seq}-{padding}"


def parse_body(body):
    """(producer, seq) named by a body, or None if it names nothing."""
    if not isinstance(body, str) or not body.startswith("p"):
        return None
    parts = body[1:].split("-", 2)
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    return int(parts[0]), int(parts[1])


@dataclass
class Reply:
    outcome: str
    code: int = -1
    data: dict = field(default_factory=dict)
    detail: str = ""
    node: int = 0
    t_start: float = 0.0
    t_end: float = 0.0


class _NodeConnections:
    """One connection per node, opened on first use, for one thread: what the HTTP and the
    TCP clients share."""

    def __init__(self, ports, timeout_s):
        self.ports = dict(ports)
        self.timeout_s = timeout_s
        self._connections = {}

    def close(self, node=None):
        nodes = [node] if node is not None else list(self._connections)
        for n in nodes:
            connection = self._connections.pop(n, None)
            if connection is not None:
                connection.close()

    @staticmethod
    def _failed(reply, error):
        """The reply to a call whose connection failed: outcome unknown, code -1."""
        reply.t_end = time.monotonic()
        reply.code = -1
        reply.detail = ("timeout" if isinstance(error, TimeoutError)
                        else f"{type(error).__name__}: {error}")
        return reply


class CmqHttp(_NodeConnections):
    """A keep-alive HTTP client to every node, for one thread (not thread-safe)."""

    def call(self, node, action, params):
        body = urllib.parse.urlencode([("Action", action)] + list(params))
        reply = Reply(UNKNOWN, node=node, t_start=time.monotonic())
        connection = self._connections.get(node)
        try:
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", self.ports[node],
                                                        timeout=self.timeout_s)
                self._connections[node] = connection
            connection.request("POST", PATH, body=body,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
            response = connection.getresponse()
            raw = response.read()
            if response.status != 200:
                raise http.client.HTTPException(f"HTTP status {response.status}")
            reply.data = json.loads(raw)
            reply.code = int(reply.data["code"])
        except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError) as error:
            # A failed connection is never reused: its state (half-read answer) is unknown.
            self.close(node)
            return self._failed(reply, error)
        reply.t_end = time.monotonic()
        reply.detail = str(reply.data.get("message", ""))
        if reply.code in (CODE_OK, CODE_NO_MESSAGE, CODE_PARTIAL_DELETE):
            reply.outcome = OK
        elif reply.code == CODE_RETRY:
            reply.outcome = UNKNOWN
        else:
            reply.outcome = ERROR
        return reply



class CmqTcp(_NodeConnections):
    """A CMQ TCP connection to every node (its --tcp port, not proxied), for one thread.
    call() returns a Reply like CmqHttp.call(): code is the answer's result, data
    {"payload": ...} what the command answers (cmq_tcp.TcpConnection)."""

    def call(self, node, method, *args, **kwargs):
        reply = Reply(UNKNOWN, node=node, t_start=time.monotonic())
        connection = self._connections.get(node)
        if connection is None:
            connection = cmq_tcp.TcpConnection("127.0.0.1", self.ports[node],
                                               timeout_s=self.timeout_s)
            self._connections[node] = connection
        try:
            result, error, payload = getattr(connection, method)(*args, **kwargs)
        except OSError as error:  # also TimeoutError, TcpProtocolError; the connection closed
            return self._failed(reply, error)
        reply.t_end = time.monotonic()
        reply.code, reply.detail, reply.data = result, error, {"payload": payload}
        if result in (CODE_OK, TCP_NO_MESSAGE, CODE_PARTIAL_DELETE):
            reply.outcome = OK
        elif result in (CODE_RETRY, TCP_NOT_AUTHED):
            reply.outcome = UNKNOWN
        else:
            reply.outcome = ERROR
        return reply



def tcp_message_info(message):
    """A pulled message (cmq_tcp) in the shape of an HTTP msgInfo: the body as text (bytes
    that are not UTF-8 become U+FFFD, which the checker then finds corrupted)."""
    return {"msgId": message["msg_id"], "receiptHandle": message["receipt_handle"],
            "msgBody": message.get("msg_body", b"").decode("utf-8", "replace")}


class Backoff:
    """Exponential backoff with jitter, interruptible by an Event."""

    def __init__(self, rng, first_s=0.05, max_s=1.0):
        self.rng, self.first_s, self.max_s = rng, first_s, max_s
        self.next_s = first_s

    def reset(self):
        self.next_s = self.first_s

    def wait(self, stop_event):
        delay = self.rng.uniform(self.next_s / 2, self.next_s)
        self.next_s = min(self.max_s, self.next_s * 2)
        stop_event.wait(delay)


# --- what happened ------------------------------------------------------------------------

# Records are kept small: a 600 s run delivers hundreds of thousands of messages. msgIds
# (decimal uint64 strings) are stored as ints, bodies as a 64-bit digest.

def msg_id_key(msg_id):
    text = str(msg_id)
    return int(text) if text.isdigit() else text


def body_digest(body):
    return hashlib.blake2b(body.encode("utf-8", "surrogatepass"), digest_size=8).digest()


@dataclass(slots=True)
class SendRecord:
    producer: int
    seqs: range
    node: int
    t_start: float
    t_end: float
    outcome: str
    msg_ids: tuple = ()  # in the order of seqs, when outcome is OK
    via_topic: bool = False  # published to the topic: msg_ids are the topic's, not the queue's
    tcp: bool = False  # sent over the CMQ TCP protocol, not HTTP


@dataclass(slots=True)
class ReceiveRecord:
    """One delivered message. The body is kept as its digest and the (producer, seq) it
    names; the full text is kept only when it is not what that producer sent, so that the
    report can show it (the checker decides from the digest alone)."""
    consumer: int
    node: int
    t_start: float  # when the receive request was sent: a redelivery "starts" here
    t_end: float
    msg_id: object
    key: tuple      # (producer, seq) named by the body, or None
    digest: bytes
    suspect_body: str = None
    tcp: bool = False  # received over the CMQ TCP protocol, not HTTP

    @staticmethod
    def of(consumer, reply, info, tcp=False):
        body = info["msgBody"]
        if not isinstance(body, str):
            raise TypeError("msgBody is not a string")
        key = parse_body(body)
        digest = body_digest(body)
        suspect = key is None or digest != body_digest(make_body(*key))
        return ReceiveRecord(consumer, reply.node, reply.t_start, reply.t_end,
                             msg_id_key(info["msgId"]), key, digest,
                             body if suspect else None, tcp)


@dataclass(slots=True)
class DeleteRecord:
    consumer: int
    node: int
    t_start: float
    t_end: float  # the acknowledgement is known to the client from here on
    msg_id: object
    tcp: bool = False  # deleted over the CMQ TCP protocol, not HTTP


class History:
    """Everything the clients saw, appended from many threads, read by the checker."""

    def __init__(self):
        self._lock = threading.Lock()
        self.sends = []         # every attempt, whatever its outcome
        self.receives = []      # every message received
        self.delete_acks = []   # every message whose delete was acknowledged
        self.errors = Counter()  # (action, code, message) of definite errors
        self.unknowns = Counter()  # (action, why) of calls with an unknown outcome
        self.stale_handles = 0     # deletes refused because the handle was no longer valid
        self.t0 = time.monotonic()  # the run's start: times in reports are relative to it
        self.last_receive_t = self.t0

    def add_send(self, record):
        with self._lock:
            self.sends.append(record)

    def add_receives(self, records):
        with self._lock:
            self.receives.extend(records)
            if records:
                self.last_receive_t = max(self.last_receive_t, records[-1].t_end)

    def add_delete_acks(self, records):
        with self._lock:
            self.delete_acks.extend(records)

    def count_stale_handles(self, count):
        with self._lock:
            self.stale_handles += count

    def note(self, action, reply):
        if reply.outcome == UNKNOWN:
            why = reply.detail[:90] if reply.code < 0 else f"{reply.code} {reply.detail[:90]}"
            with self._lock:
                self.unknowns[(action, why)] += 1
        elif reply.outcome == ERROR:
            with self._lock:
                self.errors[(action, reply.code, reply.detail[:80])] += 1


# --- clients ------------------------------------------------------------------------------

class Producer(threading.Thread):
    """Sends fresh bodies until stopped; retries a batch until its outcome is known.
    rate: messages per second this producer starts at most (0: as fast as it can).
    ports: the nodes' HTTP ports, or with tcp=True their CMQ TCP ports."""

    MAX_DEFINITE_ERRORS = 5  # then the bodies are given up (they were refused, not lost)

    def __init__(self, producer_id, ports, queue, history, stop_event, seed, timeout_s,
                 rate=0.0, topic=None, tcp=False):
        super().__init__(name=f"producer-{producer_id}", daemon=True)
        self.producer_id = producer_id
        self.queue = queue
        self.topic = topic  # publish to this topic (subscribed by the queue) instead
        self.history = history
        self.stop_event = stop_event
        self.rng = random.Random(f"{seed}/producer/{producer_id}")
        self.tcp = tcp
        self.client = CmqTcp(ports, timeout_s) if tcp else CmqHttp(ports, timeout_s)
        self.nodes = sorted(ports)
        self.next_seq = 1
        self.rate = rate

    def run(self):
        next_start = time.monotonic()
        try:
            while not self.stop_event.is_set():
                count = 1 if self.rng.random() < 0.5 else self.rng.randint(2, 16)
                if self.rate > 0:
                    # Pacing by a schedule, not a sleep per batch: time lost in an outage
                    # is not made up with a burst (the schedule restarts from now).
                    now = time.monotonic()
                    if self.stop_event.wait(max(0.0, next_start - now)):
                        break
                    next_start = max(next_start, now) + count / self.rate
                seqs = range(self.next_seq, self.next_seq + count)
                self.next_seq += count
                self._send_until_known(seqs, use_batch=count > 1 or self.rng.random() < 0.2)
        finally:
            self.client.close()

    def _send_until_known(self, seqs, use_batch):
        backoff = Backoff(self.rng)
        definite_errors = 0
        while True:
            node = self.rng.choice(self.nodes)
            if self.tcp:
                action, reply = self._call_tcp(node, seqs, use_batch)
            else:
                action, reply = self._call_http(node, seqs, use_batch)
            msg_ids = ()
            if reply.outcome == OK:
                msg_ids = (self._tcp_msg_ids(reply, len(seqs)) if self.tcp
                           else self._msg_ids(reply, action, len(seqs)))
                if msg_ids is None:  # a success without the ids breaks the protocol
                    reply.outcome, reply.detail = ERROR, "code 0 without msgId(s)"
                    msg_ids = ()
            self.history.add_send(SendRecord(self.producer_id, seqs, node, reply.t_start,
                                             reply.t_end, reply.outcome, msg_ids,
                                             via_topic=self.topic is not None, tcp=self.tcp))
            self.history.note(action, reply)
            if reply.outcome == OK:
                return
            if reply.outcome == ERROR:
                definite_errors += 1
                if definite_errors >= self.MAX_DEFINITE_ERRORS:
                    return
            if self.stop_event.is_set():
                return  # the outcome stays unknown: never counted as lost
            backoff.wait(self.stop_event)

    def _call_http(self, node, seqs, use_batch):
        target = [("topicName", self.topic)] if self.topic else [("queueName", self.queue)]
        if use_batch:
            params = target + [(f"msgBody.{i + 1}", make_body(self.producer_id, s))
                               for i, s in enumerate(seqs)]
            action = "BatchPublishMessage" if self.topic else "BatchSendMessage"
        else:
            params = target + [("msgBody", make_body(self.producer_id, seqs[0]))]
            action = "PublishMessage" if self.topic else "SendMessage"
        if not self.topic:
            params.append(("delaySeconds", "0"))
        return action, self.client.call(node, action, params)

    def _call_tcp(self, node, seqs, use_batch):
        bodies = [make_body(self.producer_id, s) for s in seqs]
        if self.topic:
            if use_batch:
                return "tcp BatchPublish", self.client.call(node, "batch_publish", self.topic,
                                                            bodies)
            return "tcp Publish", self.client.call(node, "publish", self.topic, bodies[0])
        if use_batch:
            return "tcp BatchSend", self.client.call(node, "batch_send", self.queue, bodies,
                                                     delay_seconds=0)
        return "tcp Send", self.client.call(node, "send", self.queue, bodies[0],
                                            delay_seconds=0)

    @staticmethod
    def _tcp_msg_ids(reply, count):
        """The msgids of a TCP answer, one per body, all non-zero (the server fills 0 for an
        id it does not have), or None."""
        ids = tuple(msg_id_key(i) for i in reply.data.get("payload") or ())
        return ids if len(ids) == count and all(ids) else None

    @staticmethod
    def _msg_ids(reply, action, count):
        try:
            if action in ("SendMessage", "PublishMessage"):
                return (msg_id_key(reply.data["msgId"]),)
            ids = tuple(msg_id_key(m["msgId"]) for m in reply.data["msgList"])
            return ids if len(ids) == count else None
        except (KeyError, TypeError):
            return None


class Consumer(threading.Thread):
    """Receives (mostly in batches) from random nodes and deletes what it got, until
    stopped. abandon_probability: how often it 'crashes' after a receive and deletes
    nothing, so that the messages come back after the visibility timeout."""

    DELETE_ATTEMPTS = 3

    def __init__(self, consumer_id, ports, queue, history, stop_event, seed, timeout_s,
                 polling_wait_s=1, abandon_probability=0.02, tcp=False):
        super().__init__(name=f"consumer-{consumer_id}", daemon=True)
        self.consumer_id = consumer_id
        self.queue = queue
        self.history = history
        self.stop_event = stop_event
        self.rng = random.Random(f"{seed}/consumer/{consumer_id}")
        self.tcp = tcp  # ports are then the nodes' CMQ TCP ports
        self.client = CmqTcp(ports, timeout_s) if tcp else CmqHttp(ports, timeout_s)
        self.nodes = sorted(ports)
        self.polling_wait_s = polling_wait_s
        self.abandon_probability = abandon_probability
        self.empty_rounds = 0

    def run(self):
        backoff = Backoff(self.rng)
        try:
            while not self.stop_event.is_set():
                messages, reply = self._receive_batch()
                if reply.outcome != OK:
                    backoff.wait(self.stop_event)
                    continue
                backoff.reset()
                if not messages:
                    self.empty_rounds += 1
                    continue
                if self.rng.random() < self.abandon_probability:
                    continue
                self._delete_batch(messages)
        finally:
            self.client.close()

    def _receive_batch(self):
        node = self.rng.choice(self.nodes)
        single = self.rng.random() < 0.1
        if self.tcp:
            action = "tcp Pull" if single else "tcp BatchPull"
            if single:
                reply = self.client.call(node, "pull", self.queue,
                                         poll_wait_seconds=self.polling_wait_s)
            else:
                reply = self.client.call(node, "batch_pull", self.queue, 16,
                                         poll_wait_seconds=self.polling_wait_s)
        else:
            action = "ReceiveMessage" if single else "BatchReceiveMessage"
            params = [("queueName", self.queue),
                      ("pollingWaitSeconds", str(self.polling_wait_s))]
            if not single:
                params.append(("numOfMsg", "16"))
            reply = self.client.call(node, action, params)
        self.history.note(action, reply)
        if reply.outcome != OK or reply.code in (CODE_NO_MESSAGE, TCP_NO_MESSAGE):
            return [], reply
        try:
            if self.tcp:
                payload = reply.data["payload"]
                messages = [payload] if single else list(payload)
                if not messages or None in messages:
                    raise ValueError("result 0 without a message")
                infos = [tcp_message_info(m) for m in messages]
            else:
                infos = [reply.data] if single else list(reply.data["msgInfoList"])
            records = [ReceiveRecord.of(self.consumer_id, reply, info, self.tcp)
                       for info in infos]
            handles = [self._handle(info["receiptHandle"]) for info in infos]
        except (KeyError, TypeError, ValueError):
            reply.outcome, reply.detail = ERROR, "malformed receive answer"
            self.history.note(action, reply)
            return [], reply
        self.history.add_receives(records)
        return list(zip(handles, records)), reply

    def _handle(self, handle):
        """A receipt handle as this protocol sends it back: an int over TCP, else a str."""
        if self.tcp:
            if not isinstance(handle, int):
                raise TypeError("receipt handle is not a number")
            return handle
        return str(handle)

    def _delete_batch(self, messages):
        """Deletes by receipt handle; retries handles whose fate is unknown a few times
        (a handle deleted by an attempt whose answer was lost then reads as invalid, so
        that message is simply never acknowledged: the checker stays conservative)."""
        pending = dict(messages)  # handle -> ReceiveRecord
        for _ in range(self.DELETE_ATTEMPTS):
            if not pending or self.stop_event.is_set():
                return
            node = self.rng.choice(self.nodes)
            handles = list(pending)
            single = len(handles) == 1 and self.rng.random() < 0.5
            if self.tcp:
                action = "tcp Delete" if single else "tcp BatchDelete"
                if single:
                    reply = self.client.call(node, "delete", self.queue, handles[0])
                else:
                    reply = self.client.call(node, "batch_delete", self.queue, handles)
            elif single:
                action = "DeleteMessage"
                params = [("queueName", self.queue), ("receiptHandle", handles[0])]
                reply = self.client.call(node, action, params)
            else:
                action = "BatchDeleteMessage"
                params = [("queueName", self.queue)]
                params += [(f"receiptHandle.{i + 1}", h) for i, h in enumerate(handles)]
                reply = self.client.call(node, action, params)
            if single and reply.code == CODE_INVALID_HANDLE:
                # Expected now and then: the visibility timeout ran out, or an earlier
                # attempt whose answer was lost already deleted it.
                self.history.count_stale_handles(1)
                return
            self.history.note(action, reply)
            if reply.outcome == ERROR:
                return
            if reply.outcome == UNKNOWN:
                time.sleep(self.rng.uniform(0.05, 0.3))
                continue
            failed, retry = set(), set()
            if reply.code == CODE_PARTIAL_DELETE:
                if self.tcp:  # del_result: the failed handles only
                    entries = [(e.get("receipt_handle"), e.get("err_code"))
                               for e in reply.data.get("payload") or ()]
                else:
                    entries = [(str(e.get("receiptHandle")), e.get("code"))
                               for e in reply.data.get("errorList", [])]
                for handle, code in entries:
                    (retry if code == CODE_RETRY else failed).add(handle)
                self.history.count_stale_handles(len(failed))
            acked = [record for handle, record in pending.items()
                     if handle not in failed and handle not in retry]
            self.history.add_delete_acks([DeleteRecord(self.consumer_id, node, reply.t_start,
                                                       reply.t_end, r.msg_id, self.tcp)
                                          for r in acked])
            pending = {h: r for h, r in pending.items() if h in retry}


class ClusterUnavailableError(RuntimeError):
    """The cluster did not serve a request it must serve (with no fault injected)."""


def create_queue(ports, queue, visibility_timeout_s, timeout_s, deadline_s=60.0):
    """Creates the test queue, retrying through elections. 4460 (already exists) is success:
    an earlier attempt whose answer was lost may have created it."""
    client = CmqHttp(ports, timeout_s)
    stop = threading.Event()
    backoff = Backoff(random.Random(0), max_s=0.5)
    deadline = time.monotonic() + deadline_s
    last = None
    try:
        while time.monotonic() < deadline:
            for node in sorted(ports):
                last = client.call(node, "CreateQueue",
                                   [("queueName", queue),
                                    ("visibilityTimeout", str(visibility_timeout_s))])
                if last.outcome == OK or last.code == 4460:
                    return
                backoff.wait(stop)
    finally:
        client.close()
    raise ClusterUnavailableError(f"CreateQueue {queue} failed for {deadline_s:.0f} s: "
                       f"{last.outcome} {last.code} {last.detail}")


def create_topic_feeding(ports, topic, queue, timeout_s, deadline_s=60.0):
    """Creates the topic and a subscription that feeds the queue, retrying through
    elections (4460 topic exists, 4490 subscription exists: an earlier attempt's lost
    answer)."""
    client = CmqHttp(ports, timeout_s)
    stop = threading.Event()
    backoff = Backoff(random.Random(0), max_s=0.5)
    deadline = time.monotonic() + deadline_s
    steps = [("CreateTopic", [("topicName", topic)], 4460),
             ("Subscribe", [("topicName", topic), ("subscriptionName", "to-" + queue),
                            ("protocol", "queue"), ("endpoint", queue)], 4490)]
    last = None
    try:
        for action, params, exists in steps:
            while True:
                if time.monotonic() > deadline:
                    raise ClusterUnavailableError(f"{action} {topic} failed for {deadline_s:.0f} s: "
                                                  f"{last.outcome} {last.code} {last.detail}")
                last = client.call(random.choice(sorted(ports)), action, params)
                if last.outcome == OK or last.code == exists:
                    break
                backoff.wait(stop)
    finally:
        client.close()


def queue_attributes(ports, queue, timeout_s, attempts=20):
    """GetQueueAttributes from any node that answers, or None."""
    client = CmqHttp(ports, timeout_s)
    try:
        for attempt in range(attempts):
            node = sorted(ports)[attempt % len(ports)]
            reply = client.call(node, "GetQueueAttributes", [("queueName", queue)])
            if reply.outcome == OK:
                return reply.data
            time.sleep(0.3)
    finally:
        client.close()
    return None


def group_of_msg_id(msg_id):
    """The data group that minted a message id (its top 16 bits), or None."""
    try:
        return int(msg_id) >> 48 or None
    except (TypeError, ValueError):
        return None


def cluster_leader(ports, timeout_s=1.0, group=1):
    """The node id of the leader of data group `group` as some node reports it
    (ClusterStatus, OpenCMQ's own action), or None if no node knows one right now."""
    client = CmqHttp(ports, timeout_s)
    try:
        for node in random.sample(sorted(ports), len(ports)):
            reply = client.call(node, "ClusterStatus", [])
            if reply.outcome != OK:
                continue
            try:
                leader = next(int(g["leaderId"]) for g in reply.data["groups"]
                              if int(g.get("groupId", 1)) == group)
            except (KeyError, IndexError, TypeError, ValueError, StopIteration):
                continue
            if leader in ports:
                return leader
    finally:
        client.close()
    return None
