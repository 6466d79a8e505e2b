"""The checker on hand-made histories: it must catch each violation and allow what is
allowed (duplicates, redelivery before a delete is acknowledged, unknown sends).

  python3 -m unittest discover -s tests/fault -p 'test_*.py'
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from checker import check, format_report  # noqa: E402
from clients import (OK, UNKNOWN, DeleteRecord, History, ReceiveRecord, Reply,  # noqa: E402
                     SendRecord, make_body, msg_id_key, parse_body)


class _Builder:
    """A History written in a few words: send(), receive(), delete()."""

    def __init__(self):
        self.history = History()
        self.history.t0 = 0.0

    def send(self, producer, seqs, msg_ids, t, outcome=OK, via_topic=False, tcp=False):
        # Over TCP msgIds are numbers, over HTTP decimal strings: msg_id_key makes both ints.
        ids = tuple(msg_id_key(m if tcp else str(m)) for m in msg_ids) if outcome == OK else ()
        self.history.add_send(SendRecord(producer, range(seqs[0], seqs[0] + len(seqs)), 1,
                                         t - 0.01, t, outcome, ids, via_topic=via_topic,
                                         tcp=tcp))

    def receive(self, msg_id, body, t_start, t_end=None, tcp=False):
        reply = Reply(OK, node=2, t_start=t_start, t_end=t_end or t_start + 0.01)
        self.history.add_receives([ReceiveRecord.of(1, reply, {"msgId": msg_id if tcp
                                                               else str(msg_id),
                                                               "msgBody": body}, tcp)])

    def delete(self, msg_id, t_end, tcp=False):
        self.history.add_delete_acks([DeleteRecord(1, 3, t_end - 0.01, t_end, msg_id, tcp)])

    def check(self, **kwargs):
        return check(self.history, **kwargs)


class BodyTest(unittest.TestCase):
    def test_bodies_name_their_producer_and_seq_and_are_deterministic(self):
        body = make_body(3, 77)
        self.assertEqual(parse_body(body), (3, 77))
        self.assertEqual(body, make_body(3, 77))
        self.assertNotEqual(body, make_body(3, 78))
        self.assertIsNone(parse_body("hello"))
        self.assertIsNone(parse_body("px-1-"))


class CheckerTest(unittest.TestCase):
    def test_a_clean_history_passes(self):
        b = _Builder()
        b.send(1, [1, 2], [101, 102], t=1.0)
        b.receive(101, make_body(1, 1), 2.0)
        b.receive(102, make_body(1, 2), 2.0)
        b.delete(101, 3.0)
        b.delete(102, 3.0)
        report = b.check()
        self.assertEqual(report.failures, [])
        self.assertEqual((report.sends_acked, report.deliveries, report.deletes_acked), (2, 2, 2))
        self.assertIn("LOST:                     0", format_report(report, {"kill": 1}, b.history))

    def test_an_acknowledged_send_never_received_is_lost(self):
        b = _Builder()
        b.send(1, [1, 2], [101, 102], t=1.0)
        b.receive(101, make_body(1, 1), 2.0)
        report = b.check()
        self.assertEqual(report.lost, 1)
        self.assertEqual(report.lost_bodies, 1)
        self.assertIn("102", report.examples["lost"][0])
        self.assertTrue(report.failures)

    def test_a_topic_publish_is_matched_by_body_not_by_msg_id(self):
        # A copy delivered into the queue has a msgId of the queue's group, not the one the
        # publish was acknowledged with: found by its body, it is neither lost nor corrupted.
        b = _Builder()
        b.send(2, [1, 2], [9001, 9002], t=1.0, via_topic=True)
        b.receive(501, make_body(2, 1), 2.0)
        report = b.check()
        self.assertEqual(report.corrupted, 0)
        self.assertEqual(report.lost, 1)  # seq 2's copy never arrived
        self.assertEqual(report.lost_bodies, 1)
        self.assertIn("p2-2 published to the topic", report.examples["lost"][0])
        b.receive(502, make_body(2, 2), 3.0)
        b.receive(503, make_body(2, 2), 4.0)  # delivered twice: a duplicate, not a failure
        report = b.check()
        self.assertEqual(report.failures, [])
        self.assertEqual(report.lost, 0)
        self.assertEqual(report.duplicates_delivered, 1)

    def test_a_lost_msg_id_counts_even_if_a_retried_copy_arrived(self):
        # Attempt 1 timed out but was stored as 100; the retry was acknowledged as 101,
        # which then vanished: 101 is lost although the body arrived (as 100).
        b = _Builder()
        b.send(1, [1], [], t=1.0, outcome=UNKNOWN)
        b.send(1, [1], [101], t=2.0)
        b.receive(100, make_body(1, 1), 3.0)
        report = b.check()
        self.assertEqual((report.lost, report.lost_bodies), (1, 0))

    def test_an_unknown_send_never_received_is_not_lost(self):
        b = _Builder()
        b.send(1, [1], [], t=1.0, outcome=UNKNOWN)
        report = b.check()
        self.assertEqual(report.lost, 0)
        self.assertEqual(report.sends_unknown_only, 1)
        self.assertEqual(report.failures, [f"only 0 sends acknowledged (minimum 1): the cluster "
                                           f"made too little progress"])

    def test_a_changed_body_is_corrupted(self):
        b = _Builder()
        b.send(1, [1], [101], t=1.0)
        b.receive(101, make_body(1, 1)[:-1] + "#", 2.0)
        report = b.check()
        self.assertEqual(report.corrupted, 1)
        self.assertEqual(report.lost, 0)  # the msgId did arrive
        self.assertIn("differs", report.examples["corrupted"][0])

    def test_a_body_under_another_messages_msg_id_is_corrupted(self):
        b = _Builder()
        b.send(1, [1, 2], [101, 102], t=1.0)
        b.receive(101, make_body(1, 2), 2.0)
        b.receive(102, make_body(1, 2), 2.0)
        self.assertEqual(b.check().corrupted, 1)

    def test_garbage_and_never_sent_bodies_are_corrupted(self):
        b = _Builder()
        b.send(1, [1], [101], t=1.0)
        b.receive(101, make_body(1, 1), 2.0)
        b.receive(555, "not a test body", 2.0)
        b.receive(556, make_body(9, 9), 2.0)
        report = b.check()
        self.assertEqual(report.corrupted, 2)
        self.assertIn("not a test body", "".join(report.examples["corrupted"]))

    def test_one_msg_id_acknowledged_for_two_sends_is_corrupted(self):
        b = _Builder()
        b.send(1, [1], [101], t=1.0)
        b.send(2, [1], [101], t=1.0)
        b.receive(101, make_body(1, 1), 2.0)
        self.assertGreaterEqual(b.check().corrupted, 1)

    def test_a_receive_started_after_the_delete_ack_is_a_resurrection(self):
        b = _Builder()
        b.send(1, [1], [101], t=1.0)
        b.receive(101, make_body(1, 1), 2.0)
        b.delete(101, 3.0)
        b.receive(101, make_body(1, 1), 4.0)
        report = b.check()
        self.assertEqual(report.resurrected, 1)
        self.assertTrue(any("after their delete" in f for f in report.failures))

    def test_a_redelivery_that_started_before_the_delete_ack_is_allowed(self):
        # The visibility timeout expired while the delete was in flight.
        b = _Builder()
        b.send(1, [1], [101], t=1.0)
        b.receive(101, make_body(1, 1), 2.0)
        b.receive(101, make_body(1, 1), t_start=2.9, t_end=3.5)
        b.delete(101, 3.0)
        report = b.check()
        self.assertEqual(report.failures, [])
        self.assertEqual((report.resurrected, report.redeliveries, report.duplicates_delivered),
                         (0, 1, 1))

    def test_duplicates_from_retried_sends_are_counted_not_failed(self):
        b = _Builder()
        b.send(1, [1], [], t=1.0, outcome=UNKNOWN)
        b.send(1, [1], [102], t=2.0)
        b.receive(101, make_body(1, 1), 3.0)
        b.receive(102, make_body(1, 1), 3.0)
        report = b.check()
        self.assertEqual(report.failures, [])
        self.assertEqual((report.duplicate_msg_ids, report.duplicates_delivered), (1, 1))

    def test_too_few_acknowledged_sends_fail(self):
        b = _Builder()
        b.send(1, [1], [101], t=1.0)
        b.receive(101, make_body(1, 1), 2.0)
        self.assertTrue(b.check(min_acked=2).failures)

    def test_a_long_outage_under_load_fails(self):
        b = _Builder()
        for i, t in enumerate([1.0, 2.0, 40.0, 41.0]):
            b.send(1, [i + 1], [100 + i], t=t)
            b.receive(100 + i, make_body(1, i + 1), t + 1)
        report = b.check(max_unavailable_s=30, load_window=(0.0, 42.0))
        self.assertAlmostEqual(report.max_unavailable_s, 38.0)
        self.assertTrue(any("no send acknowledged for 38.0 s" in f for f in report.failures))
        self.assertEqual(b.check(max_unavailable_s=60, load_window=(0.0, 42.0)).failures, [])

    def test_messages_cross_protocols_by_msg_id(self):
        # Sent over TCP (numeric ids), received over HTTP (decimal strings), and back.
        big = (3 << 48) + 12345678901
        b = _Builder()
        b.send(1, [1, 2], [big, big + 1], t=1.0, tcp=True)
        b.send(2, [1], [big + 2], t=1.0)
        b.send(3, [1], [7001], t=1.0, via_topic=True, tcp=True)
        b.receive(big, make_body(1, 1), 2.0)
        b.receive(big + 1, make_body(1, 2), 2.0, tcp=True)
        b.receive(big + 2, make_body(2, 1), 2.0, tcp=True)
        b.receive(big + 3, make_body(3, 1), 2.0)
        b.delete(big, 3.0, tcp=True)
        b.delete(big + 2, 3.0)
        report = b.check()
        self.assertEqual(report.failures, [])
        self.assertEqual(report.protocols["tcp"]["sends_acked"], 3)
        self.assertEqual(report.protocols["http"]["sends_acked"], 1)
        self.assertEqual((report.protocols["tcp"]["deliveries"],
                          report.protocols["http"]["deliveries"]), (2, 2))
        self.assertEqual((report.protocols["tcp"]["deletes_acked"],
                          report.protocols["http"]["deletes_acked"]), (1, 1))
        self.assertEqual(report.cross_protocol, {"tcp->http": 2, "http->tcp": 1})
        text = format_report(report, None, b.history)
        self.assertIn("over TCP:                 3 sends acknowledged", text)
        self.assertIn("across protocols:         2 msgIds sent over TCP received over HTTP", text)

    def test_a_tcp_send_never_received_is_lost(self):
        b = _Builder()
        b.send(1, [1], [(1 << 64) - 1], t=1.0, tcp=True)
        b.receive(5, make_body(1, 1), 2.0)
        report = b.check()
        self.assertEqual(report.lost, 1)
        self.assertIn("over TCP", report.examples["lost"][0])
        self.assertNotIn("over TCP", format_report(_Builder().check(), None, None))


if __name__ == "__main__":
    unittest.main()
