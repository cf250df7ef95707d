#!/usr/bin/env bash
# Debian's Chromium for the browser tests (Playwright's own browser download is not used).
#   deploy/local/chromium.sh   -> prints the path of the chromium binary, installing it if missing
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { echo "chromium: not installed, and installing needs root" >&2; exit 1; }
  echo "chromium: installing Chromium from Debian's packages" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
fi
command -v chromium
