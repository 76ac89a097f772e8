#!/usr/bin/env python3
"""image_flood.py: the image-flood row of ./stack bench (Python 3, stdlib only).

    image_flood.py make-image PATH MB
        Write a valid 24-bit BMP of about MB megabytes (10^6 bytes) to PATH
        (kept when it is already there with the right size).

    image_flood.py run --url URL --path PATH --pid-file FILE --results FILE
                       [--connections 64] [--seconds 10]
        Sign in as $LABELD_BENCH_EMAIL / $LABELD_BENCH_PASSWORD, then keep
        CONNECTIONS GETs of PATH (the image route) in flight through nginx
        for SECONDS (each connection asks again as soon as its image is
        read; after a 503 it waits Retry-After seconds, as a well-behaved
        client does), while one more connection, from a process of its own,
        asks for /healthz every 10 ms.
        Measures labeld's peak resident memory growth over the flood
        (rss_growth_mb: VmHWM after the flood, its peak reset with
        /proc/PID/clear_refs just before, minus VmRSS before; VmRSS is also
        sampled every 5 ms in case the reset is not allowed) and the p99 of
        the /healthz requests made during the flood (healthz_p99_ms).
        Prints the row and appends its JSON object to the results file.

Goals: rss_growth_mb <= 64 and healthz_p99_ms <= 50 (PASS, else MISS);
ERROR when an image answer was neither a whole image (200) nor 503 with
Retry-After, or /healthz failed.
"""

import argparse
import html.parser
import http.client
import json
import multiprocessing
import os
import struct
import sys
import threading
import time
import urllib.parse

from procmem import kib, reset_peak

RSS_GOAL_MB = 64.0
HEALTHZ_GOAL_MS = 50.0
CHUNK = 1 << 20


def make_image(path, mb):
    """A BMP (BITMAPINFOHEADER, 24 bits, bottom-up) of about mb MB."""
    width = 4096
    row = width * 3
    height = max(1, mb * 1000000 // row)
    size = 54 + row * height
    try:
        if os.path.getsize(path) == size:
            return
    except OSError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"BM" + struct.pack("<IHHI", size, 0, 0, 54))
        f.write(struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, row * height,
                            2835, 2835, 0, 0))
        line = bytes((x * 7) & 0xFF for x in range(row))
        for _ in range(height):
            f.write(line)
    os.replace(tmp, path)


class CsrfFinder(html.parser.HTMLParser):
    """The value of the first <input name="csrf">."""

    def __init__(self):
        super().__init__()
        self.csrf = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name") == "csrf" and self.csrf is None:
            self.csrf = a.get("value")


def sign_in(host, port, email, password):
    """The Cookie header value of a new session."""
    c = http.client.HTTPConnection(host, port, timeout=30)
    c.request("GET", "/login")
    r = c.getresponse()
    body = r.read().decode("utf-8", "replace")
    cookies = [v.split(";", 1)[0] for k, v in r.getheaders() if k.lower() == "set-cookie"]
    p = CsrfFinder()
    p.feed(body)
    if not p.csrf:
        raise SystemExit("image_flood: no csrf field on /login")
    form = urllib.parse.urlencode({"email": email, "password": password, "csrf": p.csrf,
                                   "next": "/projects"})
    c.request("POST", "/login", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": "; ".join(cookies)})
    r = c.getresponse()
    r.read()
    session = [v.split(";", 1)[0] for k, v in r.getheaders()
               if k.lower() == "set-cookie" and v.startswith("labeld_session=")]
    c.close()
    if r.status != 303 or not session:
        raise SystemExit("image_flood: sign-in answered %d without a session" % r.status)
    return session[0]


def percentile(values, p):
    """Nearest-rank percentile of values (0 when empty)."""
    if not values:
        return 0.0
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(-(-p * len(v) // 100)) - 1))
    return v[k]


class Flood:
    def __init__(self, host, port, path, cookie, deadline):
        self.host, self.port, self.path, self.cookie = host, port, path, cookie
        self.deadline = deadline
        self.lock = threading.Lock()
        self.status = {}
        self.bytes = 0
        self.errors = []
        self.lengths = set()
        self.image_ms = []

    def note(self, status, n, ms, error=None):
        with self.lock:
            self.status[status] = self.status.get(status, 0) + 1
            self.bytes += n
            if ms is not None:
                self.image_ms.append(ms)
            if error and len(self.errors) < 5:
                self.errors.append(error)

    def one(self):
        """GETs of the image until the deadline (at least one)."""
        buf = bytearray(CHUNK)
        conn = None
        first = True
        while first or time.monotonic() < self.deadline:
            first = False
            t0 = time.monotonic()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
                conn.request("GET", self.path, headers={"Cookie": self.cookie})
                r = conn.getresponse()
                want = r.getheader("Content-Length")
                got = 0
                while True:
                    n = r.readinto(buf)
                    if not n:
                        break
                    got += n
                ms = (time.monotonic() - t0) * 1000.0
                if r.status == 200:
                    if want is None or int(want) != got:
                        self.note(200, got, ms, "200 with %d bytes, Content-Length %s" % (got, want))
                    else:
                        with self.lock:
                            self.lengths.add(got)
                        self.note(200, got, ms)
                elif r.status == 503 and r.getheader("Retry-After"):
                    # As a well-behaved client does: ask again after Retry-After.
                    self.note(503, got, None)
                    time.sleep(float(r.getheader("Retry-After")))
                else:
                    self.note(r.status, got, None, "status %d" % r.status)
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                self.note("socket", 0, None, "%s: %s" % (type(e).__name__, e))
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()


def healthz_probe(host, port, stop, out):
    """GET /healthz every 10 ms until stop is set; sends (latencies in ms,
    failures, timeouts) to out.  A request that timed out (30 s) counts
    with its time: it is the slowest answer, not a broken measurement."""
    ms, bad, timeouts = [], [], 0
    c = http.client.HTTPConnection(host, port, timeout=30)
    while not stop.is_set():
        t0 = time.perf_counter()
        try:
            c.request("GET", "/healthz")
            r = c.getresponse()
            r.read()
            ms.append((time.perf_counter() - t0) * 1000.0)
            if r.status != 200:
                bad.append(r.status)
        except (OSError, http.client.HTTPException) as e:
            if isinstance(e, TimeoutError):
                ms.append((time.perf_counter() - t0) * 1000.0)
                timeouts += 1
            else:
                bad.append(str(e))
            c.close()
            c = http.client.HTTPConnection(host, port, timeout=30)
        time.sleep(0.01)
    c.close()
    out.send((ms, bad, timeouts))
    out.close()


def run(args):
    u = urllib.parse.urlsplit(args.url)
    host, port = u.hostname, u.port or 80
    with open(args.pid_file) as f:
        pid = int(f.read().split()[0])
    cookie = sign_in(host, port, os.environ["LABELD_BENCH_EMAIL"], os.environ["LABELD_BENCH_PASSWORD"])

    # One image first: the route works and the page cache holds the file.
    warm = Flood(host, port, args.path, cookie, 0)
    warm.one()
    if warm.status.get(200) != 1:
        raise SystemExit("image_flood: %s answered %s (%s)" % (args.path, warm.status, warm.errors))
    size = next(iter(warm.lengths))
    hz = http.client.HTTPConnection(host, port, timeout=30)
    for _ in range(20):
        hz.request("GET", "/healthz")
        hz.getresponse().read()
    time.sleep(0.5)

    rss0 = kib(pid, "VmRSS") or 0
    reset = reset_peak(pid)
    peak = [rss0]
    stop = threading.Event()

    def sampler():
        while not stop.is_set():
            peak[0] = max(peak[0], kib(pid, "VmRSS") or 0)
            time.sleep(0.005)

    # /healthz is timed from a process of its own: in this one its thread
    # would wait for the interpreter lock behind the 64 flood threads.
    hz_stop = multiprocessing.Event()
    hz_out, hz_in = multiprocessing.Pipe(duplex=False)
    prober = multiprocessing.Process(target=healthz_probe, args=(host, port, hz_stop, hz_in))
    prober.start()
    hz_in.close()
    time.sleep(0.2)

    t0 = time.monotonic()
    flood = Flood(host, port, args.path, cookie, t0 + args.seconds)
    threads = [threading.Thread(target=sampler)]
    for t in threads:
        t.start()
    workers = [threading.Thread(target=flood.one) for _ in range(args.connections)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    elapsed = time.monotonic() - t0
    hz_stop.set()
    stop.set()
    for t in threads:
        t.join()
    healthz_ms, healthz_bad, healthz_timeouts = hz_out.recv()
    prober.join()
    hwm = (kib(pid, "VmHWM") or 0) if reset else 0
    peak_kib = max(peak[0], hwm)

    growth = max(0.0, (peak_kib - rss0) / 1024.0)
    p99 = percentile(healthz_ms, 99)
    p50 = percentile(healthz_ms, 50)
    ok = flood.status.get(200, 0)
    busy = flood.status.get(503, 0)
    bad = sum(v for k, v in flood.status.items() if k not in (200, 503))
    if bad or healthz_bad or not healthz_ms or ok == 0 or flood.errors:
        result = "ERROR"
    elif growth <= RSS_GOAL_MB and p99 <= HEALTHZ_GOAL_MS:
        result = "PASS"
    else:
        result = "MISS"
    mbps = flood.bytes / (1 << 20) / elapsed if elapsed > 0 else 0.0
    row = {
        "name": "image-flood", "value": round(growth, 1), "unit": "MB",
        "rss_growth_mb": round(growth, 1), "healthz_p99_ms": round(p99, 2),
        "healthz_p50_ms": round(p50, 2), "healthz_requests": len(healthz_ms),
        "healthz_timeouts": healthz_timeouts,
        "rss_before_mb": round(rss0 / 1024.0, 1), "rss_peak_mb": round(peak_kib / 1024.0, 1),
        "peak_from": "VmHWM" if reset and hwm >= peak[0] else "VmRSS samples",
        "image_bytes": size, "connections": args.connections, "seconds": round(elapsed, 2),
        "images_200": ok, "images_503": busy, "images_other": bad,
        "image_p50_ms": round(percentile(flood.image_ms, 50), 1),
        "image_p99_ms": round(percentile(flood.image_ms, 99), 1),
        "mb_per_s": round(mbps, 1), "path": args.path,
        "goal": {"rss_growth_mb": RSS_GOAL_MB, "healthz_p99_ms": HEALTHZ_GOAL_MS},
        "result": result, "errors": flood.errors + [str(x) for x in healthz_bad[:5]],
        "timestamp": os.environ.get("LABELD_BENCH_TS", ""),
    }
    print("    %-12s %14s %15s %8s %8s %8s %7s  %s" % (
        "name", "rss_growth_mb", "healthz_p99_ms", "images", "503", "MB/s", "result", "note"))
    note = "%d x %.1f MB through nginx for %.1f s; labeld RSS %.0f -> peak %.0f MB; healthz p50 %.1f ms (%d requests)" % (
        args.connections, size / 1e6, elapsed, rss0 / 1024.0, peak_kib / 1024.0, p50, len(healthz_ms))
    if healthz_timeouts:
        note += "; %d /healthz timed out (30 s)" % healthz_timeouts
    if row["errors"]:
        note += "; errors: " + "; ".join(row["errors"])
    print("    %-12s %14.1f %15.2f %8d %8d %8.1f %7s  %s" % (
        "image-flood", growth, p99, ok, busy, mbps, result, note))
    with open(args.results, "a") as f:
        f.write(json.dumps(row, separators=(",", ":")) + "\n")
    return 0 if result != "ERROR" else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    mk = sub.add_parser("make-image")
    mk.add_argument("path")
    mk.add_argument("mb", type=int)
    rn = sub.add_parser("run")
    rn.add_argument("--url", required=True)
    rn.add_argument("--path", required=True)
    rn.add_argument("--pid-file", required=True)
    rn.add_argument("--results", required=True)
    rn.add_argument("--connections", type=int, default=64)
    rn.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    if args.cmd == "make-image":
        make_image(args.path, args.mb)
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
