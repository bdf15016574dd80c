#!/usr/bin/env python3
"""Time from process start to the first 200 from GET /health, on a fresh database.

usage: startup.py BINARY DB_PATH PORT [RUNS]
Polls with raw sockets (no per-try process spawn) and prints the median in milliseconds.
"""
import os
import socket
import statistics
import subprocess
import sys
import time

binary, db, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
runs = int(sys.argv[4]) if len(sys.argv) > 4 else 5
request = (
    "GET /api/v1/integration/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    "X-API-Key: msk_prod_1234567890abcdef\r\nConnection: close\r\n\r\n"
).encode()


def first_200(deadline):
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(request)
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return True
        except OSError:
            time.sleep(0.0005)
    return False


times = []
for fresh in [True] * runs:
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    env = dict(os.environ, RUST_LOG="warn")
    start = time.monotonic()
    proc = subprocess.Popen(
        [binary, "--db", db, "--addr", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    ok = first_200(start + 10)
    elapsed = (time.monotonic() - start) * 1000
    proc.terminate()
    proc.wait(timeout=10)
    if not ok:
        sys.exit("server did not answer 200 within 10 s")
    times.append(elapsed)
print(f"startup_ms median={statistics.median(times):.1f} min={min(times):.1f} max={max(times):.1f} runs={runs} (fresh database each run)")
