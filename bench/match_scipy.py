#!/usr/bin/python3
"""The matching engine against SciPy on the benchmark's instances.

For each size (default 2000x400 and 10000x2000, capacity 5), runs
bench_match with --export, which solves the instance with the engine and
writes its score matrix; then solves the same problem with
scipy.optimize.linear_sum_assignment on the capacity-expanded matrix (one
column per place of each mentor's remaining capacity; extra dummy columns
when places outnumber them) and prints both times, their ratio and whether
the optima are equal. The participation objective is encoded as in
tests/integration/test_match_engine.py: each pair weighs
10000 x (mentees + 1) + score, so that more pairs always win, then score.

Usage: bench/match_scipy.py [--bench PATH] [--size NxM ...] [--keep DIR]
Exit status: 0 when every optimum is equal, 1 otherwise.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
from scipy.optimize import linear_sum_assignment


def engine_run(bench, size, prefix):
    out = subprocess.run([bench, "--size", size, "--export", prefix], check=True,
                         capture_output=True, text=True).stdout
    fields = dict(re.findall(r"(\w+)=(\S+)", out))
    return float(fields["scoring_s"]) + float(fields["solving_s"]) + float(fields["create_s"]), fields


def scipy_run(prefix):
    with open(prefix + ".json", encoding="utf-8") as f:
        meta = json.load(f)
    n, m = meta["mentees"], meta["mentors"]
    scores = np.fromfile(prefix + ".scores", dtype="<u2").reshape(n, m)
    rows = [i for i in range(n) if meta["places"][i] > 0]
    if any(meta["places"][i] > 1 for i in rows):
        sys.exit("match_scipy: more than one mentor per mentee cannot be expanded for SciPy")
    columns = np.repeat(np.arange(m), meta["room"])
    sub = scores[rows][:, columns].astype(np.float64)
    allowed = sub != 65535
    big = 10000.0 * (n + 1)
    cost = np.where(allowed, -(big + sub), 0.0)
    if cost.shape[1] < cost.shape[0]:
        cost = np.hstack([cost, np.zeros((cost.shape[0], cost.shape[0] - cost.shape[1]))])
    t0 = time.monotonic()
    r, c = linear_sum_assignment(cost)
    elapsed = time.monotonic() - t0
    real = c < len(columns)
    r, c = r[real], c[real]
    ok = allowed[r, c]
    pairs = int(ok.sum())
    total = int(sub[r[ok], c[ok]].sum())
    return elapsed, pairs, total, meta


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", default=os.path.join(here, "..", "build", "bench_match"))
    parser.add_argument("--size", action="append")
    parser.add_argument("--keep", help="keep the exported files in this directory")
    args = parser.parse_args()
    sizes = args.size or ["2000x400", "10000x2000"]
    work = args.keep or tempfile.mkdtemp(prefix="match-scipy-")
    os.makedirs(work, exist_ok=True)
    status = 0
    print("%-12s %10s %10s %8s %10s %12s %s" %
          ("size", "engine_s", "scipy_s", "ratio", "pairs", "score", "equal"))
    for size in sizes:
        prefix = os.path.join(work, "match_" + size)
        engine_s, fields = engine_run(args.bench, size, prefix)
        scipy_s, pairs, total, meta = scipy_run(prefix)
        equal = pairs == meta["new_pairs"] and total == meta["new_score"]
        status |= not equal
        print("%-12s %10.3f %10.3f %8.1f %10d %12d %s" %
              (size, engine_s, scipy_s, scipy_s / engine_s if engine_s > 0 else 0.0,
               meta["new_pairs"], meta["new_score"],
               "yes" if equal else "NO (scipy %d pairs, %d)" % (pairs, total)))
        sys.stdout.flush()
        if not args.keep:
            for ext in (".scores", ".json"):
                os.unlink(prefix + ext)
    if not args.keep:
        os.rmdir(work)
    return status


if __name__ == "__main__":
    sys.exit(main())
