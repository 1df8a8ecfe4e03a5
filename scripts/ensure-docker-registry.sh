#!/usr/bin/env bash
# The registry-source tests push components to a real OCI registry: Debian's docker-registry
# (the CNCF distribution registry, no Docker needed). Installs it from Debian's packages when
# missing, so `npm test` needs nothing installed by hand.
set -euo pipefail
command -v docker-registry >/dev/null && exit 0
if ! command -v apt-get >/dev/null; then
  echo "ensure-docker-registry: docker-registry is missing and apt-get is not available; install Debian's docker-registry (or distribution's registry binary as docker-registry)" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo -n"; fi
echo "ensure-docker-registry: installing Debian's docker-registry for the registry-source tests…" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq docker-registry >/dev/null
