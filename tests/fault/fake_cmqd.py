#!/usr/bin/env python3
"""A stand-in for a cluster cmqd, to test the fault harness itself (not OpenCMQ).

It takes cmqd's cluster command line, keeps a heartbeat link to every peer the way cmqd
does (the smaller id dials; both ends log 'link to N up/down', so the proxies' faults show
in its log), and relays every HTTP request to one real single-node cmqd named by
CMQ_FAKE_BACKEND=HOST:PORT. The queue's safety is then the backend's, so a run must pass;
with CMQ_FAKE_LOSE_EVERY=N the fake acknowledges every Nth SendMessage without relaying it
(a lost message), and a run must fail. Used by hand:

  build/cmqd --http 127.0.0.1:9000 --data /tmp/backend &
  CMQ_FAKE_BACKEND=127.0.0.1:9000 python3 tests/fault/run.py \\
      --cmqd tests/fault/fake_cmqd.py --duration 30
"""

import argparse
import http.client
import http.server
import itertools
import os
import socket
import sys
import threading
import time
import urllib.parse

HEARTBEAT_S = 0.2
LINK_TIMEOUT_S = 1.0


def log(text):
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def parse_address(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


class Links:
    """Heartbeats over one TCP connection per pair; logs when a link comes and goes."""

    def __init__(self, node_id, peers, listen):
        self.node_id, self.peers, self.listen = node_id, peers, listen

    def start(self):
        server = socket.create_server(self.listen, reuse_port=False)
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()
        for peer, address in self.peers.items():
            if self.node_id < peer:
                threading.Thread(target=self._dial, args=(peer, address), daemon=True).start()

    def _accept(self, server):
        while True:
            sock, _ = server.accept()
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock):
        peer = None
        with sock:
            sock.settimeout(LINK_TIMEOUT_S)
            try:
                for line in sock.makefile("rb"):
                    if peer is None:
                        peer = int(line.split()[1])
                        log(f"link to {peer} up (accepted)")
                    sock.sendall(f"pong {self.node_id}\n".encode())
            except (OSError, ValueError, IndexError):
                pass
        if peer is not None:
            log(f"link to {peer} down (accepted side)")

    def _dial(self, peer, address):
        while True:
            up = False
            try:
                with socket.create_connection(address, timeout=LINK_TIMEOUT_S) as sock:
                    reader = sock.makefile("rb")
                    while True:
                        sock.sendall(f"ping {self.node_id}\n".encode())
                        if not reader.readline():
                            break
                        if not up:
                            up = True
                            log(f"link to {peer} up (dialed {address[1]})")
                        time.sleep(HEARTBEAT_S)
            except OSError:
                pass
            if up:
                log(f"link to {peer} down")
            time.sleep(HEARTBEAT_S)


def make_handler(backend, lose_every):
    sends = itertools.count(1)

    class Relay(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            params = dict(urllib.parse.parse_qsl(body.decode()))
            if (lose_every and params.get("Action") == "SendMessage"
                    and next(sends) % lose_every == 0):
                answer = b'{"code":0,"message":"","requestId":"1","msgId":"%d"}' % (
                    10**15 + int(time.time() * 1000))
            else:
                connection = http.client.HTTPConnection(*backend, timeout=10)
                connection.request("POST", self.path, body=body,
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
                answer = connection.getresponse().read()
                connection.close()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    return Relay


def main():
    parser = argparse.ArgumentParser(description="fake cmqd for harness tests; --peers")
    parser.add_argument("--node-id", type=int, required=True)
    parser.add_argument("--peers", required=True)
    parser.add_argument("--listen")
    parser.add_argument("--http", required=True)
    parser.add_argument("--data", required=True)
    args = parser.parse_args()
    backend = os.environ.get("CMQ_FAKE_BACKEND")
    if not backend:
        sys.exit("CMQ_FAKE_BACKEND=HOST:PORT is required")
    peers = {int(k): parse_address(v) for k, v in
             (entry.split("=", 1) for entry in args.peers.split(","))}
    listen = parse_address(args.listen) if args.listen else peers[args.node_id]
    os.makedirs(args.data, exist_ok=True)
    Links(args.node_id, {k: v for k, v in peers.items() if k != args.node_id}, listen).start()
    server = http.server.ThreadingHTTPServer(
        parse_address(args.http),
        make_handler(parse_address(backend), int(os.environ.get("CMQ_FAKE_LOSE_EVERY", 0))))
    log(f"cmqd ready: fake node {args.node_id} on {args.http}, relaying to {backend}")
    server.serve_forever()


if __name__ == "__main__":
    main()
