"""The nemesis: injects one fault at a time into the cluster while the clients run.

Every interval it picks a kind and a node at random (from the run's seed), applies the
fault, holds it, then heals it completely before the next one. So at most one node is
faulty at a time and a majority is always up: every outage the clients see must end
within an election or two, and nothing acknowledged may be lost.

Kinds:
  kill       SIGKILL, stay down for the hold time, restart on the same ports and data
  pause      SIGSTOP for the hold time, then SIGCONT (a long GC pause, a frozen VM: the
             node wakes up believing it is still leader, with stale timers)
  partition  reset all its node-to-node connections and refuse new ones
  blackhole  keep its connections open but forward nothing either way (packets dropped
             silently: only timeouts reveal it)
  drop-out   what the node sends is held, what it receives still arrives (it hears the
             leader but its acks and votes are lost)
  drop-in    what the node receives is held, what it sends still arrives (it hears no
             heartbeat and keeps calling elections the others can see)
  link       cut one link between the node and one other node (the third node still
             sees both: a partial, non-transitive partition)
With one node there are no proxies, so only kill and pause apply.

Half of the faults hit the current leader (asked with leader_probe, when given): faults on
followers alone would rarely force a leader change, where most of the risk is.
"""

import threading
import time
from collections import Counter

NETWORK_KINDS = ("partition", "blackhole", "drop-out", "drop-in", "link")
PROCESS_KINDS = ("kill", "pause")
ALL_KINDS = PROCESS_KINDS + NETWORK_KINDS


class EventLog:
    """Timestamped lines on stdout and in a file; times are seconds since t0."""

    def __init__(self, path, t0):
        self.t0 = t0
        self._file = open(path, "a", encoding="utf-8")
        self._lock = threading.Lock()

    def __call__(self, text):
        line = f"[+{time.monotonic() - self.t0:8.3f} {time.strftime('%H:%M:%S')}] {text}"
        with self._lock:
            print(line, flush=True)
            if not self._file.closed:  # a thread may still log while the run shuts down
                self._file.write(line + "\n")
                self._file.flush()

    def close(self):
        with self._lock:
            self._file.close()


class Nemesis(threading.Thread):
    WATCH_S = 0.5  # how often it looks for nodes that died on their own
    def __init__(self, cluster, rng, log, kinds=ALL_KINDS, interval_s=(2.0, 6.0),
                 hold_s=(1.0, 8.0), leader_probe=None, leader_share=0.5):
        super().__init__(name="nemesis", daemon=True)
        self.cluster = cluster
        self.rng = rng
        self.log = log
        self.kinds = [k for k in kinds if cluster.size > 1 or k in PROCESS_KINDS]
        self.interval_s = interval_s
        self.hold_s = hold_s
        self.leader_probe = leader_probe
        self.leader_share = leader_share
        self.stop_event = threading.Event()
        self.counts = Counter()  # faults injected, by kind
        self.crashes = []     # (node, how it ended): nodes that died without being killed
        self.error = None     # an exception that stopped the nemesis (e.g. a failed restart)

    def stop(self):
        self.stop_event.set()
        self.join()

    def run(self):
        try:
            while not self._watch(self.rng.uniform(*self.interval_s), stoppable=True):
                if self.kinds:
                    kind = self.rng.choice(self.kinds)
                    self._inject(kind, *self._pick_target())
            self._restart_crashed()
        except Exception as error:  # noqa: BLE001 - reported by run.py, which fails the run
            self.error = error
            self.log(f"nemesis: stopped by an error: {error}")

    def _watch(self, seconds, stoppable):
        """Waits, restarting crashed nodes as soon as seen; True if stopped (stoppable)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if stoppable and self.stop_event.wait(min(left, self.WATCH_S)):
                return True
            if not stoppable:
                time.sleep(min(left, self.WATCH_S))
            self._restart_crashed()
        return stoppable and self.stop_event.is_set()

    def _restart_crashed(self):
        for node_id in self.cluster.crashed_nodes():
            node = self.cluster.nodes[node_id]
            self.crashes.append((node_id, node.how_it_ended()))
            self.log(f"CRASH: node {node_id} {node.how_it_ended()}; restarting it "
                     f"(log: {node.log_path})")
            self.cluster.restart(node_id)

    def _pick_target(self):
        """(node id, ' (leader)' or '')."""
        if self.leader_probe is not None and self.rng.random() < self.leader_share:
            leader = self.leader_probe()
            if leader is not None:
                return leader, " (leader)"
        return self.rng.choice(sorted(self.cluster.nodes)), ""

    def _inject(self, kind, node_id, role=""):
        hold = self.rng.uniform(*self.hold_s)
        self.counts[kind] += 1
        apply, heal, detail = self._fault(kind, node_id)
        self.log(f"nemesis: {kind} node {node_id}{role}{detail} for {hold:.1f} s")
        apply()
        # Held for the full time even if the run is ending, then healed: the final phase
        # must start from a cluster with no fault in place.
        self._watch(hold, stoppable=False)
        started = time.monotonic()
        heal()
        self.log(f"nemesis: healed {kind} node {node_id}{detail} "
                 f"(heal took {time.monotonic() - started:.2f} s)")

    def _fault(self, kind, node_id):
        """(apply, heal, detail) for one fault."""
        cluster, node = self.cluster, self.cluster.nodes[node_id]
        if kind == "kill":
            return node.kill, node.start, ""
        if kind == "pause":
            return node.pause, node.resume, ""
        if kind in ("partition", "blackhole"):
            how = "cut" if kind == "partition" else "blackhole"
            return (lambda: cluster.isolate(node_id, how)), cluster.heal, ""
        if kind == "drop-out":
            return (lambda: cluster.block_outbound(node_id)), cluster.heal, ""
        if kind == "drop-in":
            return (lambda: cluster.block_inbound(node_id)), cluster.heal, ""
        if kind == "link":
            other = self.rng.choice([n for n in cluster.nodes if n != node_id])
            return (lambda: cluster.cut_link(node_id, other)), cluster.heal, f" <-> {other}"
        raise ValueError(f"unknown fault kind {kind}")
