#!/usr/bin/env python3
"""The soak (bench/soak.sh runs it): one server at default hash cost on 127.0.0.1, and one
phase after another the bursts of issue 11, items 1-3 and 10. Each phase prints the server's
peak and final RSS (from /proc/PID/status, sampled every 20 ms); the hashing phases also print
the latency of a verified key polled meanwhile, and of a key's first use. Python stdlib only.
Bounded: every phase has a fixed size or duration, and the server is stopped at the end.

    python3 bench/soak.py BINARY   (env: PORT, SEND_SECONDS, IDLE_WAIT, PHASES=abcde,
                                    SERVER_ARGS: extra server flags, e.g. "--hash-queue 1000")
"""

import http.client
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

HOST = "127.0.0.1"
PORT = int(os.environ.get("PORT", "18190"))
SEND_SECONDS = float(os.environ.get("SEND_SECONDS", "10"))
IDLE_WAIT = float(os.environ.get("IDLE_WAIT", "35"))
PHASES = os.environ.get("PHASES", "abcde")
SERVER_ARGS = os.environ.get("SERVER_ARGS", "").split()
MSK = "msk_prod_1234567890abcdef"  # a fixture key: verified once, then cached
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def request(method, path, body=None, headers=None, timeout=120):
    conn = http.client.HTTPConnection(HOST, PORT, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        hdrs = {"Content-Type": "application/json"} if data is not None else {}
        hdrs.update(headers or {})
        conn.request(method, path, body=data, headers=hdrs)
        response = conn.getresponse()
        raw = response.read()
        return response.status, (json.loads(raw) if raw else None)
    finally:
        conn.close()


class Rss:
    """Samples the server's VmRSS while a phase runs."""

    def __init__(self, pid):
        self.pid, self.peak, self.stop = pid, 0.0, threading.Event()

    def now(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def __enter__(self):
        self.peak, self.stop = self.now(), threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()
        return self

    def sample(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, self.now())
            time.sleep(0.02)

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def poll(key):
    """The poller process: GET /health with `key` on one keep-alive connection every 5 ms,
    until its stdin closes; then prints each latency (ms) and the count of non-200s as JSON."""
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    times, errors = [], 0
    conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
    while not stop.is_set():
        started = time.perf_counter()
        try:
            conn.request("GET", "/api/v1/integration/health", headers={"X-API-Key": key})
            response = conn.getresponse()
            response.read()
            errors += response.status != 200
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
        times.append((time.perf_counter() - started) * 1000)
        time.sleep(0.005)
    print(json.dumps({"times": times, "errors": errors}))


class Poller:
    """A verified key polled from a process of its own, so that the burst's client threads
    do not slow the poller down and show up as server latency."""

    key = None

    def __enter__(self):
        self.process = subprocess.Popen([sys.executable, __file__, "--poll", self.key],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        time.sleep(0.3)  # a few requests before the burst starts
        return self

    def __exit__(self, *exc):
        out, _ = self.process.communicate("", timeout=60)
        result = json.loads(out)
        self.times, self.errors = result["times"], result["errors"]

    def summary(self):
        if not self.times:
            return "verified key: no samples"
        t = sorted(self.times)
        p = lambda q: t[min(len(t) - 1, int(q * len(t)))]
        return (f"verified key: {len(t)} requests, p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, "
                f"max {t[-1]:.1f} ms, {self.errors} not 200")


def report(label, rss, extra=""):
    time.sleep(1.0)  # let the phase's last work finish before the final reading
    print(f"{label:<44} peak {rss.peak:7.1f} MB  final {rss.now():7.1f} MB  {extra}", flush=True)


def burst(n, fn):
    """Runs fn(i) for i in 0..n on n threads released together; returns the results."""
    gate = threading.Barrier(n)

    def run(i):
        gate.wait()
        return fn(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def counts(statuses):
    tally = {}
    for s in statuses:
        tally[s] = tally.get(s, 0) + 1
    return " ".join(f"{k}:{v}" for k, v in sorted(tally.items(), key=lambda kv: str(kv[0])))


def create_tenant(spec=None):
    """A tenant whose secrets are hashed at default cost, as the issue's were. A build from
    before `hashCost` existed refuses the field and hashes at the server's (default) cost."""
    status, body = request("POST", "/_soundcheck/tenants", {"hashCost": "default", **(spec or {})})
    if status == 400 and "hashCost" in json.dumps(body):
        status, body = request("POST", "/_soundcheck/tenants", spec or {})
    return status, body


def status_of(fn):
    try:
        return fn()[0]
    except (OSError, http.client.HTTPException) as e:
        return type(e).__name__


def phase_legacy_burst(pid):
    # A tenant whose company token is stored at default cost, as the was.
    status, tenant = create_tenant({"musique": {"company": "soak", "stores": 2}})
    assert status == 201, tenant
    fresh = next(t["token"] for t in tenant["musique"]["tokens"] if t["environment"] == "dev")
    first_use = {}

    def new_key_first_use():
        time.sleep(0.2)  # into the burst
        started = time.perf_counter()
        s = status_of(lambda: request("GET", "/api/v1/integration/health", headers={"X-API-Key": fresh}))
        first_use["ms"], first_use["status"] = (time.perf_counter() - started) * 1000, s

    with Rss(pid) as rss, Poller() as poller:
        side = threading.Thread(target=new_key_first_use)
        side.start()
        statuses = burst(256, lambda i: status_of(lambda: request(
            "POST", "/api/integration/auth",
            {"externalId": "store_001", "companyToken": f"soak_company_wrong{i:024d}"})))
        side.join()
    report("(a) 256 legacy auth, wrong company tokens", rss, counts(statuses))
    print(f"    {poller.summary()}; a new key's first use: {first_use.get('ms', 0):.0f} ms "
          f"({first_use.get('status')})", flush=True)


def phase_tenant_burst(pid):
    with Rss(pid) as rss, Poller() as poller:
        results = burst(32, lambda i: create_tenant())
    report("(b) 32 concurrent tenant creations (default)", rss, counts(s for s, _ in results))
    print(f"    {poller.summary()}", flush=True)
    for status, body in results:
        if status == 201:
            request("DELETE", f"/_soundcheck/tenants/{body['id']}")


def phase_tenant_churn(pid):
    with Rss(pid) as rss:
        ids = []
        for _ in range(20):
            status, body = create_tenant()
            assert status == 201, body
            ids.append(body["id"])
        created = rss.now()
        for tenant in ids:
            request("DELETE", f"/_soundcheck/tenants/{tenant}")
    report("(c) 20 tenants created, then deleted", rss, f"after creating {created:.1f} MB")


def phase_connections(pid):
    idle, slow = [], []
    refused = turned_away = 0
    with Rss(pid) as rss:
        for _ in range(2500):
            try:
                s = socket.create_connection((HOST, PORT), timeout=5)
                s.sendall(b"GET /_soundcheck/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                if s.recv(65536).startswith(b"HTTP/1.1 503"):
                    turned_away += 1  # over --max-connections: answered 503 and closed
                idle.append(s)
            except OSError:
                refused += 1
        for _ in range(200):
            try:
                s = socket.create_connection((HOST, PORT), timeout=5)
                s.sendall(b"GET /_soundcheck/health HTTP/1.1\r\n")
                slow.append(s)
            except OSError:
                refused += 1
        opened = time.monotonic()
        # Slowloris: one more header byte per connection per second, until IDLE_WAIT is up.
        while time.monotonic() - opened < IDLE_WAIT:
            for s in slow:
                try:
                    s.send(b"X")
                except OSError:
                    pass
            time.sleep(1)

        def still_open(s):
            s.setblocking(False)
            try:
                return s.recv(1) != b""
            except BlockingIOError:
                return True
            except OSError:
                return False

        idle_open = sum(still_open(s) for s in idle)
        slow_open = sum(still_open(s) for s in slow)
        for s in idle + slow:
            s.close()
    report(f"(d) 2,500 idle + 200 slowloris, {IDLE_WAIT:.0f} s", rss,
           f"open after: idle {idle_open}/{len(idle)}, slowloris {slow_open}/{len(slow)}, "
           f"turned away (503) {turned_away}, not connected {refused}")


def bench_key(binary, db):
    """A key for 10 stores with limits out of the way, made as `keys create` makes any key
    (default cost): its first use verifies it, every later one is a cache hit."""
    key = subprocess.run(
        [binary, "keys", "create", "--api", "musique", "--company", "bench", "--db", db,
         "--external-ids", ",".join(f"b{i:02d}" for i in range(1, 11)),
         "--limits", "1000000000/1000000000/1000000000"],
        check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    status, _ = request("GET", "/api/v1/integration/health", headers={"X-API-Key": key})
    assert status == 200, status
    return key


def phase_sends(pid, key):
    with open(os.path.join(ROOT, "tests/fixtures/tone_1s.mp3"), "rb") as f:
        mp3 = f.read()
    boundary = "soakboundary"
    form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"tone.mp3\"\r\n"
            f"Content-Type: audio/mpeg\r\n\r\n").encode() + mp3 + f"\r\n--{boundary}--\r\n".encode()
    conn = http.client.HTTPConnection(HOST, PORT, timeout=60)
    conn.request("POST", "/api/v1/integration/audio", body=form, headers={
        "X-API-Key": key, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    response = conn.getresponse()
    audio = json.loads(response.read())["id"]
    conn.close()
    time.sleep(1)
    rest = Rss(pid).now()
    body = json.dumps({"externalIds": [f"b{i:02d}" for i in range(1, 11)]}).encode()
    sent = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + SEND_SECONDS

    def sender():
        c = http.client.HTTPConnection(HOST, PORT, timeout=60)
        n = 0
        while time.monotonic() < deadline:
            c.request("POST", f"/api/v1/integration/audio/{audio}/send", body=body,
                      headers={"X-API-Key": key, "Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            n += r.status == 200
        c.close()
        with lock:
            sent[0] += n

    with Rss(pid) as rss:
        threads = [threading.Thread(target=sender) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        after_sends = rss.now()
        # Each store plays its sends one after another, a second each: move the clock past all.
        started = time.perf_counter()
        status, _ = request("POST", "/_soundcheck/tenants/default/clock",
                            {"advance": f"{sent[0] * 2 + 3600}s"}, timeout=600)
        advanced_in = time.perf_counter() - started
        # The write-behind (every 200 ms) moves the last of what finished to SQLite.
        time.sleep(1)
    report(f"(e) {sent[0]:,} sends to 10 stores ({sent[0] * 10:,} deliveries)", rss,
           f"rest before {rest:.1f} MB, after sends {after_sends:.1f} MB, "
           f"clock advanced ({status}) in {advanced_in:.1f} s")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--poll":
        return poll(sys.argv[2])
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    binary = os.path.abspath(sys.argv[1])
    raise_nofile()
    work = tempfile.mkdtemp(prefix="soak-")
    db = os.path.join(work, "soak.db")
    env = dict(os.environ, RUST_LOG="warn")
    server = subprocess.Popen([binary, "--db", db, "--addr", f"{HOST}:{PORT}", *SERVER_ARGS], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work)
    try:
        for _ in range(200):
            try:
                if request("GET", "/api/v1/integration/health", headers={"X-API-Key": MSK})[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        else:
            sys.exit("the server did not come up")
        time.sleep(1)  # the catalogue indexes in the background
        rest = Rss(server.pid).now()
        Poller.key = bench_key(binary, db)
        print(f"soundcheck {binary} on {HOST}:{PORT}, default hash cost; resting {rest:.1f} MB, "
              f"{Rss(server.pid).now():.1f} MB after a first default-cost key check", flush=True)
        phases = {
            "a": lambda: phase_legacy_burst(server.pid),
            "b": lambda: phase_tenant_burst(server.pid),
            "c": lambda: phase_tenant_churn(server.pid),
            "d": lambda: phase_connections(server.pid),
            "e": lambda: phase_sends(server.pid, Poller.key),
        }
        for name in PHASES:
            phases[name]()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
