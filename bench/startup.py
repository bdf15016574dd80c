#!/usr/bin/env python3
"""Time from process start to the first 200 from GET /health, on a fresh database.

usage: startup.py BINARY DB_PATH PORT [RUNS] [--keep-db] [--path P] [--key HEADER] [-- EXTRA ARGS]
Polls with raw sockets (no per-try process spawn) and prints the median in milliseconds, and
the server's CPU time (user + system) at its first 200, per run and median.
By default each run starts on a fresh database; --keep-db measures an already-built one.
"""
import os
import socket
import statistics
import subprocess
import sys
import time

args = sys.argv[1:]
extra = []
if "--" in args:
    extra = args[args.index("--") + 1:]
    args = args[: args.index("--")]
keep_db = "--keep-db" in args
path = "/api/v1/integration/health"
key = "X-API-Key: msk_prod_1234567890abcdef"
if "--path" in args:
    path = args[args.index("--path") + 1]
if "--key" in args:
    key = args[args.index("--key") + 1]
positional = [a for i, a in enumerate(args) if not a.startswith("--") and (i == 0 or args[i - 1] not in ("--path", "--key"))]
binary, db, port = positional[0], positional[1], int(positional[2])
runs = int(positional[3]) if len(positional) > 3 else 5
request = (
    f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{key}\r\nConnection: close\r\n\r\n"
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


def cpu_seconds(pid):
    """User + system time of process `pid` so far (all its threads), from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


times, cpus = [], []
for _ in range(runs):
    for suffix in ("", "-wal", "-shm") if not keep_db else ():
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    env = dict(os.environ, RUST_LOG="warn")
    start = time.monotonic()
    proc = subprocess.Popen(
        [binary, "--db", db, "--addr", f"127.0.0.1:{port}", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    ok = first_200(start + 60)
    elapsed = (time.monotonic() - start) * 1000
    cpus.append(cpu_seconds(proc.pid))
    proc.terminate()
    proc.wait(timeout=10)
    if not ok:
        sys.exit("server did not answer 200 within 60 s")
    times.append(elapsed)
what = "already-built database" if keep_db else "fresh database each run"
print("runs (wall ms / server CPU s): " + ", ".join(f"{t:.0f}/{c:.2f}" for t, c in zip(times, cpus)))
print(f"server CPU at the first 200: median={statistics.median(cpus):.2f} s")
print(f"first 200 on {path}: median={statistics.median(times):.1f} ms min={min(times):.1f} max={max(times):.1f} runs={runs} ({what})")
