"""The peers for bench/compare: RabbitMQ quorum queues and NATS JetStream, run with the
peer benchmark's own scripts (/work/shared/peer-bench, README.md there), one 3-node cluster
at a time, and their results reduced to the rows of the comparison table. When a peer is
not installed, its figures come from that README's table (measured on 2026-11-25)."""
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

SYSTEMS = {
    'rmq': {'title': 'RabbitMQ 3.10 QQ', 'server': 'rabbitmq-server',
            'server_path': '/usr/lib/rabbitmq/bin/rabbitmq-server', 'cluster': 'rmq_cluster.sh',
            'go': 'rmqbench', 'node_module': 'amqplib'},
    'nats': {'title': 'NATS 2.9 JS R3', 'server': 'nats-server', 'server_path': None,
             'cluster': 'nats_cluster.sh', 'go': 'natsbench', 'node_module': 'nats'},
}

README_DATE = '2026-11-25'
# The peer-bench README table (Go clients, medians), row by row; None where it has no figure.
README = {
    'rmq': {'pub': {'msgs_per_s': 14336, 'p99_ms': 35.0, 'cpu': 107},
            'sync': {'msgs_per_s': 1011, 'p50_ms': 0.94, 'p99_ms': 1.57},
            'cons100': {'msgs_per_s': 10925, 'cpu': 129},
            'cons1000': {'msgs_per_s': 29160},
            'e2e': {'msgs_per_s': 4610, 'publish_msgs_per_s': 8984},
            'e2erate': {'p50_ms': 3.24, 'p99_ms': 28.4}},
    'nats': {'pub': {'msgs_per_s': 28632, 'p99_ms': 23.1, 'cpu': 55},
             'sync': {'msgs_per_s': 2700, 'p50_ms': 0.34, 'p99_ms': 0.99},
             'cons100': {'msgs_per_s': 40423, 'cpu': 38},
             'cons1000': {'msgs_per_s': 63420},
             'e2e': {'msgs_per_s': 14404, 'publish_msgs_per_s': 25751},
             'e2erate': {'p50_ms': 1.25, 'p99_ms': 6.2}},
}


def missing(sys_name, peer_dir):
    """Why this peer cannot run here (None if it can)."""
    s = SYSTEMS[sys_name]
    if not (shutil.which(s['server']) or (s['server_path'] and os.path.exists(s['server_path']))):
        return f"{s['server']} is not installed"
    if not shutil.which('node'):
        return 'node is not installed (run_suite.sh sets the queue up with the Node.js client)'
    node_path = os.environ.get('NODE_PATH', '/tmp/pb-node/node_modules')
    if not os.path.isdir(os.path.join(node_path, s['node_module'])):
        return f"the Node.js module {s['node_module']} is missing from {node_path} " \
               f"(see {peer_dir}/setup.sh)"
    return None


def client_for(sys_name):
    """The Go client when built (least client CPU, as in the README), else Node.js."""
    bin_dir = os.environ.get('PB_BIN', '/tmp/pb-bin')
    return 'go' if os.access(os.path.join(bin_dir, SYSTEMS[sys_name]['go']), os.X_OK) else 'node'


def run(sys_name, peer_dir, reps, out, steps):
    """Starts the peer's cluster, runs run_suite.sh (prefetch 100, then pub + cons with
    prefetch 1000), stops the cluster. Returns False if the suite failed."""
    ctl = os.path.join(peer_dir, SYSTEMS[sys_name]['cluster'])
    suite = os.path.join(peer_dir, 'run_suite.sh')
    client = client_for(sys_name)
    print(f'# {SYSTEMS[sys_name]["title"]}: 3-node cluster, {client} client, {reps} reps',
          file=sys.stderr)
    subprocess.run([ctl, 'wipe'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ok = True
    try:
        subprocess.run([ctl, 'start'], check=True)
        time.sleep(5)  # as run_all.sh: let the cluster settle
        main_steps = ' '.join(s for s in ['pub', 'cons', 'sync', 'e2e', 'e2erate'] if s in steps)
        if main_steps:
            ok &= subprocess.run([suite, sys_name, client, str(reps), out, main_steps],
                                 env=dict(os.environ, W='256', P='100', RATE='2000')).returncode == 0
        if 'cons' in steps:
            ok &= subprocess.run([suite, sys_name, client, str(reps), out, 'pub cons'],
                                 env=dict(os.environ, W='256', P='1000')).returncode == 0
    except subprocess.CalledProcessError:
        ok = False
    finally:
        subprocess.run([ctl, 'stop'])
    return ok


def _med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def _pick(rec, mode):
    return next((x for x in rec['results'] if x.get('mode') == mode), None)


def _cpu(rec):
    # As summarize.py: server CPU of the whole step / messages moved (published + consumed).
    msgs = sum(x.get('acked', 0) + x.get('consumed', 0) for x in rec['results'])
    return rec['server_cores_total'] * rec['wall_s'] / msgs * 1e6 if msgs else None


def figures(path, sys_name):
    """Medians over the reps of prun.py records in `path`, keyed by comparison row."""
    suffix = {'pub-w256': ('pub', 'pub'), 'pub-w1': ('sync', 'pub'),
              'cons-p100': ('cons100', 'cons'), 'cons-p1000': ('cons1000', 'cons'),
              'e2e-max': ('e2e', 'e2e-cons'), 'e2e-r2000': ('e2erate', 'e2e-cons')}
    recs = {}
    if os.path.exists(path):
        for line in open(path):
            r = json.loads(line)
            parts = r['label'].split('/')
            if parts[0] == sys_name and len(parts) == 3 and parts[2] in suffix:
                recs.setdefault(parts[2], []).append(r)
    out = {}
    for label, rs in recs.items():
        row, mode = suffix[label]
        res = [_pick(r, mode) for r in rs]
        res = [x for x in res if x]
        f = {'msgs_per_s': _med([x.get('msgs_per_s') for x in res]),
             'p50_ms': _med([x.get('lat_us_p50') for x in res]),
             'p99_ms': _med([x.get('lat_us_p99') for x in res]),
             'cpu': _med([_cpu(r) for r in rs]), 'reps': len(rs)}
        for k in ('p50_ms', 'p99_ms'):
            if f[k] is not None:
                f[k] /= 1000.0
        if mode == 'e2e-cons':
            f['publish_msgs_per_s'] = _med([(_pick(r, 'pub') or {}).get('msgs_per_s') for r in rs])
        out[row] = f
    return out
