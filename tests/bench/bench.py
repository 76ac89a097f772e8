#!/usr/bin/env python3
"""bench.py: the driver of `./stack bench [ROW...]` (Python 3 standard library).

    bench.py check [ROW...]   fail (exit 2) when a ROW is not a row
    bench.py run [ROW...]     run the rows (all of them without ROW) against
                              the bench stack ./stack started

./stack starts and stops the services (MariaDB, labeld, nginx, the bench
Azurite) and compiles the C helpers; everything measured, parsed and
computed is here.  The running stack is described by environment variables
./stack sets (see Stack).  Each row prints its progress, then the run ends
with one table: every row with its value, its goal and PASS or MISS (or "no
goal", or ERROR when it could not be measured), and last the machine's
yardsticks measured in the same run (nginx serving a static file, and
/healthz).  var/bench/results.jsonl gets one JSON object per row of the run,
var/bench/history.jsonl every run.  See tests/bench/README.md.
"""
import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------- the rows
# Request rows: NAME -> (METHOD, PATH, SCRIPT or None, NEEDS).  SCRIPT is a
# Lua file in tests/bench/ that report.lua loads inside wrk (it may set
# wrk.method / wrk.body / wrk.headers); NEEDS "session" signs in as the
# bench admin first (the script finds the Cookie value in
# os.getenv("LABELD_BENCH_COOKIE") and the CSRF token in
# os.getenv("LABELD_BENCH_CSRF")).  static and healthz are the yardsticks
# every other row is judged against: keep them first.
REQUEST_ROWS = {
    "static": ("GET", "/static/labeld.css", None, "none"),
    "healthz": ("GET", "/healthz", None, "none"),
    "signin-page": ("GET", "/login", None, "none"),
}
YARDSTICKS = ("static", "healthz")

# Labeling rows: NAME -> kind (tests/bench/README.md, "Labeling rows").
LABEL_ROWS = {
    "label-page": "page",
    "label-submit": "submit",
    "label-lease": "lease",
    "label-cycle": "cycle",
    "label-page-weight": "weight",
}

# Rows still run by ./stack's bash functions (moved here one by one).
OLD_ROWS = ("label-page", "label-submit", "label-lease", "label-cycle", "label-page-weight",
            "init-local-100k", "init-azurite-100k", "image-flood", "init-local-1m")

ALL_ROWS = list(REQUEST_ROWS) + list(OLD_ROWS)

LABEL_ITEMS = 100000
LABEL_NAMES = ("cat", "dog", "bird", "horse", "sheep", "cow", "elephant", "bear", "zebra")
WEIGHT_GOAL = 20480
P99_GOAL_MS = 25


def env_int(name, default):
    v = os.environ.get(name, "")
    if not v:
        return default
    if not re.fullmatch(r"[0-9]+", v):
        sys.exit("bench: %s must be a number, not %r" % (name, v))
    return int(v)


SECONDS = env_int("LABELD_BENCH_SECONDS", 10)
CONNECTIONS = env_int("LABELD_BENCH_CONNECTIONS", 32)
WORKERS = env_int("LABELD_BENCH_WORKERS", 32)
ANSWERERS = env_int("LABELD_BENCH_ANSWERERS", 100000)


def say(text):
    print("==> " + text, flush=True)


def info(text):
    print("    " + text, flush=True)


def warn(text):
    print("bench: warning: " + text, file=sys.stderr, flush=True)


class Fail(Exception):
    """A row could not be measured; the message says why."""


# ---------------------------------------------------------------- the stack

class Stack:
    """The bench stack ./stack started, from its environment variables."""

    def __init__(self):
        e = os.environ
        try:
            self.root = e["LABELD_BENCH_ROOT"]
            self.url = e["LABELD_BENCH_URL"]
            self.socket = e["LABELD_BENCH_DB_SOCKET"]
            self.db_user = e["LABELD_BENCH_DB_USER"]
            self.email = e["LABELD_BENCH_ADMIN_EMAIL"]
            with open(e["LABELD_BENCH_ADMIN_PASSWORD_FILE"]) as f:
                self.password = f.read().strip()
            self.stack = e["LABELD_BENCH_STACK"]
        except (KeyError, OSError) as err:
            sys.exit("bench: run through ./stack bench (%s)" % err)
        self.ts = e.get("LABELD_BENCH_TS") or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        u = urllib.parse.urlsplit(self.url)
        self.host, self.port = u.hostname, u.port
        self.results = os.path.join(self.root, "results.jsonl")

    def sql(self, text):
        """Run SQL with the mariadb client on the bench database; the rows
        of its output as lists of strings.  Raises Fail on an error."""
        p = subprocess.run(["mariadb", "--no-defaults", "--socket=" + self.socket,
                            "-u", self.db_user, "-N", "-B", "labeld_bench"],
                           input=text, capture_output=True, text=True)
        if p.returncode != 0:
            raise Fail("mariadb: " + p.stderr.strip())
        return [line.split("\t") for line in p.stdout.splitlines()]

    def sql_value(self, text):
        rows = self.sql(text)
        return rows[-1][0] if rows else None

    def pid(self, name):
        try:
            with open(os.path.join(self.root, "run", name + ".pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def request(self, method, path, headers=None, body=None):
        """One HTTP request on a new connection: (status, headers, body)."""
        c = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, r.headers, r.read()
        finally:
            c.close()


def quote(s):
    """s as a quoted SQL string literal."""
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


CSRF_RE = re.compile(r'<input[^>]*name="csrf"[^>]*>')
VALUE_RE = re.compile(r'value="([^"]*)"')


def csrf_of(page):
    m = CSRF_RE.search(page)
    v = VALUE_RE.search(m.group(0)) if m else None
    return v.group(1) if v else None


def session_cookie(headers):
    for v in headers.get_all("Set-Cookie") or []:
        name, _, rest = v.partition("=")
        if name.strip() == "labeld_session":
            return "labeld_session=" + rest.split(";")[0]
    return None


def sign_in(st, email, password):
    """Sign in as a browser does; (Cookie header value, the session's CSRF
    token).  Raises Fail."""
    status, headers, body = st.request("GET", "/login")
    pre = session_cookie(headers)
    csrf = csrf_of(body.decode("utf-8", "replace"))
    if not csrf:
        raise Fail("no csrf field on /login")
    form = urllib.parse.urlencode({"email": email, "password": password, "csrf": csrf,
                                   "next": "/projects"})
    h = {"Content-Type": "application/x-www-form-urlencoded"}
    if pre:
        h["Cookie"] = pre
    status, headers, _ = st.request("POST", "/login", h, form)
    if status != 303:
        raise Fail("%s: sign-in answered %d" % (email, status))
    cookie = session_cookie(headers)
    if not cookie:
        raise Fail("%s: no labeld_session cookie after sign-in" % email)
    _, _, body = st.request("GET", "/projects", {"Cookie": cookie})
    csrf = csrf_of(body.decode("utf-8", "replace"))
    if not csrf:
        raise Fail("%s: no CSRF token on /projects" % email)
    return cookie, csrf


# ---------------------------------------------------------------- wrk

def wrk(st, script, path, out, threads=2, env=None):
    """wrk -tTHREADS -cCONNECTIONS -dSECONDS --latency -s SCRIPT URL; its
    output goes to var/bench/OUT.  Returns the object of its LABELD_BENCH
    line and the LABELD_BENCH_BAD lines.  Raises Fail."""
    full = dict(os.environ)
    full.update(env or {})
    argv = ["wrk", "-t%d" % threads, "-c%d" % CONNECTIONS, "-d%ds" % SECONDS, "--latency",
            "-s", os.path.join(HERE, script), st.url + path]
    p = subprocess.run(argv, env=full, capture_output=True, text=True)
    text = p.stdout + p.stderr
    with open(os.path.join(st.root, out), "w") as f:
        f.write(text)
    line, bad = None, []
    for l in text.splitlines():
        if l.startswith("LABELD_BENCH "):
            line = l[len("LABELD_BENCH "):]
        elif l.startswith("LABELD_BENCH_BAD "):
            bad.append(l[len("LABELD_BENCH_BAD "):])
    if p.returncode != 0 or line is None:
        sys.stderr.write(text[-3000:])
        raise Fail("wrk failed (var/bench/%s)" % out)
    return json.loads(line), bad


def ratio(a, b):
    return round(a / b, 3) if b else None


def fmt_ratio(r):
    return "-" if r is None else "%.3f" % r


# ---------------------------------------------------------------- CPU time

def proc_ticks(pid):
    """User + system clock ticks of a process and all its threads so far."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return out


def cpu_ticks(st):
    """(labeld, mariadbd, nginx workers) CPU ticks of the bench stack."""
    l, m, n = st.pid("labeld"), st.pid("mysqld"), st.pid("nginx")
    return (proc_ticks(l) if l else 0, proc_ticks(m) if m else 0,
            sum(proc_ticks(c) for c in children(n)) if n else 0)


def cpu_per_request(c0, c1, requests):
    """CPU microseconds per request of labeld, MariaDB and nginx."""
    hz = os.sysconf("SC_CLK_TCK")
    us = [round((b - a) * 1e6 / hz / requests) if requests > 0 else 0 for a, b in zip(c0, c1)]
    return ({"labeld_cpu_us": us[0], "mariadb_cpu_us": us[1], "nginx_cpu_us": us[2]},
            "CPU per request: labeld %d µs, MariaDB %d µs, nginx %d µs" % tuple(us))


# ---------------------------------------------------------------- the run

class Run:
    """One run: the stack, the rows measured so far (their JSON objects, in
    order) and the lines of the final table."""

    def __init__(self, st):
        self.st = st
        self.objects = []
        self.table = []  # (name, value text, goal text, result, note)
        self.failed = False

    def add(self, obj, value, goal, note=""):
        """Record a row: its JSON object (appended to results.jsonl now) and
        its line of the table; result "-" prints as "no goal"."""
        self.objects.append(obj)
        with open(self.st.results, "a") as f:
            f.write(json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n")
        result = obj.get("result", "-")
        if result == "ERROR":
            self.failed = True
        self.table.append((obj["name"] + ("" if "task" not in obj else " " + obj["task"]),
                           value, goal, "no goal" if result == "-" else result, note))

    def value_of(self, name):
        for o in self.objects:
            if o["name"] == name:
                return o["value"]
        return None

    def print_table(self):
        if not self.table:
            return
        say("results (also in var/bench/results.jsonl)")
        w = max(len(t[0]) for t in self.table)
        info("%-*s %16s %22s %8s  %s" % (w, "name", "value", "goal", "result", "note"))
        for name, value, goal, result, note in self.table:
            info("%-*s %16s %22s %8s  %s" % (w, name, value, goal or "-", result, note))
        ys = [(n, o) for n in YARDSTICKS for o in self.objects if o["name"] == n]
        if ys:
            info("yardsticks of this machine, measured in this run: " + "; ".join(
                "%s %.0f req/s (p50 %.2f ms, p99 %.2f ms)" % (
                    {"static": "nginx static file", "healthz": "/healthz"}[n],
                    o["value"], o["p50_ms"], o["p99_ms"]) for n, o in ys))


# ---------------------------------------------------------------- request rows

def request_rows(run, names):
    st = run.st
    cookie = csrf = None
    if any(REQUEST_ROWS[n][3] == "session" for n in names):
        cookie, csrf = sign_in(st, st.email, st.password)
    say("wrk -t2 -c%d -d%ds against %s (one labeld, workers=%d)" % (
        CONNECTIONS, SECONDS, st.url, WORKERS))
    measured = []
    for n in names:
        method, path, script, _ = REQUEST_ROWS[n]
        if script is None:
            h = {"Cookie": cookie} if cookie else {}
            try:
                code = st.request(method, path, h)[0]
            except OSError:
                code = 0
            if not 200 <= code < 400:
                warn("%s: %s %s answers %d; not benchmarking it" % (n, method, path, code))
                measured.append((n, None))
                continue
        info("%s: %s %s" % (n, method, path))
        env = {"LABELD_BENCH_METHOD": method, "LABELD_BENCH_NAME": n,
               "LABELD_BENCH_SCRIPT": os.path.join(HERE, script) if script else "",
               "LABELD_BENCH_COOKIE": cookie or "", "LABELD_BENCH_CSRF": csrf or ""}
        r, _ = wrk(st, "report.lua", path, "wrk-%s.txt" % n, env=env)
        measured.append((n, r))
    srps = next((r["rps"] for n, r in measured if n == "static" and r), None)
    hrps = next((r["rps"] for n, r in measured if n == "healthz" and r), None)
    errors = False
    for n, r in measured:
        if r is None:
            r = {"rps": 0, "p50_ms": 0, "p99_ms": 0, "requests": 0}
            err = -1
        else:
            err = r["errors_status"] + r["errors_socket"]
        errors = errors or err != 0
        obj = {"name": n, "value": r["rps"], "unit": "req/s", "p50_ms": r["p50_ms"],
               "p99_ms": r["p99_ms"], "ratio_to_static": ratio(r["rps"], srps),
               "ratio_to_healthz": ratio(r["rps"], hrps), "requests": r["requests"],
               "errors": err, "connections": CONNECTIONS, "duration_s": SECONDS,
               "timestamp": st.ts}
        note = "p50 %.2f ms, p99 %.2f ms; x static %s, x healthz %s; %d errors" % (
            r["p50_ms"], r["p99_ms"], fmt_ratio(obj["ratio_to_static"]),
            fmt_ratio(obj["ratio_to_healthz"]), err)
        run.add(obj, "%.1f req/s" % r["rps"],
                "(yardstick)" if n in YARDSTICKS else None, note)
    if errors:
        warn("some rows had errors (non-2xx/3xx answers or socket errors); see var/bench/wrk-*.txt")


# ---------------------------------------------------------------- driver

def select(names, quiet=True):
    """The rows to run, in the order they run (request rows first: the
    others are judged against static and healthz of the same run)."""
    for n in names:
        if n not in ALL_ROWS:
            sys.stderr.write("stack: error: unknown bench row '%s' (rows: %s)\n"
                             % (n, " ".join(ALL_ROWS)))
            sys.exit(2)
    want = list(dict.fromkeys(names)) if names else list(ALL_ROWS)
    http = [n for n in want if n in REQUEST_ROWS]
    if http or any(n in LABEL_ROWS for n in want):
        added = [n for n in YARDSTICKS if n not in http]
        if added and names and not quiet:
            info("also measuring %s: every row's ratios are to static and healthz of the same run"
                 % " ".join(added))
        http = list(YARDSTICKS) + [n for n in http if n not in YARDSTICKS]
    return (http, [n for n in want if n in LABEL_ROWS], [n for n in want if n in OLD_ROWS])


def main():
    ap = argparse.ArgumentParser(description="the driver of ./stack bench")
    ap.add_argument("command", choices=("check", "run", "old-rows"))
    ap.add_argument("rows", nargs="*")
    args = ap.parse_args()
    if args.command == "check":
        select(args.rows)
        return 0
    if args.command == "old-rows":
        print(" ".join(select(args.rows)[2]))
        return 0
    http, label, _ = select(args.rows, quiet=False)
    st = Stack()
    run = Run(st)
    try:
        if http:
            request_rows(run, http)
    except Fail as e:
        run.print_table()
        sys.exit("stack: error: bench: %s" % e)
    run.print_table()
    return 1 if run.failed else 0


if __name__ == "__main__":
    sys.exit(main())
