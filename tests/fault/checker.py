"""Checks a History after the queue was drained. Pure: no processes, no network.

What must hold (each violation fails the run):
  lost         every acknowledged send (its msgId) was received at least once;
  corrupted    every received body is exactly what its producer sent for that seq, names a
               seq that was sent, and matches the body acknowledged for its msgId; no msgId
               was acknowledged for two different sends;
  resurrected  no message is received by a receive that started after a delete of that
               message was acknowledged (a receive that started before the acknowledgement
               may legitimately return it: the visibility timeout can expire while the
               delete is in flight);
  progress     at least min_acked sends were acknowledged, and (if given) no gap between
               two acknowledged sends during the load phase was longer than
               max_unavailable_s.
What is allowed and only counted: duplicates (redeliveries of a msgId after its visibility
timeout, and extra msgIds for a body whose send was retried after an unknown outcome), and
sends with an unknown outcome that never arrived.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from clients import OK, UNKNOWN, body_digest, make_body

EXAMPLES = 5  # violations printed per kind


@dataclass
class Report:
    send_calls: int = 0
    send_calls_unknown: int = 0
    sends_acked: int = 0             # messages (not calls) acknowledged
    sends_unknown_only: int = 0      # bodies attempted, never acknowledged
    unknown_only_received: int = 0   # ... of which the queue delivered anyway
    deliveries: int = 0
    distinct_msg_ids: int = 0
    distinct_bodies: int = 0
    redeliveries: int = 0            # same msgId delivered again
    duplicate_msg_ids: int = 0       # extra msgIds for one body (retried sends)
    duplicates_delivered: int = 0    # deliveries beyond the first of each body
    deletes_acked: int = 0
    lost: int = 0
    lost_bodies: int = 0             # acknowledged bodies not received under any msgId
    corrupted: int = 0
    resurrected: int = 0
    max_unavailable_s: float = 0.0   # longest gap between acknowledged sends under load
    max_unavailable_from_s: float = 0.0
    # Per protocol ("http", "tcp"): send_calls, send_calls_unknown, sends_acked (messages),
    # deliveries, deletes_acked (by the protocol of a message's first acknowledged delete).
    protocols: dict = field(default_factory=lambda: {"http": Counter(), "tcp": Counter()})
    # Distinct msgIds received over the other protocol than their acknowledged send's:
    # "tcp->http" (sent over TCP, received over HTTP) and "http->tcp".
    cross_protocol: Counter = field(default_factory=Counter)
    examples: dict = field(default_factory=lambda: defaultdict(list))
    failures: list = field(default_factory=list)

    def example(self, kind, text):
        if len(self.examples[kind]) < EXAMPLES:
            self.examples[kind].append(text)


def check(history, min_acked=1, max_unavailable_s=None, load_window=None):
    """load_window: (start, end) monotonic times of the load phase, for the outage check.
    Times in the examples are seconds since history.t0."""
    report = Report()
    sends = _check_sends(history, report)
    received_ids, received_bodies = _check_receives(history, sends, report)
    _check_lost(history, sends, received_ids, received_bodies, report)
    _check_resurrections(history, report)
    _check_progress(history, report, min_acked, max_unavailable_s, load_window)
    return report


@dataclass
class _Sends:
    acked_by_msg_id: dict  # msgId -> (producer, seq, SendRecord)
    attempted: set         # every (producer, seq) sent at least once
    unknown_only: set      # ... never acknowledged
    # Published to the topic and acknowledged: (producer, seq) -> SendRecord. The queue's
    # copy has a msgId of its own (minted by the queue's group), so these are checked by body.
    acked_via_topic: dict = None


def _check_sends(history, report):
    """Indexes the acknowledged sends by msgId; flags a msgId acknowledged twice."""
    acked_by_msg_id, acked_via_topic = {}, {}
    acked_bodies, attempted = set(), set()
    for record in history.sends:
        per_protocol = report.protocols[_protocol(record)]
        report.send_calls += 1
        report.send_calls_unknown += record.outcome == UNKNOWN
        per_protocol["send_calls"] += 1
        per_protocol["send_calls_unknown"] += record.outcome == UNKNOWN
        keys = [(record.producer, seq) for seq in record.seqs]
        attempted.update(keys)
        if record.outcome != OK:
            continue
        for key, msg_id in zip(keys, record.msg_ids):
            report.sends_acked += 1
            per_protocol["sends_acked"] += 1
            acked_bodies.add(key)
            if record.via_topic:
                acked_via_topic.setdefault(key, record)
                continue
            previous = acked_by_msg_id.get(msg_id)
            if previous is not None and previous[:2] != key:
                report.corrupted += 1
                report.example("corrupted", f"msgId {msg_id} acknowledged for p{key[0]}-{key[1]} "
                               f"and for p{previous[0]}-{previous[1]}")
            acked_by_msg_id[msg_id] = (*key, record)
    sends = _Sends(acked_by_msg_id, attempted, attempted - acked_bodies, acked_via_topic)
    report.sends_unknown_only = len(sends.unknown_only)
    return sends


def _protocol(record):
    return "tcp" if getattr(record, "tcp", False) else "http"


def _check_receives(history, sends, report):
    key_of_msg_id = {}    # msgId -> the (producer, seq) its first good delivery named
    received_bodies = {}  # (producer, seq) -> the first msgId it arrived under
    crossed = {"tcp->http": set(), "http->tcp": set()}
    for record in history.receives:
        report.deliveries += 1
        report.protocols[_protocol(record)]["deliveries"] += 1
        new_msg_id = record.msg_id not in key_of_msg_id
        report.redeliveries += not new_msg_id
        problem, key = None, record.key
        if key is None:
            problem = "names no producer/seq"
        elif record.digest != body_digest(make_body(*key)):  # recomputed: memory is tighter
            problem = f"differs from what p{key[0]} sent for seq {key[1]}"
        elif key not in sends.attempted:
            problem = "was never sent"
        acked = sends.acked_by_msg_id.get(record.msg_id)
        if problem is None and acked is not None and acked[:2] != key:
            problem = (f"arrived under msgId {record.msg_id}, acknowledged for "
                       f"p{acked[0]}-{acked[1]}")
        if problem is None and key_of_msg_id.setdefault(record.msg_id, key) != key:
            problem = f"differs from an earlier delivery of msgId {record.msg_id}"
        if problem is not None:
            key_of_msg_id.setdefault(record.msg_id, None)  # it did arrive, if garbled
            report.corrupted += 1
            body = record.suspect_body
            shown = "" if body is None else (
                f" {body[:60]!r}{'...' if len(body) > 60 else ''} ({len(body)} chars)")
            report.example("corrupted", f"msgId {record.msg_id} from node {record.node}, "
                           f"received at +{record.t_end - history.t0:.3f} s: body{shown} {problem}")
            continue
        if received_bodies.setdefault(key, record.msg_id) != record.msg_id and new_msg_id:
            report.duplicate_msg_ids += 1  # this body again, under a msgId of its own
        sent = acked[2] if acked is not None else (sends.acked_via_topic or {}).get(key)
        if sent is not None and _protocol(sent) != _protocol(record):
            crossed[f"{_protocol(sent)}->{_protocol(record)}"].add(record.msg_id)
    report.cross_protocol.update({k: len(v) for k, v in crossed.items()})
    report.distinct_msg_ids = len(key_of_msg_id)
    report.distinct_bodies = len(received_bodies)
    report.duplicates_delivered = report.deliveries - report.corrupted - report.distinct_bodies
    report.unknown_only_received = len(sends.unknown_only & received_bodies.keys())
    return key_of_msg_id, received_bodies


def _check_lost(history, sends, received_ids, received_bodies, report):
    lost_bodies = set()
    for msg_id, (producer, seq, record) in sends.acked_by_msg_id.items():
        if msg_id in received_ids:
            continue
        report.lost += 1
        report.example("lost", f"msgId {msg_id} (p{producer}-{seq}) acknowledged by node "
                       f"{record.node} over {_protocol(record).upper()} at "
                       f"+{record.t_end - history.t0:.3f} s, never received")
        if (producer, seq) not in received_bodies:
            lost_bodies.add((producer, seq))
    for (producer, seq), record in (sends.acked_via_topic or {}).items():
        if (producer, seq) in received_bodies:
            continue
        report.lost += 1
        report.example("lost", f"p{producer}-{seq} published to the topic, acknowledged by node "
                       f"{record.node} over {_protocol(record).upper()} at "
                       f"+{record.t_end - history.t0:.3f} s, never received in the subscribed "
                       "queue")
        lost_bodies.add((producer, seq))
    report.lost_bodies = len(lost_bodies)


def _check_resurrections(history, report):
    first_ack = {}
    for ack in history.delete_acks:
        if ack.msg_id not in first_ack or ack.t_end < first_ack[ack.msg_id].t_end:
            first_ack[ack.msg_id] = ack
    report.deletes_acked = len(first_ack)
    for ack in first_ack.values():
        report.protocols[_protocol(ack)]["deletes_acked"] += 1
    resurrected = set()
    for record in history.receives:
        ack = first_ack.get(record.msg_id)
        if ack is not None and record.t_start > ack.t_end:
            if record.msg_id not in resurrected:
                report.example("resurrected", f"msgId {record.msg_id}: delete acknowledged by "
                               f"node {ack.node} over {_protocol(ack).upper()} at "
                               f"+{ack.t_end - history.t0:.3f} s, received again from node "
                               f"{record.node} over {_protocol(record).upper()} by a receive "
                               f"sent at +{record.t_start - history.t0:.3f} s")
            resurrected.add(record.msg_id)
    report.resurrected = len(resurrected)


def _check_progress(history, report, min_acked, max_unavailable_s, load_window):
    if load_window is not None:
        start, end = load_window
        acks = sorted(r.t_end for r in history.sends if r.outcome == OK and start <= r.t_end <= end)
        points = [start] + acks + [end]
        gaps = [(b - a, a) for a, b in zip(points, points[1:])]
        if gaps:
            gap, gap_start = max(gaps)
            report.max_unavailable_s = gap
            report.max_unavailable_from_s = gap_start - history.t0
    if report.lost:
        report.failures.append(f"{report.lost} acknowledged sends lost")
    if report.corrupted:
        report.failures.append(f"{report.corrupted} corrupted deliveries")
    if report.resurrected:
        report.failures.append(f"{report.resurrected} messages received after their delete "
                               f"was acknowledged")
    if report.sends_acked < min_acked:
        report.failures.append(f"only {report.sends_acked} sends acknowledged (minimum "
                               f"{min_acked}): the cluster made too little progress")
    if max_unavailable_s is not None and report.max_unavailable_s > max_unavailable_s:
        report.failures.append(
            f"no send acknowledged for {report.max_unavailable_s:.1f} s from "
            f"+{report.max_unavailable_from_s:.1f} s (limit {max_unavailable_s:.0f} s)")


def format_report(report, faults=None, history=None):
    """The summary printed at the end of a run."""
    lines = ["", "=== fault test summary ==="]
    if faults is not None:
        by_kind = ", ".join(f"{kind} {count}" for kind, count in sorted(faults.items()))
        lines.append(f"faults injected:          {sum(faults.values())} ({by_kind or 'none'})")
    lines += [
        f"sends acknowledged:       {report.sends_acked} messages",
        f"send calls:               {report.send_calls} ({report.send_calls_unknown} with "
        f"unknown outcome)",
        f"sends never acknowledged: {report.sends_unknown_only} messages "
        f"({report.unknown_only_received} of them delivered anyway)",
        f"deliveries:               {report.deliveries} ({report.distinct_msg_ids} msgIds, "
        f"{report.distinct_bodies} bodies)",
        f"duplicates delivered:     {report.duplicates_delivered} ({report.redeliveries} "
        f"redeliveries of a msgId, {report.duplicate_msg_ids} extra msgIds from retried sends)",
        f"deletes acknowledged:     {report.deletes_acked}",
        f"longest send outage:      {report.max_unavailable_s:.1f} s (from "
        f"+{report.max_unavailable_from_s:.1f} s)",
        f"LOST:                     {report.lost} ({report.lost_bodies} bodies not received "
        f"under any msgId)",
        f"CORRUPTED:                {report.corrupted}",
        f"RESURRECTED AFTER DELETE: {report.resurrected}",
    ]
    if any(report.protocols["tcp"].values()):
        for name in ("http", "tcp"):
            c = report.protocols[name]
            label = f"over {name.upper()}:"
            lines.append(f"{label:26s}{c['sends_acked']} sends "
                         f"acknowledged ({c['send_calls']} calls, {c['send_calls_unknown']} "
                         f"unknown), {c['deliveries']} deliveries, {c['deletes_acked']} "
                         f"deletes acknowledged")
        lines.append(f"across protocols:         {report.cross_protocol['tcp->http']} msgIds "
                     f"sent over TCP received over HTTP, {report.cross_protocol['http->tcp']} "
                     f"sent over HTTP received over TCP")
    if history is not None:
        if history.unknowns:
            lines.append(f"unknown outcomes:         {sum(history.unknowns.values())} calls:")
            for (action, why), count in history.unknowns.most_common(12):
                lines.append(f"  {count:6d} x {action}: {why}")
        lines.append(f"stale receipt handles:    {history.stale_handles}")
        if history.errors:
            lines.append("unexpected errors:")
            for (action, code, message), count in history.errors.most_common(10):
                lines.append(f"  {count:6d} x {action} -> {code} {message}")
    for kind, texts in report.examples.items():
        lines.append(f"{kind}, e.g.:")
        lines += [f"  {t}" for t in texts]
    return "\n".join(lines)
