#!/usr/bin/env bash
# Registers the desktop entry, the icon and the *.bplab file type for this user.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
install -Dm644 "$here/backprop-lab.desktop" "$data/applications/backprop-lab.desktop"
install -Dm644 "$here/../resources/icons/backprop-lab.svg" \
  "$data/icons/hicolor/scalable/apps/backprop-lab.svg"
install -Dm644 "$here/backprop-lab-mime.xml" "$data/mime/packages/backprop-lab.xml"
command -v update-mime-database >/dev/null && update-mime-database "$data/mime" || true
command -v update-desktop-database >/dev/null \
  && update-desktop-database "$data/applications" || true
echo "Backprop Lab is registered in $data"
