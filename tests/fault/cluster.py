"""Real cmqd processes on loopback, wired to each other through fault-injecting proxies.

Layout for 3 nodes (ports are all ephemeral, chosen at start):

    node 1 --dials--> proxy 1->2 --> node 2 listen port
    node 1 --dials--> proxy 1->3 --> node 3 listen port
    node 2 --dials--> proxy 2->3 --> node 3 listen port

Node i runs with --listen on its own real port and a --peers list in which the entry of
every larger node j is the proxy i->j. Entries of smaller nodes are their real ports: node i
never dials them (the smaller id dials), so those entries only have to be well-formed.

With tcp=True every node also serves the CMQ TCP protocol on a port of its own
(--tcp 127.0.0.1:<port>, --tcp-route listing every node's): clients talk to it directly, as
to the HTTP port; only the node-to-node links go through the proxies.

With --nodes 1 the node runs without --node-id/--peers (the single-node cmqd), which lets
the harness, the clients and the checker run before the cluster code exists.

Every node's stdout and stderr go to WORKDIR/logs/n<i>.log, appended across restarts with a
harness line before each start.
"""

import os
import shutil
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from proxy import FaultProxy, ProxyLoop

READY_MARKER = b"cmqd ready"
START_TIMEOUT_S = 30.0
START_ATTEMPTS = 3  # a restart can race a port still held by the previous incarnation


def free_port(host="127.0.0.1"):
    """A port nothing listens on right now (a race with other programs is possible but rare)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def pdeathsig_prefix():
    """setpriv --pdeathsig KILL makes a node die with the harness even if the harness is
    SIGKILLed (ctest's timeout), so no cmqd outlives a run on a shared machine."""
    for path in ("/usr/bin/setpriv", "/bin/setpriv"):
        if os.access(path, os.X_OK):
            return [path, "--pdeathsig", "KILL", "--"]
    return []


class NodeStartError(RuntimeError):
    pass


class Node:
    """One cmqd: fixed ports and data directory, so a restart is the same node."""

    def __init__(self, cluster, node_id, http_port, listen_port, data_dir, log_path,
                 tcp_port=None):
        self.cluster = cluster
        self.node_id = node_id
        self.http_port = http_port
        self.tcp_port = tcp_port  # the CMQ TCP protocol's, or None
        self.listen_port = listen_port
        self.data_dir = data_dir
        self.log_path = log_path
        self.process = None
        self.starts = 0
        self.paused = False
        self.killed = False  # by the harness: a dead node that was not is a finding

    def command(self):
        cmd = [self.cluster.cmqd, "--http", f"127.0.0.1:{self.http_port}", "--data",
               self.data_dir]
        if self.tcp_port is not None:
            cmd += ["--tcp", f"127.0.0.1:{self.tcp_port}", "--tcp-route",
                    self.cluster.tcp_route()]
        if self.cluster.size > 1:
            cmd += ["--node-id", str(self.node_id), "--peers", self.cluster.peers_for(self.node_id),
                    "--listen", f"127.0.0.1:{self.listen_port}"]
        return cmd + self.cluster.extra_args

    def running(self):
        return self.process is not None and self.process.poll() is None

    def start(self):
        """Starts cmqd and waits for its 'cmqd ready' line. Retries only when a port was
        still in use (the previous incarnation's, for a moment after a SIGKILL): any other
        failure to start is a finding, which a retry would hide."""
        for attempt in range(1, START_ATTEMPTS + 1):
            offset = self._start_once()
            if offset is None:
                return
            why = (f"exited with status {self.process.returncode}"
                   if self.process.poll() is not None
                   else f"was not ready after {START_TIMEOUT_S:.0f} s")
            self.kill()
            with open(self.log_path, "rb") as log:
                log.seek(offset)
                port_in_use = b"in use" in log.read().lower()
            if not port_in_use or attempt == START_ATTEMPTS:
                raise NodeStartError(f"node {self.node_id} {why} on start #{self.starts}; "
                                     f"see {self.log_path}")
            time.sleep(1.0)

    def _start_once(self):
        """None once the node is ready, else the log offset where this attempt began."""
        assert not self.running(), f"node {self.node_id} is already running"
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"\n=== harness: start #{self.starts} of node {self.node_id} at "
                      f"{time.strftime('%H:%M:%S')}: {' '.join(self.command())}\n".encode())
            offset = log.tell()
        self.process = self.cluster.spawn(self.command(), self.log_path)
        self.paused = self.killed = False
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and self.process.poll() is None:
            with open(self.log_path, "rb") as log:
                log.seek(offset)
                if READY_MARKER in log.read():
                    return None
            time.sleep(0.05)
        return offset

    def signal(self, signum):
        if self.running():
            self.process.send_signal(signum)

    def kill(self):
        """SIGKILL and reap (works on a stopped process too)."""
        if self.process is None:
            return
        self.killed = True
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self.paused = False

    def how_it_ended(self):
        """Why the process is gone, for a report."""
        code = self.process.returncode
        if code is None:
            return "still running"
        if code >= 0:
            return f"exited with status {code}"
        name = signal.Signals(-code).name
        if -code == signal.SIGKILL:
            return f"was killed by {name}, not sent by the test (OOM killer? a pkill?)"
        return f"died of {name}"

    def pause(self):
        self.signal(signal.SIGSTOP)
        self.paused = True

    def resume(self):
        self.signal(signal.SIGCONT)
        self.paused = False


class Cluster:
    def __init__(self, cmqd, workdir, size=3, tcp=False, extra_args=()):
        if size < 1:
            raise ValueError("size must be >= 1")
        self.cmqd = os.path.abspath(cmqd)
        self.extra_args = list(extra_args)  # for every node, e.g. --peer-tls-* (run.py)
        self.workdir = workdir
        self.size = size
        self.tcp = tcp  # every node also serves the CMQ TCP protocol (--tcp)
        self.log_dir = os.path.join(workdir, "logs")
        self.proxy_loop = None
        self.proxies = {}  # (dialer, acceptor) -> FaultProxy, dialer < acceptor
        self.nodes = {}
        self._pdeathsig = pdeathsig_prefix()
        # PR_SET_PDEATHSIG fires when the *thread* that forked the child exits, not the
        # process. Nodes are (re)started from several threads (main, nemesis), so every
        # spawn goes through this one worker thread, which lives as long as the cluster.
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spawner")

    # --- wiring ---------------------------------------------------------------------------

    def peers_for(self, node_id):
        entries = []
        for other in sorted(self.nodes):
            if other == node_id:
                port = self.nodes[other].listen_port
            elif node_id < other:
                port = self.proxies[(node_id, other)].port  # we dial: through the proxy
            else:
                port = self.nodes[other].listen_port  # they dial us: never used by us
            entries.append(f"{other}=127.0.0.1:{port}")
        return ",".join(entries)

    def tcp_route(self):
        """--tcp-route: every node's CMQ TCP address (what QueryQueueRoute answers)."""
        return ",".join(f"127.0.0.1:{n.tcp_port}" for _, n in sorted(self.nodes.items()))

    def spawn(self, command, log_path):
        def popen():
            log = open(log_path, "ab")
            try:
                return subprocess.Popen(self._pdeathsig + command, stdout=log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True)  # Ctrl-C is the harness's
            finally:
                log.close()
        return self._spawner.submit(popen).result()

    def start(self):
        os.makedirs(self.log_dir, exist_ok=True)
        # Run a copy: the build may replace build/cmqd during a run, and a restart must not
        # pick up another (or a half-written) binary. Kept with the logs on failure.
        copy = os.path.join(self.workdir, "bin", os.path.basename(self.cmqd))
        os.makedirs(os.path.dirname(copy), exist_ok=True)
        shutil.copy2(self.cmqd, copy)
        self.cmqd = copy
        for node_id in range(1, self.size + 1):
            self.nodes[node_id] = Node(self, node_id, http_port=free_port(),
                                       listen_port=free_port(),
                                       data_dir=os.path.join(self.workdir, f"n{node_id}"),
                                       log_path=os.path.join(self.log_dir, f"n{node_id}.log"),
                                       tcp_port=free_port() if self.tcp else None)
        if self.size > 1:
            self.proxy_loop = ProxyLoop()
            for dialer in self.nodes:
                for acceptor in self.nodes:
                    if dialer < acceptor:
                        self.proxies[(dialer, acceptor)] = FaultProxy(
                            self.proxy_loop, dialer, acceptor,
                            self.nodes[acceptor].listen_port).start()
        for node in self.nodes.values():
            node.start()

    def http_ports(self):
        return {node_id: node.http_port for node_id, node in self.nodes.items()}

    def tcp_ports(self):
        """The nodes' CMQ TCP ports ({} without tcp)."""
        return {node_id: node.tcp_port for node_id, node in self.nodes.items()
                if node.tcp_port is not None}

    def describe(self):
        lines = []
        for node in self.nodes.values():
            tcp = f"tcp 127.0.0.1:{node.tcp_port}, " if node.tcp_port is not None else ""
            lines.append(f"node {node.node_id}: http 127.0.0.1:{node.http_port}, {tcp}"
                         f"listen 127.0.0.1:{node.listen_port}, data {node.data_dir}")
        for proxy in self.proxies.values():
            lines.append(f"proxy {proxy.name}: 127.0.0.1:{proxy.port} -> "
                         f"127.0.0.1:{proxy.target_port}")
        return lines

    # --- faults ---------------------------------------------------------------------------

    def proxies_of(self, node_id):
        return [p for (a, b), p in self.proxies.items() if node_id in (a, b)]

    def isolate(self, node_id, how="cut"):
        """Cuts node_id off from every other node. how: 'cut' resets its connections,
        'blackhole' keeps them open but forwards nothing either way."""
        for proxy in self.proxies_of(node_id):
            if how == "cut":
                proxy.cut()
            else:
                proxy.block(proxy.dialer, proxy.acceptor)

    def block_outbound(self, node_id):
        """What node_id sends to the others is held; what they send it still arrives."""
        for proxy in self.proxies_of(node_id):
            proxy.block(node_id)

    def block_inbound(self, node_id):
        """What the others send to node_id is held; what it sends still arrives."""
        for proxy in self.proxies_of(node_id):
            other = proxy.acceptor if proxy.dialer == node_id else proxy.dialer
            proxy.block(other)

    def cut_link(self, a, b):
        self.proxies[(min(a, b), max(a, b))].cut()

    def heal(self):
        for proxy in self.proxies.values():
            proxy.heal()

    def kill(self, node_id):
        self.nodes[node_id].kill()

    def restart(self, node_id):
        node = self.nodes[node_id]
        node.kill()
        node.start()

    def restart_all(self):
        for node in self.nodes.values():
            node.kill()
        for node in self.nodes.values():
            node.start()

    def ensure_running(self):
        """Resumes paused nodes and starts dead ones (after a fault or a crash)."""
        for node in self.nodes.values():
            if node.paused:
                node.resume()
            if not node.running():
                node.start()

    def crashed_nodes(self):
        """Nodes that are dead although the harness did not kill them."""
        return [n.node_id for n in self.nodes.values()
                if n.process is not None and not n.killed and not n.running()]

    def shutdown(self):
        """Kills every node and stops the proxies; safe to call twice and from finally."""
        for node in self.nodes.values():
            try:
                node.kill()
            except Exception:  # noqa: BLE001 - cleanup must go on with the other nodes
                pass
        for proxy in self.proxies.values():
            try:
                proxy.stop()
            except Exception:  # noqa: BLE001
                pass
        if self.proxy_loop is not None:
            self.proxy_loop.close()
            self.proxy_loop = None
        self._spawner.shutdown(wait=False)
