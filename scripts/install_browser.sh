#!/usr/bin/env bash
# Installs Debian's Chromium (full and headless shell). webdreamer never downloads a browser at
# run time; this is the one place that installs one, and only when none is usable.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "Chromium is missing and this user cannot install it. Run as root:" >&2
    echo "    apt-get install -y chromium chromium-headless-shell" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "No apt-get here: install Chromium with your package manager and set WEBDREAMER_BROWSER=/path/to/chromium" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium chromium-headless-shell >/dev/null
echo "Installed: $(command -v chromium-headless-shell || command -v chromium)"
