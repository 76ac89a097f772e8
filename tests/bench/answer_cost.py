#!/usr/bin/env python3
"""answer_cost.py: MariaDB's CPU per answer of the labeling hot path, without
HTTP (tests/bench/README.md, "answer-cost").

Each VARIANT is a scratch database on one MariaDB server with the project's
migrations applied (all of sql/, or those up to a number) plus optional SQL
files, and a procedure to CALL as labeld does (labeld_answer_batch by
default).  Every database gets the same project (ITEMS items, three
labels, 16 labelers; a tenth of the items skipped and a twentieth requeued,
with their counters).  Then ROUNDS rounds of tests/bench/answer_cost.c: in each, every variant
leases ANSWERS items and stores their answers in batches of BATCH, the
variants taking turns batch by batch.  The
report: per variant the median (and all values) of MariaDB's CPU per
answer, the whole server's (proc) and the connection thread's (thread), in
microseconds.  At the end every database's counters are recounted with
tests/integration/counters_recount.sql: any line it prints is a counter the
variant got wrong.

  answer_cost.py --socket S --pid P [--rounds 5] [--batch 8] [--answers 2000]
      [--items 100000] [--shape class|boxes] VARIANT...

VARIANT: NAME=SPEC, SPEC a comma-separated list of
  upto:NNN        apply sql/NNN_*.sql and the ones before only (default: all)
  sql:FILE        apply FILE after the migrations (e.g. a variant procedure)
  call:PROC       the procedure to CALL (default labeld_answer_batch)
  db:NAME         the database ac_NAME (default: the variant's name); variants
                  that share one are set up once, by the first one's SPEC
e.g.  before=upto:019  after=  nophase=upto:019,sql:/tmp/v.sql,call:v_batch
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SEED = """
INSERT INTO users (email, password_hash)
  SELECT CONCAT('labeler', seq, '@example.com'), 'x' FROM seq_1_to_16;
INSERT INTO datastores (name, kind, local_path) VALUES ('answer-cost', 'local', '/nonexistent');
INSERT INTO datasets (name, description, datastore_id, path)
  SELECT 'answer-cost', '', id, '' FROM datastores WHERE name = 'answer-cost';
INSERT INTO projects (id, name, task, dataset_id, description, state)
  SELECT 1, 'answer-cost', 'multiclass', id, '', 'running' FROM datasets WHERE name = 'answer-cost';
INSERT INTO labels (project_id, name, position) VALUES (1, 'cat', 0), (1, 'dog', 1), (1, 'bird', 2);
INSERT INTO items (project_id, path, width, height, format, phase)
  SELECT 1, CONCAT('images/', seq, '.jpg'), 640, 480, 'jpeg',
    CASE WHEN seq % 20 = 0 THEN 'requeued' WHEN seq % 10 = 0 THEN 'skipped' ELSE 'queued' END
  FROM seq_1_to_ITEMS;
INSERT INTO project_counters (project_id, items_total, items_skipped, items_requeued)
  SELECT 1, COUNT(*), SUM(phase = 'skipped'), SUM(phase = 'requeued') FROM items WHERE project_id = 1;
-- The skipped items' skips (the recount checks that someone skipped them).
INSERT INTO item_skips (user_id, project_id, item_id)
  SELECT 16, 1, id FROM items WHERE project_id = 1 AND phase = 'skipped';
ANALYZE TABLE items, annotations, answer_labels, labeler_days;
"""

# Before sql/016 (no phases): every item queued.
SEED_PRE = SEED[:SEED.index("INSERT INTO items")] + """
INSERT INTO items (project_id, path, width, height, format)
  SELECT 1, CONCAT('images/', seq, '.jpg'), 640, 480, 'jpeg' FROM seq_1_to_ITEMS;
INSERT INTO project_counters (project_id, items_total)
  SELECT 1, COUNT(*) FROM items WHERE project_id = 1;
"""


def mariadb(sock, db, sql=None, path=None):
    cmd = ["mariadb", "--no-defaults", "-S", sock, "-u", "root", "-N", "-B"]
    if db:
        cmd.append(db)
    inp = open(path, "rb").read() if path else sql.encode()
    r = subprocess.run(cmd, input=inp, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        sys.exit("answer_cost.py: %s: %s" % (path or sql[:60], r.stderr.decode().strip()))
    return r.stdout.decode()


def parse_variant(text):
    name, _, spec = text.partition("=")
    if not re.match(r"^[a-z0-9_]+$", name):
        sys.exit("answer_cost.py: bad variant name %r" % name)
    v = {"name": name, "db": "ac_" + name, "upto": None, "sql": [], "call": "labeld_answer_batch"}
    for part in filter(None, spec.split(",")):
        key, _, val = part.partition(":")
        if key == "upto":
            v["upto"] = int(val)
        elif key == "sql":
            v["sql"].append(val)
        elif key == "call":
            v["call"] = val
        elif key == "db":
            v["db"] = "ac_" + val
        else:
            sys.exit("answer_cost.py: bad variant part %r" % part)
    return v


def setup(args, v):
    sock = args.socket
    mariadb(sock, None, "DROP DATABASE IF EXISTS %s; CREATE DATABASE %s CHARACTER SET utf8mb4 "
            "COLLATE utf8mb4_unicode_ci" % (v["db"], v["db"]))
    files = sorted(f for f in os.listdir(os.path.join(REPO, "sql")) if re.match(r"^\d{3}_.*\.sql$", f))
    for f in files:
        if v["upto"] is not None and int(f[:3]) > v["upto"]:
            continue
        mariadb(sock, v["db"], path=os.path.join(REPO, "sql", f))
    for f in v["sql"]:
        mariadb(sock, v["db"], path=f)
    seed = SEED.replace("ITEMS", str(args.items))
    if not mariadb(sock, v["db"], "SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
                   "DATABASE() AND TABLE_NAME = 'items' AND COLUMN_NAME = 'phase'").strip():
        seed = SEED_PRE.replace("ITEMS", str(args.items))   # before sql/016
    mariadb(sock, v["db"], seed)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--socket", required=True)
    ap.add_argument("--pid", type=int, required=True, help="mariadbd's pid")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--answers", type=int, default=2000, help="answers per variant and round")
    ap.add_argument("--items", type=int, default=100000)
    ap.add_argument("--shape", choices=("class", "boxes"), default="class")
    ap.add_argument("--keep", action="store_true", help="reuse the databases (no set-up)")
    ap.add_argument("variants", nargs="+")
    args = ap.parse_args()
    variants = [parse_variant(t) for t in args.variants]
    binary = os.path.join(REPO, "var", "answer-cost", "answer_cost")
    os.makedirs(os.path.dirname(binary), exist_ok=True)
    cflags = subprocess.run(["mariadb_config", "--cflags", "--libs"], stdout=subprocess.PIPE,
                            check=True).stdout.decode().split()
    subprocess.run(["cc", "-O2", "-Wall", "-o", binary,
                    os.path.join(REPO, "tests", "bench", "answer_cost.c")] + cflags, check=True)
    per_db = {}
    for v in variants:
        per_db[v["db"]] = per_db.get(v["db"], 0) + 1
    if args.rounds * args.answers * max(per_db.values()) > args.items * 0.8:
        sys.exit("answer_cost.py: --items too small for rounds x answers x variants of a database")
    done = set()
    for v in variants:
        if args.keep or v["db"] in done:
            continue
        done.add(v["db"])
        print("set-up: %s (%s)" % (v["name"], v["db"]), flush=True)
        setup(args, v)
    res = {v["name"]: [] for v in variants}
    for r in range(args.rounds):
        out = subprocess.run([binary, args.socket, str(args.pid), str(args.batch), str(args.answers),
                              args.shape] + ["%s:%s" % (v["db"], v["call"]) for v in variants],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if out.returncode != 0:
            sys.exit("answer_cost.py: %s" % out.stderr.decode().strip())
        lines = out.stdout.decode().splitlines()
        for v, line in zip(variants, lines):
            m = dict(kv.split("=", 1) for kv in line.split())
            res[v["name"]].append((float(m["proc_us"]), float(m["thread_us"])))
            print("round %d %-12s proc %6.1f µs  thread %6.1f µs per answer" %
                  (r + 1, v["name"], float(m["proc_us"]), float(m["thread_us"])), flush=True)
    load = open("/proc/loadavg").read().split()[:3]
    print("\nbatch %d, %d answers per run, %d rounds, shape %s, %d items; load average %s" %
          (args.batch, args.answers, args.rounds, args.shape, args.items, " ".join(load)))
    print("%-12s %10s %10s   %s" % ("variant", "proc µs", "thread µs", "thread values"))
    for v in variants:
        p = statistics.median(x[0] for x in res[v["name"]])
        t = statistics.median(x[1] for x in res[v["name"]])
        print("%-12s %10.1f %10.1f   %s" % (v["name"], p, t,
                                          " ".join("%.0f" % x[1] for x in res[v["name"]])))
    recount = open(os.path.join(REPO, "tests", "integration", "counters_recount.sql")).read()
    for db in sorted(per_db):
        if not mariadb(args.socket, db, "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                       "DATABASE() AND TABLE_NAME = 'answer_labels'").strip():
            print("recount %s: before sql/016, no counters to recount" % db)
            continue
        out = mariadb(args.socket, db, "SET @p = 1;\n" + recount).strip()
        print("recount %s: %s" % (db, "exact" if not out else "DIFFERS\n" + out))


if __name__ == "__main__":
    main()
