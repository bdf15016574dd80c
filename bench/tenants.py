#!/usr/bin/env python3
"""Tenant creation latency: starts the server on 127.0.0.1 (a fresh database, the defaults, so
tenants get the `fast` hash preset), then CREATORS clients create TOTAL tenants between them,
each waiting for its answer before the next, and prints p50/p90/p99/max. Python stdlib only;
bounded by TOTAL; the server is stopped at the end.

    python3 bench/tenants.py BINARY     (env: PORT=18191 CREATORS=8 TOTAL=200 BODY='{}')
"""

import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

HOST = "127.0.0.1"
PORT = int(os.environ.get("PORT", "18191"))
CREATORS = int(os.environ.get("CREATORS", "8"))
TOTAL = int(os.environ.get("TOTAL", "200"))
BODY = os.environ.get("BODY", "{}").encode()


def creator(count, times, statuses):
    conn = http.client.HTTPConnection(HOST, PORT, timeout=60)
    for _ in range(count):
        started = time.perf_counter()
        conn.request("POST", "/_soundcheck/tenants", body=BODY,
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        times.append((time.perf_counter() - started) * 1000)
        statuses.append(response.status)
    conn.close()


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    work = tempfile.mkdtemp(prefix="tenants-")
    server = subprocess.Popen(
        [os.path.abspath(sys.argv[1]), "--db", os.path.join(work, "t.db"), "--addr", f"{HOST}:{PORT}"],
        env=dict(os.environ, RUST_LOG="warn"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                c = http.client.HTTPConnection(HOST, PORT, timeout=2)
                c.request("GET", "/_soundcheck/health")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.05)
        else:
            sys.exit("the server did not come up")
        time.sleep(1)  # the catalogue indexes in the background
        # Warm-up: the first creations open the write path's caches.
        creator(5, [], [])
        times, statuses = [], []
        threads = [threading.Thread(target=creator, args=(TOTAL // CREATORS, times, statuses))
                   for _ in range(CREATORS)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        t = sorted(times)
        p = lambda q: t[min(len(t) - 1, int(q * len(t)))]
        ok = sum(s == 201 for s in statuses)
        print(f"{len(t)} creations by {CREATORS} concurrent creators ({ok} × 201) in {elapsed:.2f} s "
              f"({len(t) / elapsed:.0f}/s): p50 {p(0.5):.1f} ms, p90 {p(0.9):.1f} ms, "
              f"p99 {p(0.99):.1f} ms, max {t[-1]:.1f} ms")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
