#!/usr/bin/env bash
# test.sh: the one command that checks mentord. It installs the Debian
# packages the build and the tests need (when missing), builds twice -- a
# release-like build in build/ and an AddressSanitizer + UBSan build in
# build-asan/ -- runs every unit and integration test in both with ctest, and
# checks the C sources against .clang-format. When clang is installed it also
# runs each libFuzzer target in tests/fuzz briefly (scripts/fuzz.sh). It ends
# with a summary and exits non-zero when any step failed.
#
# Usage: scripts/test.sh [extra ctest arguments, e.g. -R integration]
# Environment:
#   MENTORD_SKIP_ASAN=1   skip the sanitizer build (quick local runs only;
#                         CI always runs it)
#   MENTORD_SKIP_DEPS=1   do not check or install packages
#   MENTORD_TEST_JOBS=N   ctest parallelism (default 2)
#   MENTORD_FUZZ_SECONDS=N  seconds per fuzz target (default 20)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
JOBS=${MENTORD_TEST_JOBS:-2}
BUILD_JOBS=$(nproc 2>/dev/null || echo 2)
CTEST_EXTRA=("$@")

STEP_NAMES=()
STEP_RESULTS=()
STEP_TIMES=()
FAILED=0

say() {
    printf '\n==> %s\n' "$*"
}

record() { # name result seconds
    STEP_NAMES+=("$1")
    STEP_RESULTS+=("$2")
    STEP_TIMES+=("$3")
    if [ "$2" = FAIL ]; then
        FAILED=1
    fi
}

# Run one step (a single command) and record PASS or FAIL without stopping
# the script, so that later independent steps still run.
step() { # name command...
    local name=$1
    shift
    say "$name"
    local start=$SECONDS
    if "$@"; then
        record "$name" PASS $((SECONDS - start))
        return 0
    fi
    record "$name" FAIL $((SECONDS - start))
    return 1
}

skip() { # name reason
    say "$1: skipped ($2)"
    record "$1" "SKIP ($2)" 0
}

install_packages() {
    "$ROOT/scripts/install-deps.sh" test
}

configure_and_build() { # dir cmake-args...
    local dir=$1
    shift
    cmake -S "$ROOT" -B "$ROOT/$dir" "$@" && cmake --build "$ROOT/$dir" -j "$BUILD_JOBS"
}

run_ctest() { # dir
    ctest --test-dir "$ROOT/$1" --no-tests=error --output-on-failure -j "$JOBS" "${CTEST_EXTRA[@]}"
}

run_ctest_sanitized() {
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        run_ctest build-asan
}

format_check() {
    local files=()
    local f
    while IFS= read -r -d '' f; do
        files+=("$f")
    done < <(find common server client tests/unit tests/fuzz -type f \( -name '*.c' -o -name '*.h' \) \
        -print0 2>/dev/null | sort -z)
    if [ ${#files[@]} -eq 0 ]; then
        echo "no C sources found"
        return 0
    fi
    echo "checking ${#files[@]} files"
    clang-format --dry-run --Werror "${files[@]}"
}

# ---------------------------------------------------------------------------

if [ "${MENTORD_SKIP_DEPS:-0}" = 1 ]; then
    skip "packages" "MENTORD_SKIP_DEPS=1"
else
    step "packages" install_packages || true
fi

step "clang-format" format_check || true

if step "build (RelWithDebInfo)" configure_and_build build \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMENTORD_WERROR=ON -DBUILD_TESTING=ON; then
    step "tests (RelWithDebInfo)" run_ctest build || true
else
    skip "tests (RelWithDebInfo)" "build failed"
fi

if [ "${MENTORD_SKIP_ASAN:-0}" = 1 ]; then
    skip "build (ASan+UBSan)" "MENTORD_SKIP_ASAN=1"
    skip "tests (ASan+UBSan)" "MENTORD_SKIP_ASAN=1"
elif step "build (ASan+UBSan)" configure_and_build build-asan \
    -DCMAKE_BUILD_TYPE=Debug -DMENTORD_SANITIZE=ON -DMENTORD_WERROR=ON -DBUILD_TESTING=ON; then
    step "tests (ASan+UBSan)" run_ctest_sanitized || true
else
    skip "tests (ASan+UBSan)" "build failed"
fi

demo_smoke() {
    # The README's first command, end to end, in a throwaway directory.
    local dir port
    dir=$(mktemp -d /var/tmp/mentord-demo-test.XXXXXX)
    chmod 0755 "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    local rc=0
    MENTORD_DEMO_DIR="$dir" MENTORD_DEMO_PORT="$port" "$ROOT/scripts/demo.sh" --smoke || rc=$?
    rm -rf "$dir"
    return $rc
}

step "demo (scripts/demo.sh --smoke)" demo_smoke || true

# Each fuzz target runs on a copy of its seed corpus in a temporary
# directory; a crash, leak, hang or broken invariant fails the step.
if command -v clang >/dev/null 2>&1; then
    step "fuzz (short)" "$ROOT/scripts/fuzz.sh" "${MENTORD_FUZZ_SECONDS:-20}" || true
else
    skip "fuzz (short)" "clang not installed"
fi

printf '\n==> summary\n'
for i in "${!STEP_NAMES[@]}"; do
    printf '  %-26s %-32s %5ss\n' "${STEP_NAMES[$i]}" "${STEP_RESULTS[$i]}" "${STEP_TIMES[$i]}"
done
if [ "$FAILED" -ne 0 ]; then
    printf '\nFAILED\n'
    exit 1
fi
printf '\nall checks passed\n'
