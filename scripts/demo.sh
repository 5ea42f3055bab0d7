#!/usr/bin/env bash
# The main job: build mentord and mentorctl, start mentord on its embedded
# PostgreSQL, and show the client at work. The server then stays in the
# foreground until Ctrl-C.
#
#   scripts/demo.sh            run the demo and keep serving
#   scripts/demo.sh --smoke    run the demo, then stop (used by the tests)
#
# Environment: MENTORD_DEMO_DIR (data directory, default /var/tmp/mentord-demo),
# MENTORD_DEMO_PORT (default 7411), MENTORD_DEMO_PASSWORD (the admin's password).
set -euo pipefail
cd "$(dirname "$0")/.."

SMOKE=0
[ "${1:-}" = "--smoke" ] && SMOKE=1

scripts/install-deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target mentord mentorctl >/dev/null

DIR="${MENTORD_DEMO_DIR:-/var/tmp/mentord-demo}"
PORT="${MENTORD_DEMO_PORT:-7411}"
PASSWORD="${MENTORD_DEMO_PASSWORD:-demo-admin-password}"
SERVER="127.0.0.1:$PORT"
CTL_STATE="$DIR/client-admin"
BOB_STATE="$DIR/client-bob"
mkdir -p "$DIR"

if [ ! -f "$DIR/.initialized" ]; then
    echo "== Initializing $DIR (organization 'acme', admin admin@acme.test)"
    printf '%s\n' "$PASSWORD" | build/mentord init --data-dir "$DIR" --org-slug acme \
        --org-name "Acme Inc" --admin-email admin@acme.test --admin-name "Ada Admin" \
        --password-stdin 2>"$DIR/init.log"
    touch "$DIR/.initialized"
fi

echo "== Starting mentord on $SERVER (log: $DIR/mentord.log)"
build/mentord --data-dir "$DIR" --listen "$SERVER" 2>"$DIR/mentord.log" &
SERVER_PID=$!
stop_server() {
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID"
        wait "$SERVER_PID" || true
    fi
}
trap stop_server EXIT
for _ in $(seq 1 300); do
    grep -q "event=listening" "$DIR/mentord.log" 2>/dev/null && break
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "mentord failed to start:"; cat "$DIR/mentord.log"; exit 1
    fi
    sleep 0.1
done
grep "event=tls_ca" "$DIR/mentord.log" | tail -1

CA="$DIR/tls/ca.crt"
admin() { XDG_STATE_HOME="$CTL_STATE" XDG_CONFIG_HOME="$CTL_STATE" build/mentorctl --server "$SERVER" --ca "$CA" "$@"; }
bob() { XDG_STATE_HOME="$BOB_STATE" XDG_CONFIG_HOME="$BOB_STATE" build/mentorctl --server "$SERVER" --ca "$CA" "$@"; }
show() { echo; echo "\$ mentorctl $*"; }

show login --org acme --email admin@acme.test --password-stdin
printf '%s\n' "$PASSWORD" | admin login --org acme --email admin@acme.test --password-stdin
show whoami
admin whoami
EMAIL="bob.$(date +%s)@acme.test"
show user invite --email "$EMAIL" --name "Bob Builder" --role coordinator
CODE=$(admin --json user invite --email "$EMAIL" --name "Bob Builder" --role coordinator |
    sed -n 's/.*"invite_code": *"\([^"]*\)".*/\1/p')
echo "(invitation code for $EMAIL: $CODE)"
show invite accept "$CODE" --password-stdin "   # as Bob"
printf 'bobs-secret-password\n' | bob invite accept "$CODE" --password-stdin
show whoami "   # as Bob"
bob whoami
show user list
admin user list
show org show
admin org show

show import users docs/directory-sample.csv --invites "$DIR/directory-invites.csv"
admin import users docs/directory-sample.csv --invites "$DIR/directory-invites.csv"
PROGRAM_NAME="Spring mentoring $(date +%Y%m%d-%H%M%S)"
show program create --name "\"$PROGRAM_NAME\"" --cadence 14 --objective "\"Grow new leads\""
PROGRAM=$(admin --json program create --name "$PROGRAM_NAME" --cadence 14 \
    --objective "Grow new leads" | grep -o '"id": *[0-9]*' | head -1 | grep -o '[0-9]*$')
echo "(program id $PROGRAM)"
show program transition "$PROGRAM" enrolling
admin program transition "$PROGRAM" enrolling >/dev/null
show import participants --program "$PROGRAM" docs/participants-sample.csv --invites "$DIR/participant-invites.csv"
admin import participants --program "$PROGRAM" docs/participants-sample.csv \
    --invites "$DIR/participant-invites.csv"
show participant list --program "$PROGRAM"
admin participant list --program "$PROGRAM"
show export participants --program "$PROGRAM" --output "$DIR/export.csv" "   # then import it again: nothing changes"
admin export participants --program "$PROGRAM" --output "$DIR/export.csv"
admin import participants --program "$PROGRAM" "$DIR/export.csv"

# A realistic program: 200 people of one company (45 mentors, 155 mentees;
# the file the matching tests use, made by tests/fixtures/make_match_fixture.py)
# with varied skills, goals, departments, time zones and reporting lines,
# matched by the optimal solver.
MATCHED_NAME="Engineering mentoring $(date +%Y%m%d-%H%M%S)"
show program create --name "\"$MATCHED_NAME\"" --cadence 14
MATCHED=$(admin --json program create --name "$MATCHED_NAME" --cadence 14 \
    --objective "Grow the next staff engineers" | grep -o '"id": *[0-9]*' | head -1 |
    grep -o '[0-9]*$')
admin program transition "$MATCHED" enrolling >/dev/null
show import participants --program "$MATCHED" tests/fixtures/match-participants.csv
admin import participants --program "$MATCHED" tests/fixtures/match-participants.csv \
    --invites "$DIR/demo-invites.csv"
show program transition "$MATCHED" matching
admin program transition "$MATCHED" matching >/dev/null
show match run --program "$MATCHED"
admin match run --program "$MATCHED"
show match list --program "$MATCHED" "   # the first 10 lines"
admin match list --program "$MATCHED" >"$DIR/proposals.txt"
head -11 "$DIR/proposals.txt"
admin --json match list --program "$MATCHED" >"$DIR/proposals.json"
FIRST=$(grep -o '"id": *[0-9]*' "$DIR/proposals.json" | head -1 | grep -o '[0-9]*$')
show match explain --id "$FIRST"
admin match explain --id "$FIRST"
show match approve "$FIRST"
admin match approve "$FIRST"
show match runs --program "$MATCHED"
admin match runs --program "$MATCHED"

echo
if [ "$SMOKE" = 1 ]; then
    echo "== Demo done (smoke mode): stopping mentord"
    exit 0
fi
cat <<MSG
== mentord is running on $SERVER with its own PostgreSQL in $DIR.
   Try, in another terminal:
     build/mentorctl --server $SERVER --ca $CA login --org acme --email admin@acme.test
     build/mentorctl --server $SERVER --ca $CA whoami
     build/mentorctl --server $SERVER --ca $CA user list
     build/mentorctl --server $SERVER --ca $CA match list --program $MATCHED
     build/mentorctl --server $SERVER --ca $CA match explain --id $FIRST
     build/mentorctl --server $SERVER --ca $CA pair list --program $MATCHED
   (the admin password is '$PASSWORD' unless MENTORD_DEMO_PASSWORD was set)
   Press Ctrl-C to stop the server and its PostgreSQL.
MSG
wait "$SERVER_PID"
