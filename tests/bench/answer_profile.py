#!/usr/bin/env python3
"""answer_profile.py: the answer procedure's CPU per statement, from MariaDB's
SHOW PROFILE (tests/bench/README.md, "answer-cost").

  answer_profile.py SOCKET DB PROC BATCH CALLS [stages]

In a database DB set up by answer_cost.py (project 1), CALLS times: lease
BATCH items (untimed) and CALL PROC(1, rows, BATCH) with profiling on;
prints each statement the procedure ran with the median of its CPU (user +
system) per answer, and with "stages" also each statement's stages of at
least 1 µs.  Profiling adds a little to every statement: compare
statements and variants, not totals with answer_cost.py's."""
import collections
import statistics
import subprocess
import sys
sock, db, call, n, reps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
has = subprocess.run(["mariadb", "--no-defaults", "-S", sock, "-N", "-B", db],
                     input=b"SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
                     b"AND TABLE_NAME = 'items' AND COLUMN_NAME = 'leased_at'", stdout=subprocess.PIPE)
leased_at = ", i.leased_at = NOW(6) - INTERVAL 5 SECOND" if has.stdout.strip() == b"1" else ""
sql = ["SET NAMES utf8mb4; SET time_zone = '+00:00';\n"]
for r in range(reps):
    sql.append("""SET profiling = 0; SET profiling_history_size = 0; SET profiling_history_size = 100;
SET @ids = (SELECT JSON_ARRAYAGG(id) FROM (SELECT id FROM items WHERE project_id = 1 AND state = 'unlabeled' AND lease_user IS NULL ORDER BY id LIMIT %d) x);
SET @lab = (SELECT MIN(id) FROM labels WHERE project_id = 1);
SET @rows = (SELECT JSON_ARRAYAGG(JSON_OBJECT('i', j.id, 'u', 1 + j.id %% 16, 't', CONCAT('P', LPAD(j.id, 42, '0')), 'd', CONCAT('{"label":', @lab, '}'), 'c', JSON_ARRAY(@lab)))
  FROM JSON_TABLE(@ids, '$[*]' COLUMNS (id BIGINT UNSIGNED PATH '$')) j);
UPDATE JSON_TABLE(@rows, '$[*]' COLUMNS (id BIGINT UNSIGNED PATH '$.i', u BIGINT UNSIGNED PATH '$.u', t CHAR(43) CHARACTER SET ascii PATH '$.t')) j
  STRAIGHT_JOIN items i ON i.id = j.id SET i.lease_user = j.u, i.lease_token = j.t, i.lease_until = NOW(6) + INTERVAL 600 SECOND%s;
SET profiling = 1;
CALL %s(1, @rows, %d);
SET profiling = 0;
SHOW PROFILES;
SELECT "CPU", QUERY_ID, SUM(CPU_USER + CPU_SYSTEM) FROM information_schema.PROFILING GROUP BY QUERY_ID; SELECT "STAGE", QUERY_ID, STATE, SUM(CPU_USER + CPU_SYSTEM) FROM information_schema.PROFILING GROUP BY QUERY_ID, STATE;
""" % (n, leased_at, call, n))
out = subprocess.run(["mariadb","--no-defaults","-S",sock,"-N","-B",db],input="".join(sql).encode(),stdout=subprocess.PIPE,stderr=subprocess.PIPE)
if out.returncode: print(out.stderr.decode()); sys.exit(1)
text = {}; cpu = collections.defaultdict(list); order = []
cur = {}; stages = collections.defaultdict(list)
for line in out.stdout.decode().splitlines():
    f = line.split("\t")
    if f[0] == "CPU":
        q = cur.get(f[1])
        if q is None: continue
        cpu[q].append(float(f[2]) * 1e6 / n)
    elif f[0] == "STAGE":
        q = cur.get(f[1])
        if q is None: continue
        stages[(q, f[2])].append(float(f[3]) * 1e6 / n)
    elif len(f) >= 3 and f[0].isdigit():
        q = " ".join(f[2].replace("\\n", " ").split())[:70]
        cur[f[0]] = q
        if q not in order: order.append(q)
tot = 0
for q in order:
    m = statistics.median(cpu[q]); tot += m
    print("%7.1f  %s" % (m, q))
print("%7.1f  total (µs per answer, median of %d calls of %d)" % (tot, reps, n))

if len(sys.argv) > 6:
    for q in order:
        print(q)
        for (qq, st), v in stages.items():
            if qq == q and statistics.median(v) >= 1.0:
                print("      %6.1f %s" % (statistics.median(v), st))
