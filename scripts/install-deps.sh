#!/usr/bin/env bash
# install-deps.sh — installs the Debian 12 packages esep needs to build, test
# and run. Idempotent: when every package is already present it only runs
# dpkg-query and exits, so `make demo` / `make test` can call it every time.
set -euo pipefail

PACKAGES=(
  build-essential pkg-config
  openmpi-bin libopenmpi-dev          # MPI runtime and headers
  libhdf5-openmpi-dev hdf5-tools      # HDF5, the Open MPI build
  libzstd-dev zstd                    # extract decompression; bundles
  libarchive-dev libarchive-tools     # tar.zst bundles; bsdtar for the tests
  libyaml-dev                         # schemas/ and jobs/ files
  libsodium-dev                       # Ed25519 signatures
  libssl-dev                          # SHA-256 of input files (libcrypto: the CPU's SHA extensions)
  libsqlite3-dev libpq-dev postgresql # publication catalog backends
  libmicrohttpd-dev curl              # download service and its tests
  libxlsxwriter-dev                   # xlsx forms in every bundle
  libjs-chart.js                      # Chart.js, inlined in each bundle's index.html
  openssl minisign                    # stock-tool verification (README, tests)
  libreoffice-calc-nogui              # tests: xlsx forms converted back to CSV
  chromium python3-websocket          # tests: the dashboard in a headless browser
  bc                                  # benchmark scripts
  clang                               # make fuzz (libFuzzer)
  python3 python3-h5py python3-pandas # test helpers; README's h5py lines
  slurmctld slurmd slurm-client munge # tests/e2e/slurm.sh: a real one-node Slurm
  systemd                             # systemd-analyze verify of cluster/*.service, *.timer
  python3-yaml                        # tests: job files read independently
)

missing=()
for p in "${PACKAGES[@]}"; do
  # the status compared whole, not piped into grep -q (tests/lib.sh has_line)
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages and not root; run as root: apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
