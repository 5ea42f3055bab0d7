#!/usr/bin/env bash
# fuzz.sh: builds the libFuzzer targets of tests/fuzz with clang (ASan +
# UBSan + coverage) in build-fuzz/ and runs each one for SECONDS on a copy of
# its seed corpus, so the committed corpus stays small and unchanged. Exits
# non-zero when a target crashes, leaks, times out or breaks an invariant; the
# failing input is then kept and printed in hex. scripts/test.sh runs this
# briefly; run it by hand for longer sessions.
#
# Usage: scripts/fuzz.sh [SECONDS]   (default 300 per target)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
SECONDS_PER_TARGET=${1:-300}
BUILD_JOBS=$(nproc 2>/dev/null || echo 2)
BUILD_DIR="$ROOT/build-fuzz"

if ! command -v clang >/dev/null 2>&1; then
    echo "fuzz.sh: clang is not installed (scripts/install-deps.sh test)" >&2
    exit 1
fi

targets=()
for src in "$ROOT"/tests/fuzz/fuzz_*.c; do
    targets+=("$(basename "$src" .c)")
done

CC=clang cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMENTORD_FUZZ=ON -DBUILD_TESTING=OFF -DMENTORD_WERROR=ON
cmake --build "$BUILD_DIR" -j "$BUILD_JOBS" --target "${targets[@]}"

work=$(mktemp -d /tmp/mentord-fuzz.XXXXXX)
failed=0
for t in "${targets[@]}"; do
    corpus="$work/$t/corpus"
    mkdir -p "$corpus" "$work/$t/artifacts"
    cp "$ROOT/tests/fuzz/corpus/$t"/* "$corpus"/
    echo "==> $t for ${SECONDS_PER_TARGET}s"
    if ! "$BUILD_DIR/tests/fuzz/$t" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 \
        -timeout=10 -max_len=16384 -print_final_stats=1 \
        -artifact_prefix="$work/$t/artifacts/" "$corpus" >"$work/$t/log" 2>&1; then
        failed=1
        tail -n 60 "$work/$t/log"
        for a in "$work/$t/artifacts"/*; do
            [ -f "$a" ] || continue
            echo "--- failing input $a:"
            od -An -tx1 -v "$a" | head -n 64
        done
        echo "$t: FAILED (log and inputs kept in $work/$t)"
    else
        grep -E '^stat::number_of_executed_units|^stat::new_units_added' "$work/$t/log" || true
        echo "$t: ok"
    fi
done
if [ "$failed" -ne 0 ]; then
    exit 1
fi
rm -rf "$work"
