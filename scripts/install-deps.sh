#!/usr/bin/env bash
# Installs the Debian packages mentord needs to build, run and test, when
# any is missing. Uses sudo when not root. Usage: scripts/install-deps.sh [build|test]
set -euo pipefail

BUILD_PKGS=(build-essential cmake pkg-config libuv1-dev libprotobuf-c-dev protobuf-c-compiler
            libpq-dev libssl-dev libargon2-dev libinih-dev postgresql)
TEST_PKGS=(libcmocka-dev python3 python3-pytest python3-protobuf protobuf-compiler
           python3-aiosmtpd clang-format procps clang libclang-rt-14-dev openssl docker-compose
           python3-scipy)

want=("${BUILD_PKGS[@]}")
if [ "${1:-build}" = "test" ]; then
    want+=("${TEST_PKGS[@]}")
fi

missing=()
for p in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
