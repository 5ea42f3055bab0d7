#!/usr/bin/env bash
# The project's benchmarks. Builds mentord and mentorctl in a Release build
# directory of their own, and runs each benchmark against a fresh mentord on
# its own embedded PostgreSQL in a temporary directory, which is removed at
# the end whatever happens (failure, Ctrl-C). docs/BENCHMARKS.md says what
# each benchmark measures and keeps the reference figures.
#
#   bench/run.sh            run every benchmark
#   bench/run.sh NAME...    run the named benchmarks only
#   bench/run.sh --list     list the benchmarks
#
# Environment:
#   BENCH_IMPORT_ROWS   rows of the import benchmark (default 10000)
#   BENCH_BUILD_DIR     build directory (default build-bench)
#   BENCH_KEEP=1        keep the temporary directory (logs, data, files)
#
# Exit status: 0 when every benchmark ran, its results were correct and its
# goal was met; 1 otherwise (the reason is printed); 2 for a usage error.
set -euo pipefail
cd "$(dirname "$0")/.."

# "name: description" of each benchmark; main() runs NAME by calling
# bench_NAME.
BENCHMARKS=(
    "import: bulk participant import and export (BENCH_IMPORT_ROWS rows)"
    "match: matching engine alone, 2000x400 to 50000x10000 (bench_match), checked against SciPy"
)

BUILD="${BENCH_BUILD_DIR:-build-bench}"
IMPORT_ROWS="${BENCH_IMPORT_ROWS:-10000}"
ADMIN_EMAIL="admin@bench.example.com"
ADMIN_PASSWORD="bench-admin-password"
CTL_TIMEOUT=600 # seconds any one mentorctl command may take

# ---------------------------------------------------------------- helpers

die() {
    echo "FAIL: $*" >&2
    exit 1
}

now() { date +%s.%N; }

# seconds from $1 to $2 (as printed by now), three decimals
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# "N rows/s": $1 rows in $2 seconds
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%6.0f rows/s", (s > 0) ? n / s : 0 }'; }

# kibibytes $1 as mebibytes, one decimal
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# The result table: one line per figure (name, value, unit, notes), shown
# as it is measured and again together at the end of the run.
RESULTS=()
VERDICTS=()
FAILED=0
result() {
    local line
    line=$(printf '%-28s %10s %-4s %s' "$1" "$2" "$3" "${4:-}")
    RESULTS+=("$line")
    echo "   $line"
}

usage() {
    cat <<'USAGE'
usage: bench/run.sh [NAME...]   run the named benchmarks (default: all of them)
       bench/run.sh --list      list the benchmarks' names

benchmarks:
USAGE
    printf '  %s\n' "${BENCHMARKS[@]}"
}

# ---------------------------------------------------- mentord life cycle

WORK=""
SERVER_PID=""
SERVER_DIR=""
PG_VERSION="unknown"

# Stops mentord (SIGTERM: it finishes in-flight requests and stops its
# PostgreSQL), then any PostgreSQL left running on the data directory, which
# happens when mentord is stopped before it had installed its signal
# handlers.
server_stop() {
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
    local pidfile="$SERVER_DIR/data/pg/postmaster.pid" pg
    if [ -n "$SERVER_DIR" ] && [ -f "$pidfile" ]; then
        pg=$(head -n 1 "$pidfile")
        if [ -n "$pg" ] && kill -TERM "$pg" 2>/dev/null; then
            echo "note: stopping a PostgreSQL left running (pid $pg)" >&2
            for _ in $(seq 1 100); do
                kill -0 "$pg" 2>/dev/null || break
                sleep 0.1
            done
        fi
    fi
    SERVER_DIR=""
}

# shellcheck disable=SC2317 # run by the EXIT trap, which shellcheck 0.9 does not follow
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    server_stop
    if [ -n "$WORK" ]; then
        if [ "${BENCH_KEEP:-0}" = 1 ]; then
            echo "kept $WORK" >&2
        else
            rm -rf "$WORK"
        fi
    fi
    exit "$rc"
}

# A TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Initializes a data directory in $1/data (organization "bench" and its
# admin), starts mentord on a free port and waits until it listens. Sets
# SERVER, CA, SERVER_PID, SERVER_DIR and PG_VERSION.
server_start() {
    local dir=$1 log="$1/mentord.log" bindir
    mkdir -p "$dir"
    SERVER_DIR=$dir
    printf '%s\n' "$ADMIN_PASSWORD" |
        "$BUILD/mentord" init --data-dir "$dir/data" --org-slug bench --org-name "Bench Inc" \
            --admin-email "$ADMIN_EMAIL" --admin-name "Bench Admin" --password-stdin \
            >"$dir/init.log" 2>&1 || { cat "$dir/init.log" >&2; die "mentord init failed"; }
    bindir=$(sed -n 's/.*event=pg_initdb .*bindir=\([^ ]*\).*/\1/p' "$dir/init.log" | head -n 1)
    PG_VERSION=$("${bindir:-/nonexistent}/postgres" --version 2>/dev/null ||
        echo "PostgreSQL $(cat "$dir/data/pg/PG_VERSION")")

    # A port found free may be taken before mentord binds it: try another.
    for _ in 1 2 3 4 5; do
        local port
        port=$(free_port)
        SERVER="127.0.0.1:$port"
        # setsid: a Ctrl-C reaches this script, whose trap stops mentord
        # cleanly, rather than mentord and its PostgreSQL all at once.
        setsid "$BUILD/mentord" --data-dir "$dir/data" --listen "$SERVER" 2>>"$log" &
        SERVER_PID=$!
        for _ in $(seq 1 600); do
            if grep -q "event=listening" "$log"; then
                CA="$dir/data/tls/ca.crt"
                return 0
            fi
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$SERVER_PID" 2>/dev/null; then
            tail -n 30 "$log" >&2
            die "mentord did not listen within 60 s"
        fi
        wait "$SERVER_PID" || true
        SERVER_PID=""
        grep -q "address already in use" "$log" || break
    done
    tail -n 30 "$log" >&2
    die "mentord failed to start (log above)"
}

# mentorctl as the benchmark's admin, with a session and configuration of
# its own, under a time limit (exit status 124 when it ran out). A client
# stopped by Ctrl-C or SIGTERM stops the run, rather than counting as a
# failed command.
ctl() {
    local rc=0
    XDG_STATE_HOME="$SERVER_DIR/client" XDG_CONFIG_HOME="$SERVER_DIR/client" \
        timeout --foreground "$CTL_TIMEOUT" "$BUILD/mentorctl" --server "$SERVER" --ca "$CA" "$@" ||
        rc=$?
    case "$rc" in
    130 | 143) exit "$rc" ;;
    esac
    return "$rc"
}

admin_login() {
    printf '%s\n' "$ADMIN_PASSWORD" |
        ctl login --org bench --email "$ADMIN_EMAIL" --password-stdin >/dev/null ||
        die "login as $ADMIN_EMAIL failed"
}

# One field of a JSON document: json_field FILE KEY [KEY...].
json_field() {
    python3 - "$@" <<'EOF'
import json, sys
with open(sys.argv[1], encoding="utf-8") as f:
    v = json.load(f)
for k in sys.argv[2:]:
    v = v[k]
print(v)
EOF
}

# Memory of mentord ($1) and of its PostgreSQL (postmaster $2 and the
# processes it started), as "mentord_hwm_kib pg_processes pg_rss_kib
# pg_pss_kib". RSS counts shared memory once per process that touched it;
# PSS shares it out among them, so the PSS sum is the fairer total.
memory_figures() {
    python3 - "$1" "$2" <<'EOF'
import os, sys

def status(pid, key):
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0

def pss(pid):
    try:
        with open("/proc/%s/smaps_rollup" % pid) as f:
            return sum(int(l.split()[1]) for l in f if l.startswith("Pss:"))
    except OSError:
        return 0

mentord, postmaster = sys.argv[1], sys.argv[2]
pids = [postmaster]
for p in os.listdir("/proc"):
    if p.isdigit():
        try:
            if str(status(p, "PPid")) == postmaster:
                pids.append(p)
        except OSError:
            pass
rss = sum(status(p, "VmRSS") for p in pids)
print(status(mentord, "VmHWM"), len(pids), rss, sum(pss(p) for p in pids))
EOF
}

# --------------------------------------------------- benchmark: import

# Runs one import of $2 and checks its summary against $3, a list of
# "key=value" (the JSON summary's counters). Sets LAST_SECONDS.
timed_import() {
    local label=$1 file=$2 expect=$3 out="$SERVER_DIR/$1.json" t0 t1 rc=0
    t0=$(now)
    ctl --json import participants --program "$PROGRAM" "$file" \
        --invites "$SERVER_DIR/$label.invites.csv" >"$out" 2>"$SERVER_DIR/$label.err" || rc=$?
    t1=$(now)
    LAST_SECONDS=$(elapsed "$t0" "$t1")
    if [ "$rc" -ne 0 ]; then
        head -n 20 "$SERVER_DIR/$label.err" >&2
        [ "$rc" -eq 124 ] && die "import $label timed out after $CTL_TIMEOUT s"
        die "import $label exited with status $rc after $LAST_SECONDS s"
    fi
    python3 - "$out" "$expect" <<'EOF' || die "import $label: wrong summary (above)"
import json, sys
with open(sys.argv[1], encoding="utf-8") as f:
    got = json.load(f)
wrong = []
for item in sys.argv[2].split():
    key, want = item.split("=")
    have = len(got[key]) if isinstance(got.get(key), list) else got.get(key)
    if str(have).lower() != want:
        wrong.append("%s = %s, expected %s" % (key, have, want))
for issue in got.get("issues", [])[:10]:
    wrong.append("row %s, column %s: %s" % (issue["row"], issue["column"], issue["message"]))
if wrong:
    print("\n".join(wrong), file=sys.stderr)
    sys.exit(1)
EOF
}

# Checks the exported CSV $1 against the last imported file $2: the same
# participants (by e-mail) with the same departments.
check_export() {
    python3 - "$1" "$2" <<'EOF'
import csv, sys

def rows(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))

exported_rows, imported_rows = rows(sys.argv[1]), rows(sys.argv[2])
exported = {r["email"]: r for r in exported_rows}
imported = {r["email"]: r for r in imported_rows}
problems = []
if len(exported_rows) != len(imported_rows):
    problems.append("%d rows exported, %d imported" % (len(exported_rows), len(imported_rows)))
if len(exported) != len(exported_rows):
    problems.append("%d e-mails appear twice in the export" % (len(exported_rows) - len(exported)))
for email, row in imported.items():
    if email not in exported:
        problems.append("%s is missing from the export" % email)
    elif exported[email]["department"] != row["department"]:
        problems.append("%s: department %r exported, %r imported"
                        % (email, exported[email]["department"], row["department"]))
if problems:
    print("\n".join(problems[:10]), file=sys.stderr)
    sys.exit(1)
EOF
}

bench_import() {
    local n="$IMPORT_ROWS" dir="$WORK/import"
    # The goal: every import of 10,000 rows (or fewer) in under 10 s; for
    # larger files, at least 1000 rows/s.
    local goal
    goal=$(awk -v n="$n" 'BEGIN { printf "%.0f", (n > 10000) ? n / 1000 : 10 }')

    mkdir -p "$dir"
    python3 bench/gen_participants.py --rows "$n" --seed 1 -o "$dir/participants.csv"
    python3 bench/gen_participants.py --rows "$n" --seed 1 --shift-departments 1 \
        -o "$dir/participants-moved.csv"

    server_start "$dir"
    admin_login
    ctl --json program create --name "Import benchmark" >"$dir/program.json" ||
        die "program create failed"
    PROGRAM=$(json_field "$dir/program.json" program id)

    local slowest=0 kind
    # (a) a fresh program: every row creates a user and enrolls them
    timed_import fresh "$dir/participants.csv" \
        "applied=true users_created=$n enrolled=$n updated=0 unchanged=0 skipped=0 issues=0"
    local invites
    invites=$(($(wc -l <"$dir/fresh.invites.csv") - 1))
    [ "$invites" -eq "$n" ] || die "import fresh: $invites invitation codes written, expected $n"
    result "import.fresh_$n" "$LAST_SECONDS" s "$(rate "$n" "$LAST_SECONDS")"
    slowest=$LAST_SECONDS kind=fresh

    # (b) the same file again: nothing to write
    timed_import unchanged "$dir/participants.csv" \
        "applied=true users_created=0 enrolled=0 updated=0 unchanged=$n skipped=0 issues=0"
    result "import.unchanged_$n" "$LAST_SECONDS" s "$(rate "$n" "$LAST_SECONDS")"
    if awk -v a="$LAST_SECONDS" -v b="$slowest" 'BEGIN { exit !(a > b) }'; then
        slowest=$LAST_SECONDS kind=unchanged
    fi

    # (c) every row in another department: every profile is rewritten
    timed_import updated "$dir/participants-moved.csv" \
        "applied=true users_created=0 enrolled=0 updated=$n unchanged=0 skipped=0 issues=0"
    result "import.updated_$n" "$LAST_SECONDS" s "$(rate "$n" "$LAST_SECONDS")"
    if awk -v a="$LAST_SECONDS" -v b="$slowest" 'BEGIN { exit !(a > b) }'; then
        slowest=$LAST_SECONDS kind=updated
    fi

    # (d) the participants back out as CSV
    local t0 t1 secs
    t0=$(now)
    ctl export participants --program "$PROGRAM" --csv --output "$dir/export.csv" \
        2>"$dir/export.err" || { cat "$dir/export.err" >&2; die "export failed"; }
    t1=$(now)
    secs=$(elapsed "$t0" "$t1")
    check_export "$dir/export.csv" "$dir/participants-moved.csv" ||
        die "export: does not match the imported file (above)"
    result "export.csv_$n" "$secs" s "$(rate "$n" "$secs")"

    # (e) memory, with the server still up after all of the above
    local postmaster figures mem
    postmaster=$(head -n 1 "$dir/data/pg/postmaster.pid")
    figures=$(memory_figures "$SERVER_PID" "$postmaster") || die "cannot read the memory figures"
    read -r -a mem <<<"$figures"
    result mentord.peak_rss "$(mib "${mem[0]}")" MiB "VmHWM"
    result postgres.rss_total "$(mib "${mem[2]}")" MiB "${mem[1]} processes, shared memory counted in each"
    result postgres.pss_total "$(mib "${mem[3]}")" MiB "the same, shared memory divided among them"

    server_stop

    if awk -v s="$slowest" -v g="$goal" 'BEGIN { exit !(s < g) }'; then
        VERDICTS+=("PASS import: $n rows imported in at most $slowest s ($kind), goal < $goal s")
    else
        VERDICTS+=("FAIL import: $n rows took $slowest s to import ($kind), goal < $goal s")
        FAILED=1
    fi
}

# ---------------------------------------------------- benchmark: match

# One key=value field of a bench_match line: match_field LINE KEY.
match_field() {
    sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"
}

# The matching engine on its own (no server): bench_match scores and solves
# synthetic programs (mentees x mentors, capacity 5) with both solvers, each
# size in a process of its own; bench/match_scipy.py then solves the two
# smaller ones again with SciPy and compares the optima. Goals (optimal
# solver, scoring and solving together): 10000x2000 under 1 s and 200 MiB,
# 50000x10000 under 15 s and 1 GiB.
bench_match() {
    local out="$WORK/match.txt" line size solver total peak
    cmake --build "$BUILD" -j"$(nproc)" --target bench_match >/dev/null ||
        die "building bench_match failed"
    "$BUILD/bench_match" --solver both >"$out" || die "bench_match failed"
    while IFS= read -r line; do
        size=$(match_field "$line" size)
        solver=$(match_field "$line" solver)
        total=$(match_field "$line" total_s)
        peak=$(match_field "$line" peak_mib)
        if [ "$solver" = stable ]; then
            result "match.$size.stable" "$total" s "scoring and deferred acceptance"
            continue
        fi
        result "match.$size.scoring" "$(match_field "$line" scoring_s)" s \
            "$(match_field "$line" pairs_scored) pair scores"
        result "match.$size.solving" "$(match_field "$line" solving_s)" s \
            "$(match_field "$line" rounds) rounds, $(match_field "$line" core_edges) core pairs"
        result "match.$size.total" "$total" s \
            "$(match_field "$line" new_pairs) pairs, score $(match_field "$line" new_score)"
        result "match.$size.peak" "$peak" MiB "VmHWM"
        local goal_s="" goal_mib=""
        case "$size" in
        10000x2000) goal_s=1 goal_mib=200 ;;
        50000x10000) goal_s=15 goal_mib=1024 ;;
        esac
        [ -n "$goal_s" ] || continue
        if awk -v t="$total" -v p="$peak" -v gt="$goal_s" -v gp="$goal_mib" \
            'BEGIN { exit !(t < gt && p < gp) }'; then
            VERDICTS+=("PASS match $size: $total s, $peak MiB, goal < $goal_s s and < $goal_mib MiB")
        else
            VERDICTS+=("FAIL match $size: $total s, $peak MiB, goal < $goal_s s and < $goal_mib MiB")
            FAILED=1
        fi
    done <"$out"

    if ! /usr/bin/python3 -c "import scipy" 2>/dev/null; then
        VERDICTS+=("SKIP match vs SciPy: python3-scipy is not installed")
        return 0
    fi
    local table="$WORK/match-scipy.txt" rc=0
    /usr/bin/python3 bench/match_scipy.py --bench "$BUILD/bench_match" >"$table" || rc=$?
    sed 's/^/   /' "$table"
    while IFS= read -r line; do
        read -r size engine scipy ratio _ <<<"$line"
        [[ "$size" =~ ^[0-9]+x[0-9]+$ ]] || continue
        result "match.$size.scipy" "$scipy" s "engine $engine s, SciPy/engine $ratio"
    done <"$table"
    if [ "$rc" -eq 0 ]; then
        VERDICTS+=("PASS match vs SciPy: equal optima")
    else
        VERDICTS+=("FAIL match vs SciPy: optima differ (table above)")
        FAILED=1
    fi
}

# ------------------------------------------------------------------ main

main() {
    local selected=() arg b known name
    for arg in "$@"; do
        case "$arg" in
        -h | --help)
            usage
            exit 0
            ;;
        --list)
            printf '%s\n' "${BENCHMARKS[@]%%:*}"
            exit 0
            ;;
        -*)
            usage >&2
            exit 2
            ;;
        *)
            known=0
            for b in "${BENCHMARKS[@]%%:*}"; do
                [ "$b" = "$arg" ] && known=1
            done
            if [ "$known" = 0 ]; then
                echo "bench/run.sh: no benchmark named '$arg'" >&2
                usage >&2
                exit 2
            fi
            selected+=("$arg")
            ;;
        esac
    done
    [ ${#selected[@]} -gt 0 ] || selected=("${BENCHMARKS[@]%%:*}")

    [[ "$IMPORT_ROWS" =~ ^[1-9][0-9]*$ ]] ||
        die "BENCH_IMPORT_ROWS must be a positive number, not '$IMPORT_ROWS'"
    command -v python3 >/dev/null || die "python3 is needed (the participants generator and the checks)"
    scripts/install-deps.sh build
    echo "== Building mentord and mentorctl (Release) in $BUILD"
    cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
    cmake --build "$BUILD" -j"$(nproc)" --target mentord mentorctl >/dev/null

    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    WORK=$(mktemp -d /tmp/mentord-bench-XXXXXX)
    # As root, mentord runs PostgreSQL as the postgres user, which must be
    # able to reach the data directories inside this one.
    chmod 755 "$WORK"

    for name in "${selected[@]}"; do
        echo "== Running $name"
        case "$name" in
        import) bench_import ;;
        match) bench_match ;;
        esac
    done

    local cpu ram source
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    ram=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
    # Figures belong to the code that was measured: name it (read-only git).
    if source=$(git rev-parse --short HEAD 2>/dev/null); then
        git diff-index --quiet HEAD -- 2>/dev/null || source="$source + uncommitted changes"
    else
        source="unknown (not a git checkout)"
    fi
    echo
    echo "machine:    ${cpu:-unknown CPU}, $(nproc) cores, $ram RAM"
    echo "postgresql: $PG_VERSION"
    echo "source:     $source"
    echo "date:       $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo
    printf '%-28s %10s %-4s %s\n' benchmark value unit notes
    printf '%s\n' "${RESULTS[@]}"
    echo
    printf '%s\n' "${VERDICTS[@]}"
    exit "$FAILED"
}

main "$@"
