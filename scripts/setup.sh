#!/usr/bin/env bash
# Installs the Debian packages corio needs to build, test and benchmark.
# Only packages that are missing are installed; `apt-get update` runs only
# when something is missing. Safe to run repeatedly.
set -euo pipefail

# Add new packages here (one array, keep it sorted by purpose).
PACKAGES=(
  # toolchain
  build-essential cmake ninja-build g++ clang git ca-certificates
  # sanitizer runtime for clang 14, and llvm-symbolizer for readable
  # ASan/UBSan stack traces (llvm-14 is only a Recommends of clang-14)
  libclang-rt-14-dev llvm-14
  # test / benchmark frameworks
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  # the README snippet check and the benchmark table
  python3
  # async DNS
  libc-ares-dev
  # the io_uring event-loop backend
  liburing-dev
  # TLS, gzip/deflate bodies, JSON bodies
  libssl-dev openssl zlib1g-dev nlohmann-json3-dev
  # the corio-fetch command line
  libcli11-dev
  # real peers for the HTTP tests and the client benchmark's reference load generator
  nginx wrk curl
  # the PostgreSQL client (libpq) and a server the pg tests start as a throwaway cluster
  postgresql libpq-dev
  # the pg benchmark's Python peer (pgbench, its C peer, comes with postgresql)
  python3-asyncpg
  # the independent WebSocket client and server of the WebSocket tests
  python3-websockets
  # a real forward proxy for the HTTP client's proxy tests
  tinyproxy
  # the independent parser of the /metrics exposition in the metrics tests
  python3-prometheus-client
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  SUDO=(sudo)
fi

log="$(mktemp -t corio-setup.XXXXXX.log)"
if ! {
  "${SUDO[@]}" apt-get update -q &&
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
} >"$log" 2>&1; then
  tail -n 50 "$log" >&2
  echo "setup: apt-get failed (full log: $log)" >&2
  exit 1
fi
echo "setup: installed ${missing[*]} (log: $log)"
