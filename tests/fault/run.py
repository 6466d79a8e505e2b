#!/usr/bin/env python3
"""OpenCMQ fault test: real cmqd nodes, a nemesis, producers, consumers and a checker.

  python3 tests/fault/run.py --cmqd build/cmqd --duration 120 [--seed S] [--nodes 3]

Phases:
  1. start the nodes (behind fault-injecting proxies) and create the queue;
  2. load: producers and consumers run against random nodes while the nemesis injects one
     fault at a time, for --duration seconds; --tcp-clients of them (default 1 of each
     kind) speak the CMQ TCP protocol to the nodes' --tcp ports, the others HTTP;
  3. final: stop the producers and the nemesis, heal everything, SIGKILL and restart every
     node (everything acknowledged must survive a whole-cluster crash), then drain the
     queue until it stays empty for longer than the visibility timeout;
  4. check the history (checker.py) and print a summary.
Exit status: 0 pass, 1 a check failed, 2 the harness could not run, 130 interrupted.
Node logs, the fault log and the summary stay in the work directory on failure (its path
is printed); on success it is removed unless --keep or --workdir is given.
"""

import argparse
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from checker import check, format_report  # noqa: E402
from clients import (ClusterUnavailableError, Consumer, History, Producer,  # noqa: E402
                     cluster_leader, create_queue, create_topic_feeding,
                     group_of_msg_id,
                     queue_attributes)
from cluster import Cluster, NodeStartError  # noqa: E402
from nemesis import ALL_KINDS, EventLog, Nemesis  # noqa: E402

QUEUE = "fault"
# Its copies cross data groups: with 3 groups, "fault-topic" lives in group 2 and "fault"
# in group 3 (pinned by PlacementTest.TheFaultHarnessTopicAndQueueLiveInDifferentGroups).
TOPIC = "fault-topic"
EXIT_PASS, EXIT_FAIL, EXIT_HARNESS, EXIT_INTERRUPTED = 0, 1, 2, 130


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cmqd", default="build/cmqd", help="the cmqd binary")
    p.add_argument("--cmqd-args", default="",
                   help="more arguments for every node, one string split at spaces; write "
                        "--cmqd-args=\"...\" (e.g. "
                        "'--peer-tls-cert F --peer-tls-key F --peer-tls-ca F')")
    p.add_argument("--duration", type=float, default=120, help="load phase, seconds")
    p.add_argument("--seed", type=int, help="seeds the fault schedule and the clients "
                   "(thread timing still varies between runs)")
    p.add_argument("--nodes", type=int, default=3, help="1 runs a single-node cmqd "
                   "(only kill and pause faults)")
    p.add_argument("--producers", type=int, default=4)
    p.add_argument("--consumers", type=int, default=3)
    p.add_argument("--topic-producers", type=int,
                   help="of the producers, how many publish to topic fault-topic, which feeds "
                   "the queue from another data group (default: half of them)")
    p.add_argument("--tcp-clients", type=int, default=1,
                   help="of each kind of client, how many speak the CMQ TCP protocol (to each "
                   "node's --tcp port) instead of HTTP: that many of the queue producers, of "
                   "the topic producers and of the consumers (also in the drain); 0: HTTP "
                   "only (default 1; ignored, with a note, for a binary without --tcp)")
    p.add_argument("--rate", type=float, default=500,
                   help="messages/s the producers start at most, in all (0: no limit); the "
                   "history costs ~1 KB of memory per message")
    p.add_argument("--faults", default=",".join(ALL_KINDS),
                   help=f"comma-separated fault kinds (default all: {','.join(ALL_KINDS)}); "
                   "'none' for a fault-free run")
    p.add_argument("--fault-interval", type=float, nargs=2, default=(2.0, 6.0),
                   metavar=("MIN", "MAX"), help="seconds between faults")
    p.add_argument("--fault-hold", type=float, nargs=2, default=(1.0, 8.0),
                   metavar=("MIN", "MAX"), help="seconds a fault lasts")
    p.add_argument("--visibility-timeout", type=int, default=10,
                   help="the queue's visibilityTimeout (short, so the drain is short)")
    p.add_argument("--http-timeout", type=float, default=5.0,
                   help="per HTTP or TCP call, seconds (a TCP pull: plus its poll wait)")
    p.add_argument("--min-acked", type=int, help="fail below this many acknowledged sends "
                   "(default 2 per second of --duration)")
    p.add_argument("--max-outage", type=float, default=30.0,
                   help="fail if no send is acknowledged for this long under load; 0: no limit")
    p.add_argument("--drain-max", type=float, default=180.0,
                   help="fail if the queue is not drained within this many seconds")
    p.add_argument("--workdir", help="keep everything here (default: a new temp dir)")
    p.add_argument("--keep", action="store_true", help="keep the temp dir on success too")
    args = p.parse_args(argv)
    if args.faults in ("", "none"):
        args.faults = []
    else:
        args.faults = args.faults.split(",")
        unknown = set(args.faults) - set(ALL_KINDS)
        if unknown:
            p.error(f"unknown fault kinds: {','.join(sorted(unknown))}")
    if args.min_acked is None:
        args.min_acked = max(1, int(2 * args.duration))
    return args


def supports_tcp(cmqd):
    """Whether cmqd serves the CMQ TCP protocol (has --tcp; the harness's fake does not)."""
    help_text = subprocess.run([cmqd, "--help"], capture_output=True, text=True,
                               timeout=10).stdout
    return "--tcp " in help_text and "--tcp-route" in help_text


def check_binary(cmqd, nodes):
    """None if cmqd can run this test, else why not."""
    if not os.access(cmqd, os.X_OK):
        return f"{cmqd} is not an executable (build it: cmake --build build --target cmqd)"
    if nodes > 1:
        help_text = subprocess.run([cmqd, "--help"], capture_output=True, text=True,
                                   timeout=10).stdout
        if "--peers" not in help_text:
            return f"{cmqd} has no --peers option (no cluster support yet); use --nodes 1"
    return None


class Run:
    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.seed = args.seed
        self.history = History()
        self.log = EventLog(os.path.join(workdir, "events.log"), self.history.t0)
        self.tcp_note = None
        if args.tcp_clients > 0 and not supports_tcp(args.cmqd):
            self.tcp_note = f"{args.cmqd} has no --tcp: every client speaks HTTP"
            args.tcp_clients = 0
        self.cluster = Cluster(args.cmqd, workdir, args.nodes, tcp=args.tcp_clients > 0,
                               extra_args=args.cmqd_args.split())
        self.nemesis = None
        self.clients_stop = threading.Event()
        self.clients = []
        self.failures = []

    def execute(self):
        self.log(f"seed {self.seed}, {self.args.nodes} node(s), work dir {self.workdir}")
        if self.tcp_note:
            self.log(self.tcp_note)
        self.cluster.start()
        for line in self.cluster.describe():
            self.log(line)
        ports = self.cluster.http_ports()
        create_queue(ports, QUEUE, self.args.visibility_timeout, self.args.http_timeout)
        self.log(f"queue {QUEUE} created (visibilityTimeout {self.args.visibility_timeout} s)")
        if self.topic_producers() > 0:
            create_topic_feeding(ports, TOPIC, QUEUE, self.args.http_timeout)
            self.log(f"topic {TOPIC} created, subscribed by queue {QUEUE}")
        load_window = self._load(ports, self.cluster.tcp_ports())
        self._final(ports, self.cluster.tcp_ports())
        report = check(self.history, min_acked=self.args.min_acked,
                       max_unavailable_s=self.args.max_outage or None, load_window=load_window)
        report.failures += self.failures
        summary = format_report(report, self.nemesis.counts, self.history)
        summary += (f"\nharness peak memory:      "
                    f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB")
        if report.failures:
            summary += "\nFAIL:\n" + "\n".join(f"  - {f}" for f in report.failures)
        else:
            summary += "\nPASS"
        print(summary, flush=True)
        with open(os.path.join(self.workdir, "summary.txt"), "w", encoding="utf-8") as out:
            out.write(summary + "\n")
        return EXIT_FAIL if report.failures else EXIT_PASS

    def topic_producers(self):
        n = self.args.topic_producers
        return self.args.producers // 2 if n is None else max(0, min(n, self.args.producers))

    def _load(self, ports, tcp_ports):
        args = self.args
        via_topic = self.topic_producers()
        via_queue = args.producers - via_topic
        tcp_names = []
        for i in range(1, args.producers + 1):
            topic = TOPIC if i > via_queue else None
            # The first --tcp-clients of the queue producers and of the topic producers.
            tcp = (i if topic is None else i - via_queue) <= args.tcp_clients
            tcp_names += [f"producer {i}"] if tcp else []
            self.clients.append(Producer(i, tcp_ports if tcp else ports, QUEUE, self.history,
                                         self.clients_stop, self.seed, args.http_timeout,
                                         rate=args.rate / args.producers, topic=topic,
                                         tcp=tcp))
        for i in range(1, args.consumers + 1):
            tcp = i <= args.tcp_clients
            tcp_names += [f"consumer {i}"] if tcp else []
            self.clients.append(Consumer(i, tcp_ports if tcp else ports, QUEUE, self.history,
                                         self.clients_stop, self.seed, args.http_timeout,
                                         tcp=tcp))
        # The nemesis aims at the leader of the queue's data group, which the first
        # acknowledged send tells (a message id carries its group).
        def probe():
            group = next((group_of_msg_id(s.msg_ids[0]) for s in list(self.history.sends)
                          if s.msg_ids and not s.via_topic), None)
            return cluster_leader(ports, group=group or 1)
        probe = probe if args.nodes > 1 else None
        self.nemesis = Nemesis(self.cluster, random.Random(f"{self.seed}/nemesis"), self.log,
                               kinds=args.faults, interval_s=tuple(args.fault_interval),
                               hold_s=tuple(args.fault_hold), leader_probe=probe)
        start = time.monotonic()
        self.log(f"load: {args.producers} producers ({via_topic} of them through topic {TOPIC}), "
                 f"{args.consumers} consumers, faults: "
                 f"{','.join(self.nemesis.kinds) or 'none'}, for {args.duration:.0f} s")
        self.log(f"over the CMQ TCP protocol: {', '.join(tcp_names)}; the others over HTTP"
                 if tcp_names else "every client over HTTP")
        for client in self.clients:
            client.start()
        self.nemesis.start()
        end = start + args.duration
        while time.monotonic() < end:
            time.sleep(min(10.0, max(0.0, end - time.monotonic())))
            self._progress("load")
            if self.nemesis.error is not None:
                break
        self.log("load over: stopping the nemesis (it heals its last fault) and the clients")
        self.nemesis.stop()
        if isinstance(self.nemesis.error, NodeStartError):
            raise self.nemesis.error
        load_window = (start, time.monotonic())
        self.clients_stop.set()
        for client in self.clients:
            client.join()
        if self.nemesis.error is not None:
            self.failures.append(f"the nemesis failed: {self.nemesis.error}")
        for node_id, how in self.nemesis.crashes:
            self.failures.append(f"node {node_id} {how}; see "
                                 f"{self.cluster.nodes[node_id].log_path}")
        return load_window

    def _final(self, ports, tcp_ports):
        self.cluster.heal()
        self._note_crashes("at the end of the load")
        self.cluster.ensure_running()
        self.log("final: SIGKILL and restart every node")
        self.cluster.restart_all()
        self._drain(ports, tcp_ports)
        self._note_crashes("during the drain")
        attributes = queue_attributes(ports, QUEUE, self.args.http_timeout)
        if attributes is None:
            self.failures.append("GetQueueAttributes failed after the drain")
            return
        left = {k: attributes.get(k) for k in ("activeMsgNum", "inactiveMsgNum", "delayMsgNum")}
        self.log(f"after the drain: {left}")
        if any(v for v in left.values()):
            self.failures.append(f"messages left in the queue after the drain (none could be "
                                 f"received): {left}")

    def _note_crashes(self, when):
        for node_id in self.cluster.crashed_nodes():
            node = self.cluster.nodes[node_id]
            self.failures.append(f"node {node_id} {node.how_it_ended()} {when}; see "
                                 f"{node.log_path}")

    def _drain(self, ports, tcp_ports):
        """Consumes until no message arrived for longer than the visibility timeout (so
        anything received but not deleted has come back and been taken) and every
        consumer has seen empty receives; fails after --drain-max."""
        args = self.args
        stop = threading.Event()
        consumers = [Consumer(100 + i, tcp_ports if i <= args.tcp_clients else ports, QUEUE,
                              self.history, stop, self.seed, args.http_timeout,
                              abandon_probability=0.0, tcp=i <= args.tcp_clients)
                     for i in range(1, args.consumers + 1)]
        quiet_s = args.visibility_timeout + 5.0
        start = time.monotonic()
        received_before = len(self.history.receives)
        last_seen, baseline = None, 0
        self.log(f"drain: {len(consumers)} consumers, until {quiet_s:.0f} s without a message")
        for consumer in consumers:
            consumer.start()
        try:
            while True:
                time.sleep(0.5)
                now = time.monotonic()
                empty_rounds = sum(c.empty_rounds for c in consumers)
                if self.history.last_receive_t != last_seen:
                    last_seen, baseline = self.history.last_receive_t, empty_rounds
                quiet = now - max(last_seen, start)
                if quiet >= quiet_s and empty_rounds - baseline >= 3 * len(consumers):
                    break
                if now - start > args.drain_max:
                    self.failures.append(f"the drain did not finish in {args.drain_max:.0f} s")
                    break
        finally:
            stop.set()
            for consumer in consumers:
                consumer.join()
        self.log(f"drain done in {time.monotonic() - start:.1f} s: "
                 f"{len(self.history.receives) - received_before} deliveries")

    def _progress(self, phase):
        h = self.history
        acked = sum(len(r.msg_ids) for r in list(h.sends) if r.msg_ids)
        self.log(f"{phase}: {acked} sends acknowledged, {len(h.receives)} deliveries, "
                 f"{len(h.delete_acks)} deletes acknowledged, "
                 f"{sum(self.nemesis.counts.values())} faults")

    def stop(self):
        """Stops every thread and process; called from finally, also after Ctrl-C."""
        self.clients_stop.set()
        if self.nemesis is not None and self.nemesis.is_alive():
            self.nemesis.stop_event.set()
        self.cluster.shutdown()
        self.log.close()


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    problem = check_binary(args.cmqd, args.nodes)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_HARNESS
    if args.seed is None:
        args.seed = random.randrange(1 << 31)
    workdir = args.workdir or tempfile.mkdtemp(prefix="cmq-fault-")
    os.makedirs(workdir, exist_ok=True)

    # SIGTERM (ctest, CI) takes the same path as Ctrl-C: the finally below kills the nodes.
    # SIGINT is set explicitly because a shell starts background jobs with it ignored.
    def on_sigterm(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)

    run = Run(args, workdir)
    status = EXIT_HARNESS
    try:
        status = run.execute()
    except (NodeStartError, ClusterUnavailableError) as error:
        # A node that cannot (re)start on its own data, or a healthy cluster that does not
        # serve, is a cmqd bug, not a harness one.
        print(f"FAIL: {error}", file=sys.stderr)
        status = EXIT_FAIL
    except KeyboardInterrupt:
        status = EXIT_INTERRUPTED
        print("interrupted", file=sys.stderr)
    except Exception:  # noqa: BLE001 - any harness error: report, keep the logs
        print("harness error:", file=sys.stderr)
        traceback.print_exc()
    finally:
        run.stop()
    if status == EXIT_PASS and not args.keep and not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"logs: {workdir} (node logs in logs/, faults in events.log); "
              f"re-run with --seed {args.seed}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
