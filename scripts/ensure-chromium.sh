#!/usr/bin/env bash
# The dashboard test drives Debian's chromium through playwright-core (which downloads no browser).
# Installs it from Debian's packages when missing, so `npm test` needs nothing installed by hand.
set -euo pipefail
if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "$CHROMIUM_PATH" ]; then exit 0; fi
command -v chromium >/dev/null && exit 0
if ! command -v apt-get >/dev/null; then
  echo "ensure-chromium: chromium is missing and apt-get is not available; install chromium (or set CHROMIUM_PATH)" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo -n"; fi
echo "ensure-chromium: installing Debian's chromium for the dashboard test…" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq chromium >/dev/null
