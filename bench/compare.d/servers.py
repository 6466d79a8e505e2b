"""OpenCMQ servers for bench/compare: the 3-node cluster of scripts/cluster, a single cmqd
started here, or servers that already run. Each is a context manager that yields
(endpoints, server pids, description) and stops only what it started."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def port_in_use(port):
    with socket.socket() as s:
        return s.connect_ex(('127.0.0.1', port)) == 0


def cmq_call(endpoint, action, params=None, timeout=5):
    """One unsigned CMQ API request; the JSON envelope as a dict, or None on any failure."""
    import json
    body = urllib.parse.urlencode({'Action': action, 'Timestamp': int(time.time()),
                                   'Nonce': int(time.time() * 1e6) % 1000000007,
                                   **(params or {})}).encode()
    try:
        with urllib.request.urlopen(endpoint.rstrip('/') + '/v2/index.php', body,
                                    timeout=timeout) as r:
            return json.loads(r.read())
    except Exception:  # noqa: BLE001 - any failure means "no answer" here
        return None


class SingleNode:
    """One cmqd on a free loopback port with a temporary data directory."""

    def __init__(self, build):
        self.cmqd = os.path.join(build, 'cmqd')
        self.proc = None
        self.dir = None
        self.tcp = {}

    def tcp_address(self, endpoint):
        """The CMQ TCP protocol address of the node serving HTTP at endpoint."""
        return self.tcp[endpoint]

    def __enter__(self):
        if not os.access(self.cmqd, os.X_OK):
            sys.exit(f'compare: missing {self.cmqd} (build it first)')
        self.dir = tempfile.mkdtemp(prefix='cmq-compare.')
        port, tcp_port = free_port(), free_port()
        self.tcp = {f'http://127.0.0.1:{port}': f'127.0.0.1:{tcp_port}'}
        log = os.path.join(self.dir, 'cmqd.log')
        with open(log, 'w') as out:
            self.proc = subprocess.Popen(
                [self.cmqd, '--http', f'127.0.0.1:{port}', '--tcp', f'127.0.0.1:{tcp_port}',
                 '--data', os.path.join(self.dir, 'db')],
                stdout=out, stderr=subprocess.STDOUT)
        for _ in range(100):
            if 'ready' in open(log).read():
                break
            if self.proc.poll() is not None:
                sys.exit(f'compare: cmqd exited:\n{open(log).read()}')
            time.sleep(0.1)
        else:
            sys.exit(f'compare: cmqd not ready after 10 s:\n{open(log).read()}')
        eps = [f'http://127.0.0.1:{port}']
        return eps, [self.proc.pid], '1 node'

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)


class Cluster:
    """scripts/cluster's nodes, with a temporary data directory so that every comparison
    starts from empty logs; clients go to the leader (target 'leader', as the peer benchmark
    points its clients at the queue's leader) or to every node (target 'all')."""

    def __init__(self, root, build, nodes, http_base, peer_base, target, tcp_base=8090):
        self.script = os.path.join(root, 'scripts', 'cluster')
        self.build, self.nodes, self.target = build, nodes, target
        self.http_base, self.peer_base, self.tcp_base = http_base, peer_base, tcp_base
        self.dir = None
        self.started = False
        self.per_queue_leader = False

    def env(self):
        return dict(os.environ, BUILD=self.build, DATA=self.dir, NODES=str(self.nodes),
                    HTTP_BASE=str(self.http_base), PEER_BASE=str(self.peer_base),
                    TCP_BASE=str(self.tcp_base))

    def tcp_address(self, endpoint):
        """Node N serves HTTP on HTTP_BASE+N and the TCP protocol on TCP_BASE+N."""
        port = int(endpoint.rsplit(':', 1)[1])
        return f'127.0.0.1:{port - self.http_base + self.tcp_base}'

    def __enter__(self):
        ports = [self.http_base + n for n in range(1, self.nodes + 1)]
        others = [base + n for base in (self.peer_base, self.tcp_base)
                  for n in range(1, self.nodes + 1)]
        busy = [p for p in ports + others if port_in_use(p)]
        if busy:
            sys.exit(f'compare: ports {busy} are in use (a cluster already runs?): pass '
                     '--endpoints URL,... --server-pids PID,... to use it, or --http-base/'
                     '--peer-base for other ports')
        self.dir = tempfile.mkdtemp(prefix='cmq-compare-cluster.')
        subprocess.run([self.script, 'start'], env=self.env(), check=True)
        self.started = True
        pids = []
        for n in range(1, self.nodes + 1):
            with open(os.path.join(self.dir, f'n{n}', 'cmqd.pid')) as f:
                pids.append(int(f.read().strip()))
        eps = [f'http://127.0.0.1:{p}' for p in ports]
        if not wait_for_leaders(eps):
            sys.exit('compare: no leader of every data group within 30 s')
        desc = f'{self.nodes} nodes'
        if self.target == 'leader':
            # Each step's queue lives in one data group: its clients go to that group's
            # leader (the caller asks leader_endpoint per queue).
            self.per_queue_leader = True
            return eps, pids, desc + ', clients on the leader of the queue\'s group'
        return eps, pids, desc + ', clients on every node'

    def __exit__(self, *exc):
        if self.started:
            subprocess.run([self.script, 'stop'], env=self.env())
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)


def wait_for_leaders(endpoints, seconds=30):
    """True once some node reports a leader for every data group (ClusterStatus), and the
    leader balancing has had a few seconds to spread them; False after `seconds`."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        for ep in endpoints:
            r = cmq_call(ep, 'ClusterStatus')
            groups = (r or {}).get('groups') or []
            if r and r.get('code') == 0 and groups and all(g.get('leaderId') for g in groups):
                time.sleep(5)  # leadership balancing moves each group to its node
                return True
        time.sleep(0.5)
    return False


def leader_endpoint(endpoints, http_base, queue):
    """The endpoint of the node that leads `queue`'s data group (scripts/cluster: node N
    serves on HTTP_BASE + N). The queue is created for a probe message, whose id carries
    its group in the top 16 bits, then deleted again."""
    ep = endpoints[0]
    cmq_call(ep, 'CreateQueue', {'queueName': queue})
    r = cmq_call(ep, 'SendMessage', {'queueName': queue, 'msgBody': 'probe'})
    cmq_call(ep, 'DeleteQueue', {'queueName': queue})
    if not r or r.get('code') != 0:
        return ep
    group = int(r['msgId']) >> 48
    status = cmq_call(ep, 'ClusterStatus') or {}
    for g in status.get('groups') or []:
        if g.get('groupId') == group and g.get('leaderId'):
            leader = int(g['leaderId'])
            print(f'# {queue}: data group {group}, clients on its leader, node {leader}',
                  file=sys.stderr)
            return f'http://127.0.0.1:{http_base + leader}'
    return ep


class Running:
    """Servers that already run (--endpoints, --server-pids): nothing to start or stop."""

    def __init__(self, endpoints, pids):
        self.eps, self.pids = endpoints, pids

    def __enter__(self):
        return self.eps, self.pids, f'{len(self.eps)} endpoint(s) given'

    def __exit__(self, *exc):
        pass
