#!/usr/bin/env bash
# Installs the Debian tools the tests drive, when missing, so `npm test` needs nothing installed by
# hand: chromium (the dashboard test, through playwright-core, which downloads no browser) and
# docker-registry (the CNCF distribution registry: the registry-source tests push to a real OCI
# registry, no Docker needed). Usage: ensure-debian-tools.sh [chromium] [docker-registry]
set -euo pipefail
missing=()
for tool in "$@"; do
  if [ "$tool" = chromium ] && [ -n "${CHROMIUM_PATH:-}" ] && [ -x "$CHROMIUM_PATH" ]; then continue; fi
  command -v "$tool" >/dev/null || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "ensure-debian-tools: ${missing[*]} missing and apt-get is not available; install them (chromium: or set CHROMIUM_PATH)" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo -n"; fi
echo "ensure-debian-tools: installing Debian's ${missing[*]} for the tests…" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq "${missing[@]}" >/dev/null
