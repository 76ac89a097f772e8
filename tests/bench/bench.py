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

from procmem import watch

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


def cookies(headers, jar):
    """The cookies a response sets, added to JAR (name -> value)."""
    for v in headers.get_all("Set-Cookie") or []:
        name, _, rest = v.partition("=")
        jar[name.strip()] = rest.split(";")[0]
    return jar


def cookie_header(jar):
    return "; ".join("%s=%s" % kv for kv in jar.items())


def sign_in(st, email, password):
    """Sign in as a browser does; (Cookie header value of the session, the
    session's CSRF token).  Raises Fail."""
    status, headers, body = st.request("GET", "/login")
    jar = cookies(headers, {})
    csrf = csrf_of(body.decode("utf-8", "replace"))
    if not csrf:
        raise Fail("no csrf field on /login")
    form = urllib.parse.urlencode({"email": email, "password": password, "csrf": csrf,
                                   "next": "/projects"})
    status, headers, _ = st.request("POST", "/login", {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie_header(jar)}, form)
    if status != 303:
        raise Fail("%s: sign-in answered %d" % (email, status))
    session = cookies(headers, {}).get("labeld_session")
    if not session:
        raise Fail("%s: no labeld_session cookie after sign-in" % email)
    cookie = "labeld_session=" + session
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

    def add(self, obj, value, goal, note="", write=True):
        """Record a row: its JSON object (appended to results.jsonl now,
        unless a helper did already) and its line of the table; result "-"
        prints as "no goal"."""
        self.objects.append(obj)
        if write:
            with open(self.st.results, "a") as f:
                f.write(json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n")
        result = obj.get("result", "-")
        if result == "ERROR":
            self.failed = True
        self.table.append((obj["name"] + ("" if "task" not in obj else " " + obj["task"]),
                           value, goal, "no goal" if result == "-" else result, note))

    def appended(self, name):
        """The object a helper appended to results.jsonl for row NAME (an
        ERROR object when it appended none)."""
        with open(self.st.results) as f:
            objs = [json.loads(l) for l in f if l.strip()]
        if objs and objs[-1].get("name") == name and objs[-1] not in self.objects:
            return objs[-1]
        obj = {"name": name, "value": 0, "result": "ERROR", "note": "the helper wrote no result",
               "timestamp": self.st.ts}
        with open(self.st.results, "a") as f:
            f.write(json.dumps(obj, separators=(",", ":")) + "\n")
        return obj

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


# ---------------------------------------------------------------- labeling rows

def label_project(st, task, name, n, labels):
    """A running project of TASK with N items (paths only: the pages never
    load the images) and these labels, made with SQL; its id."""
    values = ", ".join("(@p, %s, %d)" % (quote(l), i + 1) for i, l in enumerate(labels))
    return int(st.sql_value(
        "START TRANSACTION;\n"
        "INSERT INTO datasets (name, description, datastore_id, path, source)\n"
        "  SELECT %s, '', id, 'bench-label', 'datastore' FROM datastores WHERE is_default = 1;\n"
        "INSERT INTO projects (name, task, dataset_id, description, state)\n"
        "  VALUES (%s, %s, LAST_INSERT_ID(), 'labeling benchmark', 'running');\n"
        "SET @p = LAST_INSERT_ID();\n"
        "INSERT INTO labels (project_id, name, position) VALUES %s;\n"
        "INSERT INTO items (project_id, path, width, height, format)\n"
        "  SELECT @p, CONCAT('bench-label/', @p, '/', seq, '.jpg'), 640, 480, 'jpeg' FROM seq_1_to_%d;\n"
        "INSERT INTO project_counters (project_id, items_total) VALUES (@p, %d);\n"
        "INSERT IGNORE INTO teams (name) VALUES ('Bench labelers');\n"
        "INSERT INTO project_teams (project_id, team_id) SELECT @p, id FROM teams WHERE name = 'Bench labelers';\n"
        "COMMIT;\nSELECT @p;\n" % (quote(name + " images"), quote(name), quote(task), values, n, n)))


# Labelers see only the projects their teams serve (docs/access.md): every
# bench project is served by the team "Bench labelers", and every bench
# labeler is in it.
TEAM_JOIN = ("INSERT IGNORE INTO team_members (team_id, user_id)\n"
             "  SELECT t.id, u.id FROM teams t JOIN users u ON u.email LIKE '%%@bench.example.com'\n"
             "  WHERE t.name = 'Bench labelers';\n")


def first_label(st, p):
    return int(st.sql_value("SELECT id FROM labels WHERE project_id = %d ORDER BY position LIMIT 1" % p))


def stamp():
    return "%.6f" % time.time()


def answerers(st, p, n, fresh):
    """N more labelers, each signed in and (unless FRESH) holding a lease on
    its own item of project P, made with SQL as labeld stores them (a
    session row per labeler; items.lease_* and an item_events "leased" row
    per lease; tokens in labeld's format, 43 characters of base64url).
    Writes var/bench/label-leases.txt ("Cookie TAB csrf TAB
    /projects/P/items/I TAB lease") or, FRESH, var/bench/label-first.txt
    ("Cookie TAB csrf"); returns its path."""
    t = "bench_answerers_%d" % p
    out = os.path.join(st.root, "label-first.txt" if fresh else "label-leases.txt")
    st.sql(
        "CREATE TABLE %(t)s (\n"
        "  k BIGINT UNSIGNED PRIMARY KEY, user_id BIGINT UNSIGNED, item_id BIGINT UNSIGNED,\n"
        "  token CHAR(43) CHARACTER SET ascii, csrf CHAR(43) CHARACTER SET ascii,\n"
        "  lease CHAR(43) CHARACTER SET ascii) ENGINE=InnoDB;\n"
        "START TRANSACTION;\n"
        "INSERT INTO users (email, password_hash)\n"
        "  SELECT CONCAT('answerer', seq, '.', %(p)d, '@bench.example.com'), password_hash\n"
        "  FROM users, seq_1_to_%(n)d WHERE email = %(admin)s;\n"
        "%(join)s"
        "INSERT INTO %(t)s\n"
        "  SELECT seq, u.id, i.id,\n"
        "    CONCAT('s', LPAD(seq, 10, '0'), SUBSTRING(TO_BASE64(RANDOM_BYTES(24)), 1, 32)),\n"
        "    CONCAT('c', LPAD(seq, 10, '0'), SUBSTRING(TO_BASE64(RANDOM_BYTES(24)), 1, 32)),\n"
        "    CONCAT('l', LPAD(seq, 10, '0'), SUBSTRING(TO_BASE64(RANDOM_BYTES(24)), 1, 32))\n"
        "  FROM seq_1_to_%(n)d\n"
        "  JOIN users u ON u.email = CONCAT('answerer', seq, '.', %(p)d, '@bench.example.com')\n"
        "  JOIN items i ON i.project_id = %(p)d\n"
        "    AND i.path_hash = UNHEX(SHA2(CONCAT('bench-label/', %(p)d, '/', seq, '.jpg'), 256));\n"
        "UPDATE %(t)s SET token = REPLACE(REPLACE(token, '+', '-'), '/', '_'),\n"
        "  csrf = REPLACE(REPLACE(csrf, '+', '-'), '/', '_'), lease = REPLACE(REPLACE(lease, '+', '-'), '/', '_');\n"
        "INSERT INTO sessions (token_hash, user_id, csrf_token, remote_addr, user_agent)\n"
        "  SELECT UNHEX(SHA2(token, 256)), user_id, csrf, '127.0.0.1', 'labeld bench' FROM %(t)s;\n"
        "UPDATE items i JOIN %(t)s b ON b.item_id = i.id\n"
        "  SET i.lease_user = b.user_id, i.lease_until = NOW(6) + INTERVAL 1 HOUR,\n"
        "  i.lease_token = b.lease, i.version = i.version + 1\n"
        "  WHERE %(fresh)d = 0;\n"
        "INSERT INTO item_events (item_id, project_id, user_id, kind)\n"
        "  SELECT item_id, %(p)d, user_id, 'leased' FROM %(t)s WHERE %(fresh)d = 0;\n"
        "COMMIT;\n" % {"t": t, "p": p, "n": n, "admin": quote(st.email), "fresh": 1 if fresh else 0,
                    "join": TEAM_JOIN % ()})
    cols = "CONCAT('labeld_session=', token), csrf"
    if not fresh:
        cols += ", CONCAT('/projects/', %d, '/items/', item_id), lease" % p
    rows = st.sql("SELECT %s FROM %s ORDER BY k; DROP TABLE %s;" % (cols, t, t))
    if len(rows) != n:
        raise Fail("made %d labelers, not %d" % (len(rows), n))
    with open(out, "w") as f:
        f.writelines("\t".join(r) + "\n" for r in rows)
    return out


def status_value(st, name):
    return int(st.sql_value("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
                            "WHERE VARIABLE_NAME = '%s'" % name))


def db_settle(st):
    """Wait (at most 60 s) until MariaDB has written out what the labeling
    set-up left in memory (dirty pages) and purged its old row versions,
    flushing as fast as it can meanwhile: without this its background
    threads do that work during the measurement, and it counts against the
    row (its CPU per request, and its p99)."""
    t0 = time.monotonic()
    dirty = hist = -1
    st.sql("SET GLOBAL innodb_max_dirty_pages_pct = 0")
    try:
        for _ in range(120):
            dirty = status_value(st, "INNODB_BUFFER_POOL_PAGES_DIRTY")
            hist = status_value(st, "INNODB_HISTORY_LIST_LENGTH")
            if dirty < 64 and hist < 1000:
                break
            time.sleep(0.5)
    finally:
        st.sql("SET GLOBAL innodb_max_dirty_pages_pct = DEFAULT")
    info("MariaDB settled in %.1f s (%d dirty pages, history length %d; not measured)"
         % (time.monotonic() - t0, dirty, hist))


class Labeling:
    """The labeling rows of one run (tests/bench/README.md, "Labeling rows")."""

    def __init__(self, run):
        self.run = run
        self.st = run.st
        self.srps = run.value_of("static")
        self.hrps = run.value_of("healthz") or 0
        self.sessions = os.path.join(self.st.root, "label-sessions.txt")

    def setup(self):
        st = self.st
        say("labeling rows: a multiclass project of %d items, %d labelers" % (LABEL_ITEMS, CONNECTIONS))
        t0 = time.monotonic()
        self.p = label_project(st, "multiclass", "Bench labeling " + stamp(), LABEL_ITEMS, LABEL_NAMES)
        self.label = first_label(st, self.p)
        st.sql("INSERT INTO users (email, password_hash)\n"
               "  SELECT CONCAT('labeler', seq, '@bench.example.com'), password_hash FROM users, seq_1_to_%d\n"
               "  WHERE email = %s;\n" % (CONNECTIONS, quote(st.email)) + TEAM_JOIN % ())
        with open(self.sessions, "w") as f:
            for k in range(1, CONNECTIONS + 1):
                f.write("%s\t%s\n" % sign_in(st, "labeler%d@bench.example.com" % k, st.password))
        info("project %d and %d signed-in labelers ready in %.1f s (not measured)"
             % (self.p, CONNECTIONS, time.monotonic() - t0))

    def reference(self):
        """The healthz req/s a row is judged against: the higher of the
        run's healthz row and a new measurement just before the row (the
        machine's speed drifts from minute to minute; the higher one is the
        stricter yardstick)."""
        db_settle(self.st)
        again, _ = wrk(self.st, "report.lua", "/healthz", "wrk-healthz-again.txt",
                       env={"LABELD_BENCH_METHOD": "GET", "LABELD_BENCH_SCRIPT": "",
                            "LABELD_BENCH_NAME": "healthz", "LABELD_BENCH_COOKIE": ""})
        self.href = round(max(self.hrps, again["rps"]), 1)
        self.href_note = "healthz %.0f at the start, %.0f just before" % (self.hrps, again["rps"])

    def wrk(self, mode, p, label, name, sessions=None):
        """wrk with label.lua (two threads; the cycle one per connection);
        the LABELD_BENCH object and the CPU per request."""
        threads = CONNECTIONS if mode == "submit" else 2
        c0 = cpu_ticks(self.st)
        r, bad = wrk(self.st, "label.lua", "/projects/%d/label" % p, "wrk-%s.txt" % name, threads,
                     {"LABELD_BENCH_SESSIONS": sessions or self.sessions, "LABELD_BENCH_MODE": mode,
                      "LABELD_BENCH_LABEL": str(label),
                      "LABELD_BENCH_LEASES": os.path.join(self.st.root, "label-leases.txt"),
                      "LABELD_BENCH_THREADS": str(threads)})
        cpu = cpu_per_request(c0, cpu_ticks(self.st), r["requests"])
        if bad:
            warn("%s: unexpected answers (var/bench/wrk-%s.txt):\n    %s" % (mode, name, "\n    ".join(bad)))
        return r, cpu

    def row(self, name, kind, goal, note, r, cpu, extra):
        """Record a wrk labeling row: KIND (r itself, or r["get"] / r["post"])
        gives value and latency; GOAL is the ratio to healthz (None: no goal)."""
        rps, p50, p99 = kind["rps"], kind["p50_ms"], kind["p99_ms"]
        rs, rh = ratio(rps, self.srps), ratio(rps, self.href)
        if goal is None or rh is None:
            result = "-"
        else:
            result = "PASS" if rh >= goal and p99 < P99_GOAL_MS else "MISS"
        obj = {"name": name, "value": rps, "unit": "req/s", "p50_ms": p50, "p99_ms": p99,
               "ratio_to_static": rs, "ratio_to_healthz": rh, "healthz_ref": self.href,
               "goal_ratio_to_healthz": goal, "goal_p99_ms": None if goal is None else P99_GOAL_MS,
               "result": result}
        obj.update(cpu[0])
        obj.update({"requests": r["requests"], "errors": r["errors_status"] + r["errors_socket"],
                    "bad": r["bad"]})
        obj.update(extra)
        obj.update({"connections": CONNECTIONS, "labelers": CONNECTIONS, "items": LABEL_ITEMS,
                    "duration_s": SECONDS, "timestamp": self.st.ts})
        self.run.add(obj, "%.1f req/s" % rps,
                     None if goal is None else ">=%gx healthz, p99<%d" % (goal, P99_GOAL_MS),
                     "p50 %.2f p99 %.2f ms; x static %s, x healthz %s; %s; %s; %s" % (
                         p50, p99, fmt_ratio(rs), fmt_ratio(rh), note, self.href_note, cpu[1]))

    def page(self):
        info("label-page: each labeler GETs /projects/%d/label again and again "
             "(its lease found again + the page rendered)" % self.p)
        self.reference()
        r, cpu = self.wrk("page", self.p, self.label, "label-page")
        self.row("label-page", r, 0.5, "GETs of the labeler's current lease", r, cpu, {})

    def submit(self):
        st = self.st
        if not 2 <= ANSWERERS <= LABEL_ITEMS:
            raise Fail("LABELD_BENCH_ANSWERERS must be 2..%d (one lease per item), not %d"
                       % (LABEL_ITEMS, ANSWERERS))
        t0 = time.monotonic()
        q = label_project(st, "multiclass", "Bench answers " + stamp(), LABEL_ITEMS, LABEL_NAMES)
        qlabel = first_label(st, q)
        answerers(st, q, ANSWERERS, False)
        info("label-submit: project %d, %d more signed-in labelers each holding a lease, ready in "
             "%.1f s (not measured)" % (q, ANSWERERS, time.monotonic() - t0))
        info("label-submit: each request POSTs one labeler's answer to its lease "
             "(validate + commit + 303), never the same lease twice")
        count = "SELECT COUNT(*) FROM annotations WHERE project_id = %d" % q
        before = int(st.sql_value(count))
        c0 = status_value(st, "COM_COMMIT")
        self.reference()
        r, cpu = self.wrk("answer", q, qlabel, "label-submit")
        stored = int(st.sql_value(count)) - before
        commits = status_value(st, "COM_COMMIT") - c0
        if r["exhausted"]:
            warn("label-submit: a thread answered all its leases before the end "
                 "(LABELD_BENCH_ANSWERERS=%d is too few): the rate is too low" % ANSWERERS)
        self.row("label-submit", r["post"], 0.25, "POSTs of held leases; %d annotations stored in %d commits"
                 % (stored, commits), r, cpu,
                 {"annotations": stored, "commits": commits, "answerers": ANSWERERS,
                  "exhausted": r["exhausted"], "post": r["post"]})
        # wrk stops the clock with up to one POST per connection in flight:
        # those are stored but not counted.
        counted = r["post"]["requests"]
        if not counted <= stored <= counted + CONNECTIONS:
            warn("label-submit: %d annotations stored for %d POSTs answered 303" % (stored, counted))

    def lease(self):
        st = self.st
        t0 = time.monotonic()
        r_p = label_project(st, "multiclass", "Bench first leases " + stamp(), LABEL_ITEMS, LABEL_NAMES)
        first = answerers(st, r_p, ANSWERERS, True)
        info("label-lease: project %d, %d more signed-in labelers holding no lease, ready in %.1f s "
             "(not measured)" % (r_p, ANSWERERS, time.monotonic() - t0))
        info("label-lease: each request is a new labeler's first GET of /projects/%d/label "
             "(no lease: one is taken + the page rendered)" % r_p)
        self.reference()
        r, cpu = self.wrk("page", r_p, self.label, "label-lease", first)
        leases = int(st.sql_value("SELECT COUNT(*) FROM items WHERE project_id = %d "
                                  "AND lease_user IS NOT NULL" % r_p))
        got = r["requests"]
        # Every answered GET took a lease (plus those in flight when wrk
        # stopped); more GETs than labelers would mean a labeler came back.
        if not got <= leases <= got + CONNECTIONS:
            warn("label-lease: %d leases taken for %d GETs answered" % (leases, got))
        if got >= ANSWERERS:
            warn("label-lease: a labeler came back (LABELD_BENCH_ANSWERERS=%d is too few): "
                 "not every GET took a new lease" % ANSWERERS)
        self.row("label-lease", r, None, "GETs that take a new labeler's first lease; %d leases taken"
                 % leases, r, cpu, {"leases": leases})

    def cycle(self):
        st = self.st
        info("label-cycle: each labeler GETs the page (a new lease), POSTs the answer (303), and again")
        count = "SELECT COUNT(*) FROM annotations WHERE project_id = %d" % self.p
        before = int(st.sql_value(count))
        self.reference()
        r, cpu = self.wrk("submit", self.p, self.label, "label-cycle")
        stored = int(st.sql_value(count)) - before
        g = r["get"]
        self.row("label-cycle", r["post"], None,
                 "answers/s; each after its GET (a new lease: %.0f GETs/s, p50 %s p99 %s ms); "
                 "%d annotations stored (CPU: GET and POST)" % (g["rps"], g["p50_ms"], g["p99_ms"], stored),
                 r, cpu, {"annotations": stored, "get": g, "post": r["post"]})

    def weight(self):
        """For each task type the labeling page with nine labels (bbox: after
        ten boxes were drawn, the no-JavaScript page that lists them) and
        every stylesheet and script it links: raw bytes, gzip -6 of each
        file, and what the server sent asking for gzip."""
        st = self.st
        with open(self.sessions) as f:
            cookie, csrf = f.readline().rstrip("\n").split("\t")
        d = os.path.join(st.root, "weight")
        sdir = os.path.join(d, "static")
        subprocess.run(["rm", "-rf", sdir], check=True)
        os.makedirs(sdir)
        labels = ("person", "bicycle", "car", "motorcycle", "traffic light", "stop sign", "dog",
                  "parking meter", "umbrella")
        say("label-page-weight (HTML + CSS + JS of the labeling page, image excluded; "
            "goal <= %d bytes raw)" % WEIGHT_GOAL)
        for task in ("multiclass", "multilabel", "bbox"):
            p = label_project(st, task, "Weight %s %s" % (task, stamp()), 1, labels)
            req = ("GET", "/projects/%d/label" % p, None)
            _, _, html = st.request("GET", req[1], {"Cookie": cookie})
            if task == "bbox":
                # An editor step (no action) with ten boxes: the page after
                # ten boxes were drawn.
                text = html.decode("utf-8", "replace")
                item = re.search(r'action="/projects/[0-9]*/items/([0-9]*)"', text)
                lease = re.search(r'name="lease" value="([^"]*)"', text)
                if not item or not lease:
                    raise Fail("weight: no item or lease on the bbox page")
                lid = first_label(st, p)
                form = [("csrf", csrf), ("lease", lease.group(1)), ("label", str(lid))]
                form += [("box", "%d.5,%d,48.5,36,%d" % (10 + k * 60, 20 + k * 40, lid)) for k in range(10)]
                req = ("POST", "/projects/%d/items/%s" % (p, item.group(1)), urllib.parse.urlencode(form))
                _, _, html = st.request(*req[:2], {"Cookie": cookie, "Content-Type":
                                                   "application/x-www-form-urlencoded"}, req[2])
                if html.count(b'name="box"') < 10:
                    raise Fail("weight: the bbox page does not show 10 boxes")
            text = html.decode("utf-8", "replace")
            if 'id="labelform"' not in text:
                raise Fail("weight: no labeling form for %s" % task)
            path = os.path.join(d, task + ".html")
            with open(path, "wb") as f:
                f.write(html)
            links = [("css", m.group(1)) for tag in re.findall(r"<link [^>]*>", text)
                     if re.search(r'\srel="stylesheet"', tag)
                     for m in [re.search(r'\shref="([^"]*)"', tag)] if m]
            links += [("js", m.group(1)) for tag in re.findall(r"<script [^>]*>", text)
                      for m in [re.search(r'\ssrc="([^"]*)"', tag)] if m]
            sizes = {"css": 0, "js": 0}
            gz = gzip_size(path)
            h = {"Cookie": cookie, "Accept-Encoding": "gzip"}
            if req[0] == "POST":
                h["Content-Type"] = "application/x-www-form-urlencoded"
            transferred = len(st.request(req[0], req[1], h, req[2])[2])
            for kind, u in links:
                u = u.replace("&amp;", "&")
                if not u.startswith("/") or u.startswith("//"):
                    raise Fail("weight: the %s page links %s (not a path from /): not measured" % (task, u))
                f = os.path.join(sdir, re.sub(r"[^A-Za-z0-9._-]", "_", u[1:]))
                if not os.path.exists(f) or os.path.getsize(f) == 0:
                    status, _, body = st.request("GET", u)
                    if status != 200:
                        raise Fail("weight: GET %s answered %d" % (u, status))
                    with open(f, "wb") as out:
                        out.write(body)
                sizes[kind] += os.path.getsize(f)
                gz += gzip_size(f)
                transferred += len(st.request("GET", u, {"Accept-Encoding": "gzip"})[2])
            raw = len(html) + sizes["css"] + sizes["js"]
            boxes = 10 if task == "bbox" else 0
            obj = {"name": "label-page-weight", "task": task, "value": raw, "unit": "bytes",
                   "html": len(html), "css": sizes["css"], "js": sizes["js"], "gzip": gz,
                   "transferred": transferred, "labels": 9, "boxes": boxes, "goal": WEIGHT_GOAL,
                   "result": "PASS" if raw <= WEIGHT_GOAL else "MISS", "timestamp": st.ts}
            self.run.add(obj, "%d bytes" % raw, "<= %d bytes" % WEIGHT_GOAL,
                         "html %d, css %d, js %d; gzip -6 %d, transferred %d%s" % (
                             len(html), sizes["css"], sizes["js"], gz, transferred,
                             "; 10 boxes" if boxes else ""))


def gzip_size(path):
    """Bytes of gzip -6 of the file (what nginx would send with gzip on)."""
    return len(subprocess.run(["gzip", "-6", "-c", path], capture_output=True, check=True).stdout)


def label_rows(run, names):
    lab = Labeling(run)
    lab.setup()
    for n in names:
        getattr(lab, LABEL_ROWS[n])()


# ---------------------------------------------------------------- initialization rows
# Each row prepares its data once (kept for later runs; the time it takes is
# printed and stored as prepare_seconds, but is not measured), then inserts
# a dataset with "/**", a project with four labels, its counters and an
# 'init' job in one transaction, exactly as the create-project wizard leaves
# them, and waits for the bench labeld's job thread to finish the job.  The
# value is items / (jobs.finished_at - jobs.started_at); the wall time runs
# from the job's insertion (jobs.created_at) to finished_at.

INIT_ROWS = {"init-local-100k": "local", "init-azurite-100k": "azurite"}
INIT_GOAL = 20000
# Rows that also watch labeld's memory: NAME -> files (tests/bench/init_mem.py).
MEM_ROWS = {"init-local-1m": 1000000}
MEM_GOAL_MB = 64
INIT_TIMEOUT = env_int("LABELD_BENCH_INIT_TIMEOUT", 1800)


def stack_helper(st, *args):
    """./stack _bench-ARGS (compile a helper, start the bench Azurite); its
    standard output.  Raises Fail."""
    p = subprocess.run([st.stack] + list(args), stdout=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise Fail("./stack %s failed" % " ".join(args))
    return p.stdout


def local_images(st, n):
    """N generated images under var/bench/images/local-N (made once by
    gen_images and kept) as a local datastore: (datastore id, dataset
    path, prepare_seconds or None, note)."""
    stack_helper(st, "_bench-tool", "gen_images")
    images = os.path.join(st.root, "images")
    d = os.path.join(images, "local-%d" % n)
    marker = d + ".done"
    with open(os.path.join(HERE, "gen_images.c"), "rb") as f:
        ck = subprocess.run(["cksum"], stdin=f, capture_output=True, text=True, check=True).stdout.split()[0]
    want = "%d images; gen_images %s\n" % (n, ck)
    try:
        with open(marker) as f:
            have = f.read()
    except OSError:
        have = None
    if have != want:
        info("generating %d images in var/bench/images/local-%d (once; kept for later runs)" % (n, n))
        subprocess.run(["rm", "-rf", d, marker], check=True)
        t0 = time.monotonic()
        if subprocess.run([os.path.join(st.root, "bin", "gen_images"), d, str(n), "100"]).returncode:
            raise Fail("gen_images failed")
        subprocess.run(["sync", "-f", d])
        prep = round(time.monotonic() - t0, 1)
        with open(marker, "w") as f:
            f.write(want)
        note = "generated %d images in %.1f s (not measured)" % (n, prep)
    else:
        prep = None
        note = "reused the %d images in var/bench/images/local-%d" % (n, n)
    info(note)
    ds = int(st.sql_value("INSERT INTO datastores (name, kind, local_path) VALUES ('Bench images', "
                          "'local', %s); SELECT LAST_INSERT_ID();" % quote(os.path.realpath(images))))
    return ds, "local-%d" % n, prep, note


LISTED_RE = re.compile(r"^listed [0-9]* blobs in ([0-9.]*) seconds: ([0-9.]*) blobs/s", re.M)


def azurite_list(st, az, container, n):
    """Time one full listing with blob_list_bench: (seconds, blobs/s) or
    None when it did not list exactly N blobs."""
    p = subprocess.run([os.path.join(st.root, "bin", "blob_list_bench"), container, str(n)],
                       env=dict(os.environ, LABELD_BENCH_AZURITE=az["url"]),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    info(p.stdout.strip())
    m = LISTED_RE.search(p.stdout)
    if p.returncode != 0 or not m:
        return None
    return float(m.group(1)), float(m.group(2))


def azurite_blobs(st, n):
    """N tiny PNG blobs in the bench Azurite's container bench-N (uploaded
    once), listed once, as an azureblob datastore with path "": (datastore
    id, "", prepare_seconds or None, note, (list seconds, list rate))."""
    stack_helper(st, "_bench-tool", "blob_list_bench")
    say("Azurite for the bench (var/bench/azurite, kept between runs)")
    url, account, key = stack_helper(st, "_bench-azurite-up").split()[-3:]
    az = {"url": url}
    container = "bench-%d" % n
    marker = os.path.join(st.root, "azurite", container + ".populated")
    prep, note = None, "reused the %d blobs in Azurite container %s" % (n, container)
    listed = azurite_list(st, az, container, n) if os.path.exists(marker) else None
    if listed is None:
        info("uploading %d blobs to container %s (once; this takes a while)" % (n, container))
        if os.path.exists(marker):
            os.unlink(marker)
        t0 = time.monotonic()
        log = os.path.join(st.root, "azurite", "log", "populate.log")
        with open(log, "w") as f:
            p = subprocess.Popen([os.path.join(st.root, "bin", "blob_list_bench"), container,
                                  "--populate", str(n), "--threads", "16"],
                                 env=dict(os.environ, LABELD_BENCH_AZURITE=url),
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for line in p.stdout:
                f.write(line)
                info(line.rstrip("\n"))
        if p.wait() != 0:
            raise Fail("uploading to Azurite failed (log: var/bench/azurite/log/populate.log)")
        prep = round(time.monotonic() - t0, 1)
        with open(marker, "w") as f:
            f.write(time.strftime("%Y-%m-%dT%H:%M:%SZ\n", time.gmtime()))
        note = "uploaded %d blobs in %.1f s (not measured)" % (n, prep)
        listed = azurite_list(st, az, container, n)
        if listed is None:
            raise Fail("listing %s did not find %d blobs" % (container, n))
    info(note)
    ds = int(st.sql_value(
        "INSERT INTO datastores (name, kind, blob_endpoint, blob_account, blob_container, blob_key) "
        "VALUES ('Bench Azurite', 'azureblob', %s, %s, %s, %s); SELECT LAST_INSERT_ID();"
        % (quote(url), quote(account), quote(container), quote(key))))
    return ds, "", prep, note, listed


def init_job(st, name, ds, path):
    """A dataset (recursive) of the datastore, a project, its labels,
    counters and init job in one transaction; the job id."""
    t = stamp()
    return int(st.sql_value(
        "START TRANSACTION;\n"
        "INSERT INTO datasets (name, description, datastore_id, path, is_recursive, source)\n"
        "  VALUES (%s, 'generated by ./stack bench', %d, %s, 1, 'datastore');\n"
        "SET @dataset = LAST_INSERT_ID();\n"
        "INSERT INTO projects (name, task, dataset_id, description)\n"
        "  VALUES (%s, 'bbox', @dataset, 'initialization benchmark');\n"
        "SET @p = LAST_INSERT_ID();\n"
        "INSERT INTO labels (project_id, name, position)\n"
        "  VALUES (@p, 'person', 1), (@p, 'animal', 2), (@p, 'vehicle', 3), (@p, 'object', 4);\n"
        "INSERT INTO project_counters (project_id) VALUES (@p);\n"
        "INSERT INTO jobs (kind, project_id) VALUES ('init', @p);\n"
        "SELECT LAST_INSERT_ID();\nCOMMIT;\n"
        % (quote("%s images %s" % (name, t)), ds, quote(path), quote("%s %s" % (name, t)))))


def init_wait(st, job):
    """Poll the job until it is done or failed (at most INIT_TIMEOUT s),
    printing progress; a dict of state, items, files, refused, seconds,
    wall and error."""
    start = last = time.monotonic()
    r = {"state": "timeout", "items": 0, "files": 0, "refused": 0, "seconds": 0, "wall": 0,
         "error": "not finished after %d s" % INIT_TIMEOUT}
    while time.monotonic() - start < INIT_TIMEOUT:
        try:
            row = st.sql(
                "SELECT j.state, j.progress, IFNULL(j.total, 0), j.refused,\n"
                "  IFNULL(TIMESTAMPDIFF(MICROSECOND, j.started_at, j.finished_at), 0),\n"
                "  IFNULL(TIMESTAMPDIFF(MICROSECOND, j.created_at, j.finished_at), 0),\n"
                "  IFNULL(c.items_total, 0), REPLACE(REPLACE(IFNULL(j.error, ''), CHAR(9), ' '), CHAR(10), ' ')\n"
                "FROM jobs j LEFT JOIN project_counters c ON c.project_id = j.project_id\n"
                "WHERE j.id = %d" % job)[0]
        except Fail as e:
            return dict(r, state="error", error="the bench database did not answer: %s" % e)
        state, progress, total, refused, us, wall, items, error = row
        if state in ("done", "failed"):
            return {"state": state, "items": int(items), "files": int(total), "refused": int(refused),
                    "seconds": round(int(us) / 1e6, 3), "wall": round(int(wall) / 1e6, 3),
                    "error": error}
        if time.monotonic() - last >= 5 and int(progress) > 0:
            info("  %s: %s of %s files" % (state, progress, total))
            last = time.monotonic()
        pid = st.pid("labeld")
        if not pid or not os.path.exists("/proc/%d" % pid):
            return dict(r, state="error", error="labeld exited")
        time.sleep(0.2)
    return r


def page_cached(d):
    """The fraction of the files under D with data in the page cache, from
    a 1% sample (reading only a sample keeps the check from warming the
    inodes the job will read); None without fincore."""
    files = []
    for dirpath, _, names in os.walk(d):
        files += [os.path.join(dirpath, n) for n in names]
    sample = files[99::100]
    if not sample:
        return 0.0
    try:
        p = subprocess.run(["fincore", "-n", "-b"] + sample, capture_output=True, text=True)
    except FileNotFoundError:
        return None
    lines = p.stdout.split("\n")
    cached = sum(1 for l in lines if l.split() and l.split()[0].isdigit() and int(l.split()[0]) > 0)
    total = sum(1 for l in lines if l.split())
    return round(cached / total, 2) if total else 0.0


def init_rows(run, names):
    """Each initialization row: a local row runs LABELD_BENCH_INIT_RUNS times
    (3), each a new project over an empty items table, and reports the run
    with the median rate; an Azurite row runs once."""
    st = run.st
    items = env_int("LABELD_BENCH_INIT_ITEMS", 100000)
    runs = env_int("LABELD_BENCH_INIT_RUNS", 3)
    if items < 1 or not 1 <= runs <= 99:
        raise Fail("LABELD_BENCH_INIT_ITEMS must be positive and LABELD_BENCH_INIT_RUNS 1..99")
    if items != 100000:
        warn("LABELD_BENCH_INIT_ITEMS=%d: the rows are named for 100 000 items" % items)
    for n in names:
        src = INIT_ROWS[n]
        say("%s: initialization of %d images from %s" % (
            n, items, "a local folder" if src == "local" else "an Azurite container"))
        goal = INIT_GOAL if src == "local" else None
        prep, listed, note, done = None, None, "", []
        try:
            if src == "local":
                ds, path, prep, _ = local_images(st, items)
            else:
                ds, path, prep, _, listed = azurite_blobs(st, items)
            for k in range(runs if src == "local" else 1):
                if src == "local" and runs > 1:
                    info("run %d of %d" % (k + 1, runs))
                if k > 0:
                    # Each run starts from an empty items table.
                    st.sql("DELETE FROM projects")
                cached = None
                if src == "local":
                    cached = page_cached(os.path.join(st.root, "images", path))
                    info("files in the page cache: %s (1%% sample)" % cached)
                job = init_job(st, n, ds, path)
                info("job %d queued; waiting for labeld's job thread" % job)
                r = init_wait(st, job)
                r["cached"] = cached
                r["value"] = round(r["items"] / r["seconds"], 1) if r["seconds"] > 0 else 0
                if r["state"] != "done":
                    r["why"] = "job %s: %s" % (r["state"], r["error"] or "see var/bench/log/labeld.log")
                elif r["items"] != items or r["refused"]:
                    r["why"] = "%d items, %d refused of %d files (want %d items)" % (
                        r["items"], r["refused"], r["files"], items)
                else:
                    info("  %d items in %.3f s: %.1f items/s" % (r["items"], r["seconds"], r["value"]))
                done.append(r)
                if "why" in r:
                    break
        except Fail as e:
            note = "could not prepare the row: %s" % e
            warn("%s: %s" % (n, note))
        if not done:
            best = {"value": 0, "items": 0, "refused": 0, "files": 0, "seconds": 0, "wall": 0}
            result = "ERROR"
        elif "why" in done[-1]:
            best, result, note = done[-1], "ERROR", done[-1]["why"]
        else:
            # The run with the median rate.
            mid = statistics.median_low([r["value"] for r in done])
            best = next(r for r in done if r["value"] == mid)
            result = "-" if goal is None else ("PASS" if best["value"] >= goal else "MISS")
            if len(done) > 1:
                note = "median of %d runs: %s" % (len(done), ", ".join(str(r["value"]) for r in done))
                if done[0]["cached"] is not None:
                    note += " (files cached before each: %s)" % ", ".join(str(r["cached"]) for r in done)
        if listed:
            note = "listed %d blobs at %s blobs/s%s" % (items, listed[1], "; " + note if note else "")
        obj = {"name": n, "value": best["value"], "unit": "items/s", "items": best["items"],
               "refused": best["refused"], "files": best["files"], "seconds": best["seconds"],
               "wall_seconds": best["wall"], "goal": goal, "result": result,
               "runs": [r["value"] for r in done],
               "cached": [r["cached"] for r in done], "prepare_seconds": prep,
               "list_rate": listed[1] if listed else None, "list_seconds": listed[0] if listed else None,
               "timestamp": st.ts}
        run.add(obj, "%.1f items/s" % best["value"], None if goal is None else ">= %d items/s" % goal,
                "%d items; job %.3f s, wall %.3f s (from inserting the job; the job thread polls "
                "once a second)%s" % (best["items"], best["seconds"], best["wall"],
                                       "; " + note if note else ""))


def mem_rows(run, names):
    """Each memory row: its images made once (like init-local-100k's), then
    tests/bench/init_mem.py queues the init job and watches labeld's
    resident memory until the job ends."""
    st = run.st
    for n in names:
        files = MEM_ROWS[n]
        say("%s: initialization of %d images from a local folder, with labeld's memory" % (n, files))
        try:
            ds, path, _, note = local_images(st, files)
        except Fail as e:
            warn("%s: could not prepare the images: %s" % (n, e))
            run.add({"name": n, "value": 0, "unit": "items/s", "result": "ERROR", "note": str(e),
                     "timestamp": st.ts}, "-", "rss growth <= %d MiB" % MEM_GOAL_MB, str(e))
            continue
        subprocess.run([sys.executable, os.path.join(HERE, "init_mem.py"), "--name", n,
                        "--socket", st.socket, "--database", "labeld_bench",
                        "--pid-file", os.path.join(st.root, "run", "labeld.pid"),
                        "--datastore", str(ds), "--path", path, "--files", str(files),
                        "--goal-mb", str(MEM_GOAL_MB), "--results", st.results,
                        "--timestamp", st.ts, "--timeout", str(INIT_TIMEOUT), "--note", note])
        obj = run.appended(n)
        run.add(obj, "%.1f MiB" % obj.get("rss_growth_mb", 0), "rss growth <= %d MiB" % MEM_GOAL_MB,
                "%.1f items/s, %d items in %.1f s; %s" % (obj.get("value", 0), obj.get("items", 0),
                                                         obj.get("seconds", 0), obj.get("note", "")),
                write=False)


# ---------------------------------------------------------------- image-flood

FLOOD_ROWS = ("image-flood",)


def flood_rows(run, names):
    """Set-up (not measured): a 50 MB BMP in var/bench/images/flood/ (written
    once, kept), and with SQL a local datastore that is not the default one
    (so labeld streams the file itself; the default datastore's files are
    sent by nginx), a dataset, a running project and its one item.  Then
    tests/bench/image_flood.py signs in as the bench admin, floods, measures
    and appends the row to results.jsonl."""
    st = run.st
    conns = env_int("LABELD_BENCH_FLOOD_CONNECTIONS", 64)
    secs = env_int("LABELD_BENCH_FLOOD_SECONDS", 10)
    flood = os.path.join(HERE, "image_flood.py")
    d = os.path.join(st.root, "images", "flood")
    image = "flood-50mb.bmp"
    for n in names:
        say("%s: %d parallel GETs of a 50 MB image that labeld streams, /healthz alongside" % (n, conns))
        if subprocess.run([sys.executable, flood, "make-image", os.path.join(d, image), "50"]).returncode:
            raise Fail("could not write the flood image")
        p, item = st.sql(
            "START TRANSACTION;\n"
            "INSERT INTO datastores (name, kind, local_path) VALUES ('Bench flood', 'local', %s);\n"
            "INSERT INTO datasets (name, description, datastore_id, path) VALUES ('Bench flood images', '', LAST_INSERT_ID(), '');\n"
            "INSERT INTO projects (name, task, dataset_id, description, state)\n"
            "  VALUES ('Bench flood', 'multiclass', LAST_INSERT_ID(), 'image-flood benchmark', 'running');\n"
            "SET @p = LAST_INSERT_ID();\n"
            "INSERT INTO labels (project_id, name, position) VALUES (@p, 'cat', 1), (@p, 'dog', 2);\n"
            "INSERT INTO items (project_id, path, width, height, format) VALUES (@p, %s, 4096, 4069, 'bmp');\n"
            "INSERT INTO project_counters (project_id, items_total) VALUES (@p, 1);\n"
            "SELECT @p, LAST_INSERT_ID();\nCOMMIT;\n" % (quote(os.path.realpath(d)), quote(image)))[-1]
        path = "/projects/%s/items/%s/image" % (p, item)
        info("project %s, item %s: GET %s (a local datastore, not the default: labeld streams it)"
             % (p, item, path))
        subprocess.run([sys.executable, flood, "run", "--url", st.url, "--path", path,
                        "--pid-file", os.path.join(st.root, "run", "labeld.pid"),
                        "--results", st.results, "--connections", str(conns), "--seconds", str(secs)],
                       env=dict(os.environ, LABELD_BENCH_EMAIL=st.email,
                                LABELD_BENCH_PASSWORD=st.password, LABELD_BENCH_TS=st.ts))
        obj = run.appended(n)
        run.add(obj, "%.1f MB" % obj.get("rss_growth_mb", 0),
                "rss growth <= 64 MB, /healthz p99 <= 50 ms",
                "healthz p99 %s ms; %s whole images, %s 503, %s MB/s" % (
                    obj.get("healthz_p99_ms"), obj.get("images_200"), obj.get("images_503"),
                    obj.get("mb_per_s")), write=False)


# ---------------------------------------------------------------- export rows
# A generated project of EXPORT_ITEMS labeled images with BOXES_PER_ITEM
# boxes each (task bbox), made with SQL once per run and exported by each
# row through the Export form as the bench admin; labeld's resident memory
# is watched the whole time (tests/bench/README.md, "Export rows").

EXPORT_ROWS = {"export-coco-1m": "coco", "export-manifest-1m": "manifest"}
EXPORT_ITEMS = env_int("LABELD_BENCH_EXPORT_ITEMS", 1000000)
BOXES_PER_ITEM = 3
EXPORT_LABELS = ("person", "animal", "vehicle", "object")
EXPORT_WIDTH, EXPORT_HEIGHT = 640, 480
EXPORT_GOAL_SECONDS = 10
EXPORT_TIMEOUT = env_int("LABELD_BENCH_EXPORT_TIMEOUT", 1800)


def export_project(st, n):
    """A running bbox project of N labeled items (paths only, 640 x 480),
    each with one current annotation of three boxes inside its image in the
    bbox plugin's stored format, its counters and change sequence, made with
    SQL from the sequence engine; its id."""
    labels = ", ".join("(@p, %s, %d)" % (quote(l), i + 1) for i, l in enumerate(EXPORT_LABELS))
    # Box k of item seq: label (seq + k) mod 4; x + w <= 600 < 640 and
    # y + h <= 450 < 480, so every box is inside its image.
    boxes = ", ".join(
        "'{\"label\": ', ELT(1 + (seq + %d) %% 4, @l1, @l2, @l3, @l4), "
        "', \"x\": ', (seq * %d) %% 500, '.5, \"y\": ', (seq * %d) %% 380, "
        "', \"w\": ', 10 + (seq + %d) %% 90, ', \"h\": ', 20 + (seq + %d) %% 50, '}'"
        % (k, 7 + k, 3 + k, 11 * k, 13 * k) for k in range(BOXES_PER_ITEM))
    boxes = boxes.replace("}', '{", "}, {")
    name = "Bench export %s" % stamp()
    return int(st.sql_value(
        "SET SESSION unique_checks = 0;\n"
        "INSERT INTO datasets (name, description, datastore_id, path, source)\n"
        "  SELECT %(ds)s, '', id, 'bench-export', 'datastore' FROM datastores WHERE is_default = 1;\n"
        "INSERT INTO projects (name, task, dataset_id, description, state)\n"
        "  VALUES (%(name)s, 'bbox', LAST_INSERT_ID(), 'export benchmark', 'running');\n"
        "SET @p = LAST_INSERT_ID();\n"
        "INSERT INTO labels (project_id, name, position) VALUES %(labels)s;\n"
        "SELECT MAX(IF(position = 1, id, 0)), MAX(IF(position = 2, id, 0)), MAX(IF(position = 3, id, 0)),\n"
        "  MAX(IF(position = 4, id, 0)) INTO @l1, @l2, @l3, @l4 FROM labels WHERE project_id = @p;\n"
        "SELECT id INTO @admin FROM users WHERE email = %(admin)s;\n"
        "INSERT INTO items (project_id, path, width, height, format, state)\n"
        "  SELECT @p, CONCAT('bench-export/', seq DIV 10000, '/', seq, '.jpg'), %(w)d, %(h)d, 'jpeg', 'labeled'\n"
        "  FROM seq_1_to_%(n)d;\n"
        "INSERT INTO annotations (item_id, project_id, labeler_id, data, seq)\n"
        "  SELECT id, @p, @admin, CONCAT('{\"boxes\": [', %(boxes)s, '], \"no_objects\": false}'), 1\n"
        "  FROM (SELECT id, CAST(SUBSTRING_INDEX(SUBSTRING_INDEX(path, '/', -1), '.', 1) AS UNSIGNED) AS seq\n"
        "        FROM items WHERE project_id = @p) i;\n"
        "INSERT INTO project_counters (project_id, items_total, items_labeled, change_seq)\n"
        "  VALUES (@p, %(n)d, %(n)d, 1);\n"
        "SELECT @p;\n" % {"ds": quote(name + " images"), "name": quote(name), "labels": labels,
                          "admin": quote(st.email), "w": EXPORT_WIDTH, "h": EXPORT_HEIGHT,
                          "n": n, "boxes": boxes}))


def export_queue(st, cookie, csrf, p, fmt):
    """POST the Export form as the bench admin; the new export's id.
    Raises Fail when the form does not answer 303 to the Exports tab."""
    before = int(st.sql_value("SELECT IFNULL(MAX(id), 0) FROM exports WHERE project_id = %d" % p))
    status, headers, body = st.request(
        "POST", "/projects/%d/exports" % p,
        {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        urllib.parse.urlencode({"csrf": csrf, "format": fmt}))
    want = "/projects/%d/exports" % p
    if status != 303 or not (headers.get("Location") or "").endswith(want):
        title = re.search(r"<title>([^<]*)</title>", body.decode("utf-8", "replace"))
        raise Fail("POST %s answered %d %s(%s)" % (want, status, headers.get("Location", "") + " ",
                                                  title.group(1) if title else "no page title"))
    e = int(st.sql_value("SELECT IFNULL(MAX(id), 0) FROM exports WHERE project_id = %d AND format = %s"
                         % (p, quote(fmt))))
    if e <= before:
        raise Fail("the Export form answered 303 but no export was queued")
    return e


def export_watch(st, queue):
    """Read labeld's VmRSS and reset its VmHWM (where allowed), QUEUE() the
    export (its id), then until it is done or failed (at most EXPORT_TIMEOUT
    s) sample VmRSS every 20 ms and poll the export every half second.  A
    dict of the exports row's fields, the export's id, the job's seconds
    (started_at to finished_at), wall seconds (from the POST's answer to
    the poll that saw the export end) and the memory."""
    t0 = time.monotonic()
    e = None
    cpu = [None, None]   # cpu_ticks when queued and when seen done

    def poll(rss, peak, say):
        nonlocal e, t0
        if e is None:
            cpu[0] = cpu_ticks(st)
            e = queue()
            t0 = time.monotonic()
            info("export %d queued; labeld's resident memory before: %.1f MiB" % (e, rss / 1024))
            return None
        r = st.sql(
            "SELECT e.state, e.items, e.annotations, e.bytes, IFNULL(e.path, ''), IFNULL(d.local_path, ''),\n"
            "  IFNULL(TIMESTAMPDIFF(MICROSECOND, j.started_at, j.finished_at), 0), IFNULL(j.progress, 0),\n"
            "  IFNULL(j.total, 0), REPLACE(REPLACE(IFNULL(e.error, ''), CHAR(9), ' '), CHAR(10), ' ')\n"
            "FROM exports e LEFT JOIN jobs j ON j.id = e.job_id\n"
            "  LEFT JOIN datastores d ON d.id = e.datastore_id WHERE e.id = %d" % e)[0]
        row = dict(zip(("state", "items", "annotations", "bytes", "path", "root", "us",
                        "progress", "total", "error"), r))
        if row["state"] in ("done", "failed"):
            cpu[1] = cpu_ticks(st)
            return row
        if say and row["state"] == "running":
            info("  running: %s of %s, resident %.1f MiB (peak %.1f)"
                 % (row["progress"], row["total"] or "?", rss / 1024, peak / 1024))
        if time.monotonic() - t0 > EXPORT_TIMEOUT:
            return dict(row, state="timeout", error="not finished after %d s" % EXPORT_TIMEOUT)
        return None

    pid = st.pid("labeld")
    row, before, peak, hwm_ok = watch(pid, poll, say_every=5) if pid else (None, None, None, False)
    wall = time.monotonic() - t0
    if before is None or "items" not in row:
        raise Fail("labeld is not running" if before is None else row["error"])
    row["id"] = e
    for k in ("items", "annotations", "bytes", "us"):
        row[k] = int(row[k])
    hz = os.sysconf("SC_CLK_TCK")
    if cpu[1] is not None:
        row["labeld_cpu_s"] = round((cpu[1][0] - cpu[0][0]) / hz, 2)
        row["mariadb_cpu_s"] = round((cpu[1][1] - cpu[0][1]) / hz, 2)
    row.update({"seconds": round(row.pop("us") / 1e6, 3), "wall": round(wall, 3),
                "rss_before_mb": round(before / 1024, 1), "rss_peak_mb": round(peak / 1024, 1),
                "rss_growth_mb": round((peak - before) / 1024, 1), "peak_from_hwm": hwm_ok})
    return row


def count_in_file(path, needles):
    """How often each byte string of NEEDLES occurs in the file (read in
    8 MiB blocks, a match across two blocks counted once), and its first and
    last non-blank bytes."""
    counts = dict.fromkeys(needles, 0)
    keep = max(len(n) for n in needles) - 1
    first = last = b""
    tail = b""
    with open(path, "rb") as f:
        while True:
            block = f.read(8 << 20)
            if not block:
                break
            if not first and block.strip():
                first = block.lstrip()[:1]
            if block.strip():
                last = block.rstrip()[-1:]
            data = tail + block
            for n in needles:
                # Matches that end inside the kept tail were counted before.
                counts[n] += data.count(n) - tail.count(n)
            tail = data[-keep:] if keep else b""
    return counts, first, last


def export_check_file(fmt, path, n, boxes):
    """Whether the finished file is whole: a COCO file is one JSON object
    (first byte "{", last "}") naming N images and BOXES annotations; a
    manifest has N lines, each a JSON object whose label is a list of boxes
    with coordinates in 0..1, BOXES in all.  Too large to parse whole here:
    the COCO file is checked by counting its keys.  Returns a sentence, or
    None when the file is whole."""
    if not os.path.isfile(path):
        return "no file at %s" % path
    if fmt == "coco":
        # Keys with their colon: the task's name "bbox" is also a value.
        keys = (b'"file_name":', b'"image_id":', b'"bbox":')
        c, first, last = count_in_file(path, keys)
        if first != b"{" or last != b"}":
            return "the COCO file is not one JSON object (starts %r, ends %r)" % (first, last)
        if [c[k] for k in keys] != [n, boxes, boxes]:
            return "the COCO file has %d images, %d annotations, %d boxes (want %d, %d, %d)" % (
                tuple(c[k] for k in keys) + (n, boxes, boxes))
        return None
    lines = got = 0
    with open(path, "rb") as f:
        for line in f:
            lines += 1
            try:
                o = json.loads(line)
                label = o["label"]
                for b in label:
                    if not (0 <= b["topX"] <= b["bottomX"] <= 1 and 0 <= b["topY"] <= b["bottomY"] <= 1):
                        return "line %d: a box outside 0..1" % lines
                    if b["label"] not in EXPORT_LABELS:
                        return "line %d: unknown label %r" % (lines, b["label"])
                got += len(label)
                o["image_url"], o["image_details"]["width"]
            except (ValueError, KeyError, TypeError) as err:
                return "line %d is not a manifest line: %s" % (lines, err)
    if lines != n or got != boxes:
        return "the manifest has %d lines and %d boxes (want %d, %d)" % (lines, got, n, boxes)
    return None


def export_rows(run, names):
    """Set-up once per run (not measured; the time is printed): the
    generated project.  Then each row exports it in its format and checks
    the file."""
    st = run.st
    n = EXPORT_ITEMS
    if n != 1000000:
        warn("LABELD_BENCH_EXPORT_ITEMS=%d: the rows are named for 1 000 000 items" % n)
    say("export rows: a bbox project of %d labeled images with %d boxes each, made with SQL"
        % (n, BOXES_PER_ITEM))
    t0 = time.monotonic()
    try:
        p = export_project(st, n)
        cookie, csrf = sign_in(st, st.email, st.password)
    except Fail as e:
        for name in names:
            run.add({"name": name, "value": 0, "unit": "s", "result": "ERROR", "note": str(e),
                     "timestamp": st.ts}, "-", None, "could not prepare the project: %s" % e)
        return
    prep = round(time.monotonic() - t0, 1)
    info("project %d ready in %.1f s (not measured)" % (p, prep))
    db_settle(st)
    # Fits the table's goal column (22 characters).
    goal = "<=%d s, rss <=%d MiB" % (EXPORT_GOAL_SECONDS, MEM_GOAL_MB)
    for name in names:
        fmt = EXPORT_ROWS[name]
        say("%s: export of project %d as %s through the Export form, labeld's memory watched"
            % (name, p, fmt))
        why = None
        try:
            r = export_watch(st, lambda: export_queue(st, cookie, csrf, p, fmt))
            e = r["id"]
            if r["state"] != "done":
                why = "export %s: %s" % (r["state"], r["error"] or "see var/bench/log/labeld.log")
            elif r["items"] != n:
                why = "the export holds %d items, not %d" % (r["items"], n)
            else:
                info("  done: %d items, %d annotations, %d bytes in %.3f s (wall %.3f s; CPU: labeld "
                     "%.2f s, MariaDB %.2f s); checking the file"
                     % (r["items"], r["annotations"], r["bytes"], r["seconds"], r["wall"],
                        r["labeld_cpu_s"], r["mariadb_cpu_s"]))
                why = export_check_file(fmt, os.path.join(r["root"], r["path"]), n, n * BOXES_PER_ITEM)
                if why is None and r["annotations"] != n * BOXES_PER_ITEM:
                    why = "the exports row says %d annotations, the file holds %d boxes" % (
                        r["annotations"], n * BOXES_PER_ITEM)
                status, headers, _ = st.request("HEAD", "/projects/%d/exports/%d/download" % (p, e),
                                                {"Cookie": cookie})
                length = headers.get("Content-Length")
                if why is None and (status != 200 or length != str(r["bytes"])):
                    why = "HEAD of the download link answered %d, Content-Length %s (the file has %d bytes)" % (
                        status, length, r["bytes"])
        except Fail as err:
            r, why = {}, str(err)
        if why is not None:
            result = "ERROR"
        elif r["seconds"] <= EXPORT_GOAL_SECONDS and r["rss_growth_mb"] <= MEM_GOAL_MB:
            result = "PASS"
        else:
            result = "MISS"
        obj = {"name": name, "value": r.get("seconds", 0), "unit": "s", "format": fmt,
               "seconds": r.get("seconds", 0), "wall_seconds": r.get("wall", 0),
               "items": r.get("items", 0), "annotations": r.get("annotations", 0),
               "bytes": r.get("bytes", 0), "labeld_cpu_s": r.get("labeld_cpu_s"),
               "mariadb_cpu_s": r.get("mariadb_cpu_s"), "rss_before_mb": r.get("rss_before_mb"),
               "rss_peak_mb": r.get("rss_peak_mb"), "rss_growth_mb": r.get("rss_growth_mb", 0),
               "peak_from_hwm": r.get("peak_from_hwm"), "goal_seconds": EXPORT_GOAL_SECONDS,
               "goal_rss_growth_mb": MEM_GOAL_MB, "result": result, "file_check": why or "whole",
               "prepare_seconds": prep, "note": why or "", "timestamp": st.ts}
        run.add(obj, "%.2f s" % obj["value"], goal,
                "job %.2f s (started_at to finished_at), wall %.2f s; rss growth %.1f MiB; "
                "%d items, %d annotations, %.1f MB%s" % (
                    obj["seconds"], obj["wall_seconds"], obj["rss_growth_mb"], obj["items"],
                    obj["annotations"], obj["bytes"] / 1e6, "; " + why if why else "; file whole"))


# ---------------------------------------------------------------- review rows
# Running and reviewing a million-item project (issue 14; docs/review.md,
# tests/bench/README.md "Review rows"): a generated multiclass project of
# REVIEW_ITEMS items answered by REVIEW_LABELERS labelers over 35 days, made
# with SQL once per run and checked with the full recount of the
# integration tests (tests/integration/counters_recount.sql).  Each page row
# runs wrk at REVIEW_CONNECTIONS connections as the bench admin,
# REVIEW_RUNS times, and reports the median p50 and p99.

# NAME -> (PATH, what the page must hold: a tab's placeholder page, which
# answers 200 before the page exists, is not measured).
REVIEW_ROWS = {
    "dashboard-1m": ("/projects/{p}/dashboard", 'id="progress-bar"'),
    "datatab-1m-first": ("/projects/{p}/data", 'name="item"'),
    "datatab-1m-last": ("/projects/{p}/data?last=1", 'name="item"'),
    "datatab-1m-filtered": ("/projects/{p}/data?class={label}&labeler={labeler}", 'name="item"'),
    "review-next": ("/projects/{p}/review", 'id="reviewform"'),
}
REVIEW_ITEMS = env_int("LABELD_BENCH_REVIEW_ITEMS", 1000000)
REVIEW_LABELERS = 50
REVIEW_CONNECTIONS = env_int("LABELD_BENCH_REVIEW_CONNECTIONS", 8)
REVIEW_RUNS = env_int("LABELD_BENCH_REVIEW_RUNS", 3)
REVIEW_P50_GOAL_MS = 20
REVIEW_DAYS = 35
RECOUNT_SQL = os.path.join(HERE, "..", "integration", "counters_recount.sql")

# An item's phase by id % 100: 70% labeled, 15% approved, 5% requeued
# (rejected, back in the queue), 5% skipped, 5% queued; one labeled item in
# 50 was rejected once before (an older, withdrawn answer of another
# labeler).  The class of an answer: label 1 + id % 9.
REVIEW_PHASE = ("CASE WHEN {i} % 100 < 70 THEN 'labeled' WHEN {i} % 100 < 85 THEN 'approved' "
                "WHEN {i} % 100 < 90 THEN 'requeued' WHEN {i} % 100 < 95 THEN 'skipped' "
                "ELSE 'queued' END")


def review_project(st, n):
    """The generated project (see REVIEW_PHASE): N items with phases,
    answers and their classes, history (rejections, approvals, skips) and
    every counter, all from the sequence engine; its id, a label and a
    labeler for the filtered row."""
    labels = ", ".join("(@p, %s, %d)" % (quote(l), i + 1) for i, l in enumerate(LABEL_NAMES))
    name = "Bench review %s" % stamp()
    # Labeler k (1..50) answers some items more than others: the item's
    # labeler is 1 + floor(50 * u^1.5) for a fraction u spread by the id.
    sql = """
SET SESSION unique_checks = 0, foreign_key_checks = 0;
INSERT INTO datasets (name, description, datastore_id, path, source)
  SELECT %(ds)s, '', id, 'bench-review', 'datastore' FROM datastores WHERE is_default = 1;
INSERT INTO projects (name, task, dataset_id, description, state)
  VALUES (%(name)s, 'multiclass', LAST_INSERT_ID(), 'review benchmark', 'running');
SET @p = LAST_INSERT_ID();
INSERT INTO labels (project_id, name, position) VALUES %(labels)s;
SELECT id INTO @admin FROM users WHERE email = %(admin)s;
SET @t0 = UTC_TIMESTAMP(6) - INTERVAL %(days)d DAY;
SET @step = %(days)d * 86400000000 DIV %(n)d;
INSERT INTO users (email, password_hash)
  SELECT CONCAT('reviewed', seq, '.', @p, '@bench.example.com'), password_hash
  FROM users, seq_1_to_%(nl)d WHERE email = %(admin)s;
CREATE TEMPORARY TABLE bench_labelers (k INT PRIMARY KEY, id BIGINT UNSIGNED NOT NULL);
INSERT INTO bench_labelers SELECT seq, u.id FROM seq_1_to_%(nl)d
  JOIN users u ON u.email = CONCAT('reviewed', seq, '.', @p, '@bench.example.com');
CREATE TEMPORARY TABLE bench_classes (k INT PRIMARY KEY, id BIGINT UNSIGNED NOT NULL);
INSERT INTO bench_classes SELECT position - 1, id FROM labels WHERE project_id = @p;
INSERT IGNORE INTO teams (name) VALUES ('Bench labelers');
INSERT INTO project_teams (project_id, team_id) SELECT @p, id FROM teams WHERE name = 'Bench labelers';
%(join)s
INSERT INTO items (project_id, path, width, height, format, state, phase, labeled_by, answered_at, leased_at)
  SELECT @p, CONCAT('bench-review/', seq DIV 10000, '/', seq, '.jpg'), 640, 480, 'jpeg',
    IF(seq %% 100 < 85, 'labeled', 'unlabeled'), %(phase_seq)s,
    IF(seq %% 100 < 90, l.id, NULL),
    IF(seq %% 100 < 90, @t0 + INTERVAL seq * @step MICROSECOND, '1970-01-01'),
    IF(seq %% 100 < 90, @t0 + INTERVAL seq * @step MICROSECOND - INTERVAL 2 + seq %% 20 SECOND, NULL)
  FROM seq_1_to_%(n)d
  JOIN bench_labelers l ON l.k = 1 + FLOOR(%(nl)d * POW(((seq * 7919) %% 10007) / 10007, 1.5));
-- The answers: current for labeled and approved items, withdrawn for
-- requeued ones; an older rejected answer on one labeled item in 50.
INSERT INTO annotations (item_id, project_id, labeler_id, data, is_current, seq, withdrawn_seq,
    approved_seq, ms, created_at)
  SELECT i.id, @p, i.labeled_by, CONCAT('{"label": ', c.id, '}'), i.phase <> 'requeued', 1,
    IF(i.phase = 'requeued', 2, NULL), IF(i.phase = 'approved', 2, NULL),
    TIMESTAMPDIFF(MICROSECOND, i.leased_at, i.answered_at) DIV 1000, i.answered_at
  FROM items i JOIN bench_classes c ON c.k = i.id %% 9
  WHERE i.project_id = @p AND i.phase IN ('labeled', 'approved', 'requeued');
INSERT INTO annotations (item_id, project_id, labeler_id, data, is_current, seq, withdrawn_seq,
    ms, created_at)
  SELECT i.id, @p, l.id, CONCAT('{"label": ', c.id, '}'), 0, 1, 2, 4000,
    i.answered_at - INTERVAL 1 DAY
  FROM items i JOIN bench_classes c ON c.k = (i.id + 1) %% 9
  JOIN bench_labelers l ON l.k = 1 + i.id %% %(nl)d
  WHERE i.project_id = @p AND i.phase = 'labeled' AND i.id %% 50 = 7;
-- The history: a rejection for each withdrawn answer, an approval for each
-- approved item (by the admin, an hour or two after the answer), a skip
-- for each skipped item (by one of the labelers).
INSERT INTO item_events (item_id, project_id, user_id, kind, reason, created_at)
  SELECT a.item_id, @p, @admin, 'rejected', 'bench: the box is off',
    LEAST(a.created_at + INTERVAL 1 HOUR, UTC_TIMESTAMP(6))
  FROM annotations a WHERE a.project_id = @p AND a.withdrawn_seq IS NOT NULL;
INSERT INTO item_events (item_id, project_id, user_id, kind, created_at)
  SELECT i.id, @p, @admin, 'approved', LEAST(i.answered_at + INTERVAL 2 HOUR, UTC_TIMESTAMP(6))
  FROM items i WHERE i.project_id = @p AND i.phase = 'approved';
CREATE TEMPORARY TABLE bench_skips (item_id BIGINT UNSIGNED PRIMARY KEY, user_id BIGINT UNSIGNED,
  created_at DATETIME(6));
INSERT INTO bench_skips
  SELECT i.id, l.id, @t0 + INTERVAL (i.id %% %(n)d) * @step MICROSECOND
  FROM items i JOIN bench_labelers l ON l.k = 1 + (i.id * 31) %% %(nl)d
  WHERE i.project_id = @p AND i.phase = 'skipped';
INSERT INTO item_skips (user_id, project_id, item_id, created_at)
  SELECT user_id, @p, item_id, created_at FROM bench_skips;
INSERT INTO item_events (item_id, project_id, user_id, kind, created_at)
  SELECT item_id, @p, user_id, 'skipped', created_at FROM bench_skips;
-- The classes of the current answers, and the counters.
INSERT INTO answer_labels (project_id, label_id, answered_at, item_id, labeled_by)
  SELECT @p, c.id, i.answered_at, i.id, i.labeled_by
  FROM items i JOIN bench_classes c ON c.k = i.id %% 9
  WHERE i.project_id = @p AND i.phase IN ('labeled', 'approved');
INSERT INTO label_counts (project_id, label_id, answers)
  SELECT @p, label_id, COUNT(*) FROM answer_labels WHERE project_id = @p GROUP BY label_id;
INSERT INTO labeler_days (project_id, user_id, day, labeled, skipped, rejected, approved)
  SELECT @p, x.user_id, x.day, SUM(x.l), SUM(x.s), SUM(x.r), SUM(x.a) FROM (
    SELECT labeler_id AS user_id, DATE(created_at) AS day, COUNT(*) AS l, 0 AS s, 0 AS r, 0 AS a
      FROM annotations WHERE project_id = @p GROUP BY labeler_id, DATE(created_at)
    UNION ALL
    SELECT user_id, DATE(created_at), 0, COUNT(*), 0, 0 FROM bench_skips
      GROUP BY user_id, DATE(created_at)
    UNION ALL
    SELECT labeler_id, DATE(LEAST(created_at + INTERVAL 1 HOUR, UTC_TIMESTAMP(6))), 0, 0, COUNT(*), 0
      FROM annotations WHERE project_id = @p AND withdrawn_seq IS NOT NULL
      GROUP BY 1, 2
    UNION ALL
    SELECT labeled_by, DATE(LEAST(answered_at + INTERVAL 2 HOUR, UTC_TIMESTAMP(6))), 0, 0, 0, COUNT(*)
      FROM items WHERE project_id = @p AND phase = 'approved' GROUP BY 1, 2) x
  GROUP BY x.user_id, x.day;
-- The labelers' newest answer per day and their answer times' histogram
-- (sql/018_labeler_stats.sql).
UPDATE labeler_days d JOIN (
    SELECT labeler_id, DATE(created_at) day, MAX(created_at) m FROM annotations
    WHERE project_id = @p GROUP BY labeler_id, DATE(created_at)) x
    ON d.project_id = @p AND d.user_id = x.labeler_id AND d.day = x.day
  SET d.last_at = x.m;
INSERT INTO labeler_seconds (project_id, user_id, bucket, n)
  SELECT @p, labeler_id, LEAST(63, GREATEST(0, FLOOR(LOG(1.2, GREATEST(ms, 1) / 100)))) b, COUNT(*)
  FROM annotations WHERE project_id = @p AND ms IS NOT NULL GROUP BY labeler_id, b;
INSERT INTO project_counters (project_id, items_total, items_labeled, items_skipped, items_requeued,
    items_approved, rejections, change_seq)
  SELECT @p, COUNT(*), SUM(phase IN ('labeled', 'approved')), SUM(phase = 'skipped'),
    SUM(phase = 'requeued'), SUM(phase = 'approved'),
    (SELECT COUNT(*) FROM item_events WHERE project_id = @p AND kind = 'rejected'), 2
  FROM items WHERE project_id = @p;
SELECT @p, (SELECT id FROM bench_classes WHERE k = 0), (SELECT id FROM bench_labelers WHERE k = 1);
""" % {"ds": quote(name + " images"), "name": quote(name), "labels": labels,
       "admin": quote(st.email), "days": REVIEW_DAYS, "n": n, "nl": REVIEW_LABELERS,
       "join": TEAM_JOIN % (), "phase_seq": REVIEW_PHASE.format(i="seq")}
    row = st.sql(sql)[-1]
    return int(row[0]), int(row[1]), int(row[2])


def recount(st, p):
    """The integration tests' full recount of project P's counters: the
    lines of the counters that differ ("what, counter, recount"), [] when
    all are exact."""
    with open(RECOUNT_SQL) as f:
        return st.sql("SET @p = %d;\n%s" % (p, f.read()))


def review_wrk(st, name, path, cookie):
    """One wrk run of a review row at REVIEW_CONNECTIONS connections with
    the labeld and MariaDB CPU it cost: (wrk's object, CPU dict)."""
    global CONNECTIONS
    env = {"LABELD_BENCH_METHOD": "GET", "LABELD_BENCH_NAME": name, "LABELD_BENCH_SCRIPT": "",
           "LABELD_BENCH_COOKIE": cookie or "", "LABELD_BENCH_CSRF": ""}
    saved, CONNECTIONS = CONNECTIONS, REVIEW_CONNECTIONS
    try:
        c0 = cpu_ticks(st)
        r, _ = wrk(st, "report.lua", path, "wrk-%s.txt" % name, env=env)
        c1 = cpu_ticks(st)
    finally:
        CONNECTIONS = saved
    return r, cpu_per_request(c0, c1, r["requests"])[0]


def review_rows(run, names):
    """Set-up once per run (not measured; printed): the generated project
    and its recount.  Then each row: REVIEW_RUNS wrk runs (review-next: each
    paired with a /healthz run just before it), medians reported."""
    st = run.st
    n = REVIEW_ITEMS
    if n != 1000000:
        warn("LABELD_BENCH_REVIEW_ITEMS=%d: the rows are named for 1 000 000 items" % n)
    say("review rows: a multiclass project of %d items answered by %d labelers, made with SQL"
        % (n, REVIEW_LABELERS))
    t0 = time.monotonic()
    try:
        p, label, labeler = review_project(st, n)
        prep = round(time.monotonic() - t0, 1)
        info("project %d made in %.1f s; recounting every counter" % (p, prep))
        t1 = time.monotonic()
        wrong = recount(st, p)
        info("recount in %.1f s: %s" % (time.monotonic() - t1, "every counter exact" if not wrong
                                        else "%d counters differ" % len(wrong)))
        if wrong:
            raise Fail("the generated project's counters differ from the recount: " +
                       "; ".join(" ".join(w) for w in wrong[:5]))
        cookie, _ = sign_in(st, st.email, st.password)
    except Fail as e:
        for name in names:
            run.add({"name": name, "value": 0, "result": "ERROR", "note": str(e),
                     "timestamp": st.ts}, "-", None, "could not prepare the project: %s" % e)
        return
    db_settle(st)
    for name in names:
        path, marker = REVIEW_ROWS[name]
        path = path.format(p=p, label=label, labeler=labeler)
        try:
            status, _, body = st.request("GET", path, {"Cookie": cookie})
        except OSError:
            status, body = 0, b""
        why = ("page missing (%d)" % status if status != 200 else
               None if marker.encode() in body else "page missing (a placeholder without %s)" % marker)
        if why is not None:
            say("%s: GET %s: skipped: %s" % (name, path, why))
            run.add({"name": name, "value": 0, "result": "-", "skipped": why, "path": path,
                     "timestamp": st.ts}, "-", None, "skipped: " + why)
            continue
        say("%s: GET %s, %d runs of wrk -c%d -d%ds as the bench admin" % (
            name, path, REVIEW_RUNS, REVIEW_CONNECTIONS, SECONDS))
        runs = []
        for k in range(REVIEW_RUNS):
            h = review_wrk(st, "healthz-" + name, "/healthz", None)[0] if name == "review-next" else None
            r, cpu = review_wrk(st, name, path, cookie)
            r.update(cpu)
            r["errors"] = r["errors_status"] + r["errors_socket"]
            if h is not None:
                r["healthz_rps"] = h["rps"]
                r["ratio_to_healthz"] = ratio(r["rps"], h["rps"])
            runs.append(r)
            info("  run %d: %.1f req/s, p50 %.2f ms, p99 %.2f ms, %d errors; CPU/request labeld %d µs, "
                 "MariaDB %d µs%s" % (k + 1, r["rps"], r["p50_ms"], r["p99_ms"], r["errors"],
                                      cpu["labeld_cpu_us"], cpu["mariadb_cpu_us"],
                                      "" if h is None else "; /healthz %.1f req/s, ratio %.3f"
                                      % (h["rps"], r["ratio_to_healthz"])))

        def med(key):
            return statistics.median(x[key] for x in runs)

        obj = {"name": name, "path": path, "unit": "req/s", "rps": med("rps"), "p50_ms": med("p50_ms"),
               "p99_ms": med("p99_ms"), "labeld_cpu_us": med("labeld_cpu_us"),
               "mariadb_cpu_us": med("mariadb_cpu_us"), "errors": sum(x["errors"] for x in runs),
               "connections": REVIEW_CONNECTIONS, "duration_s": SECONDS, "runs": runs,
               "items": n, "prepare_seconds": prep, "timestamp": st.ts}
        cpu_note = "CPU/request labeld %d µs, MariaDB %d µs" % (obj["labeld_cpu_us"], obj["mariadb_cpu_us"])
        if name == "review-next":
            obj["value"] = obj["rps"]
            obj["ratio_to_healthz"] = med("ratio_to_healthz")
            obj["healthz_rps"] = med("healthz_rps")
            obj["result"] = "-" if obj["errors"] == 0 else "ERROR"
            run.add(obj, "%.1f req/s" % obj["value"], None,
                    "x healthz %.3f (paired, median of %d; healthz %.1f req/s); p50 %.2f ms, p99 %.2f ms; %s; "
                    "%d errors" % (obj["ratio_to_healthz"], len(runs), obj["healthz_rps"], obj["p50_ms"],
                                   obj["p99_ms"], cpu_note, obj["errors"]))
        else:
            obj["value"] = obj["p50_ms"]
            obj["unit"] = "ms"
            obj["goal_p50_ms"] = REVIEW_P50_GOAL_MS
            obj["result"] = ("ERROR" if obj["errors"] else
                             "PASS" if obj["p50_ms"] < REVIEW_P50_GOAL_MS else "MISS")
            run.add(obj, "p50 %.2f ms" % obj["value"], "p50 <%d ms" % REVIEW_P50_GOAL_MS,
                    "p99 %.2f ms; %.1f req/s; %s (medians of %d); %d errors" % (
                        obj["p99_ms"], obj["rps"], cpu_note, len(runs), obj["errors"]))


# ---------------------------------------------------------------- driver

# Every row, in the order a run measures them (request rows first: the
# others are judged against static and healthz of the same run).
ALL_ROWS = (list(REQUEST_ROWS) + list(LABEL_ROWS) + list(INIT_ROWS) + list(FLOOD_ROWS)
            + list(MEM_ROWS) + list(EXPORT_ROWS) + list(REVIEW_ROWS))


def select(names, quiet=True):
    """The rows to run by kind: (request, labeling, init, flood, memory,
    export, review).
    static and healthz come with any request or labeling row.  Exits 2 on a
    name that is not a row."""
    for n in names:
        if n not in ALL_ROWS:
            sys.stderr.write("stack: error: unknown bench row '%s' (rows: %s)\n"
                             % (n, " ".join(ALL_ROWS)))
            sys.exit(2)
    want = set(names) if names else set(ALL_ROWS)
    http = [n for n in REQUEST_ROWS if n in want]
    if http or want & set(LABEL_ROWS):
        added = [n for n in YARDSTICKS if n not in http]
        if added and names and not quiet:
            info("also measuring %s: every row's ratios are to static and healthz of the same run"
                 % " ".join(added))
        http = list(YARDSTICKS) + [n for n in http if n not in YARDSTICKS]
    return (http,) + tuple([n for n in kind if n in want]
                           for kind in (LABEL_ROWS, INIT_ROWS, FLOOD_ROWS, MEM_ROWS, EXPORT_ROWS,
                                        REVIEW_ROWS))


def main():
    ap = argparse.ArgumentParser(description="the driver of ./stack bench")
    ap.add_argument("command", choices=("check", "run"))
    ap.add_argument("rows", nargs="*")
    args = ap.parse_args()
    if args.command == "check":
        select(args.rows)
        return 0
    http, label, init, flood, mem, export, review = select(args.rows, quiet=False)
    st = Stack()
    run = Run(st)
    open(st.results, "w").close()
    error = None
    try:
        for rows, fn in ((http, request_rows), (label, label_rows), (init, init_rows),
                         (flood, flood_rows), (mem, mem_rows), (export, export_rows),
                         (review, review_rows)):
            if rows:
                fn(run, rows)
    except Fail as e:
        error = str(e)
    finally:
        with open(st.results) as f, open(os.path.join(st.root, "history.jsonl"), "a") as h:
            h.write(f.read())
    run.print_table()
    if error:
        sys.exit("stack: error: bench: %s" % error)
    if run.failed:
        warn("some rows could not be measured (ERROR above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
