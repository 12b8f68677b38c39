#!/usr/bin/env bash
# System packages the tests need, installed from Debian's registry when missing.
# `make test` runs this first, so the README's test command works on a fresh machine.
set -euo pipefail
need=()
# Headless Chromium renders data/aligned/report.html in the report tests.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# The reader tests render PDFs with DejaVu Sans (fpdf2 needs a TrueType file).
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
[ ${#need[@]} -eq 0 ] && exit 0
echo "make test: installing ${need[*]} (Debian packages the tests need)" >&2
if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
else
    echo "make test: ${need[*]} missing and not root (no sudo): install them with apt-get" >&2
    exit 1
fi
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
