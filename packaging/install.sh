#!/usr/bin/env bash
# Install desktop-search from this unpacked archive, for the current user only (no root):
#   ./install.sh [--prefix DIR]              install (or update) under DIR (default ~/.local)
#   ./install.sh --uninstall [--prefix DIR]  remove what install.sh put there
# The app goes to DIR/lib/desktop-search, the command to DIR/bin/desktop-search (a link), and
# the menu entry is added by the app itself (`desktop-search install-desktop-entry`) when this
# version has that command. Your library (~/.local/share/desktop-search: index, thumbnails,
# models) is never touched, not even by --uninstall.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
prefix="$HOME/.local"
action=install
while [ $# -gt 0 ]; do
  case "$1" in
    --uninstall) action=uninstall; shift ;;
    --prefix) prefix="${2:?--prefix needs a folder}"; shift 2 ;;
    --prefix=*) prefix="${1#--prefix=}"; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done
lib="$prefix/lib/desktop-search"
link="$prefix/bin/desktop-search"
exe="$lib/desktop-search"

running() {  # is a process of this user running the installed program?
  [ -x "$exe" ] || return 1
  local real pid
  real="$(readlink -f "$exe")"
  for pid in /proc/[0-9]*; do
    [ "$(readlink "$pid/exe" 2>/dev/null)" = "$real" ] && return 0
  done
  return 1
}

has_command() {  # has_command NAME: does the installed app have this command?
  "$exe" "$1" --help >/dev/null 2>&1
}

if [ "$action" = uninstall ]; then
  if running; then
    echo "desktop-search is running from $lib: quit it (tray menu: Quit) first" >&2
    exit 1
  fi
  if [ -x "$exe" ] && has_command install-desktop-entry; then
    # The command that wrote the menu entry knows what it wrote.
    if "$exe" install-desktop-entry --help 2>/dev/null | grep -q -- '--remove'; then
      "$exe" install-desktop-entry --remove || echo "warning: the menu entry could not be removed" >&2
    elif "$exe" install-desktop-entry --help 2>/dev/null | grep -q -- '--uninstall'; then
      "$exe" install-desktop-entry --uninstall || echo "warning: the menu entry could not be removed" >&2
    fi
  fi
  # A menu or login entry naming the removed program would start nothing: remove those that
  # name this installation's program (the desktop's own copies of other installs stay).
  data="${XDG_DATA_HOME:-$HOME/.local/share}"
  config="${XDG_CONFIG_HOME:-$HOME/.config}"
  for entry in "$data/applications/desktop-search.desktop" "$config/autostart/desktop-search.desktop"; do
    if [ -f "$entry" ] && grep -q -- "$lib/" "$entry"; then
      rm -f "$entry"
      echo "removed $entry"
    fi
  done
  if [ -L "$link" ] && [ "$(readlink "$link")" = "$exe" ]; then
    rm -f "$link"
    echo "removed $link"
  fi
  if [ -d "$lib" ]; then
    rm -rf "$lib"
    echo "removed $lib"
  fi
  echo "desktop-search is uninstalled (your library and settings are kept)."
  exit 0
fi

[ -x "$here/desktop-search/desktop-search" ] || {
  echo "run install.sh from the unpacked archive (no desktop-search/ beside it)" >&2
  exit 1
}
[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || {
  echo "this build is for Linux x86_64, not $(uname -s) $(uname -m)" >&2
  exit 1
}
if [ -e "$link" ] && [ ! -L "$link" ]; then
  echo "$link exists and is not a link made by install.sh: move it away first" >&2
  exit 1
fi

mkdir -p "$prefix/lib" "$prefix/bin"
if running; then
  # It loads parts of itself while it runs: they must not change under it.
  echo "desktop-search is running from $lib: quit it (tray menu: Quit) and run install.sh again" >&2
  exit 1
fi
# Copied beside the old version, then swapped in: an interrupted copy leaves the old version
# as it was.
new="$(mktemp -d "$prefix/lib/.desktop-search.new.XXXXXX")"
old="$prefix/lib/.desktop-search.old.$$"
trap 'rm -rf "$new" "$old"' EXIT
cp -a "$here/desktop-search/." "$new/"
chmod 0755 "$new"
if [ -d "$lib" ]; then mv "$lib" "$old"; fi
mv "$new" "$lib" || { [ -d "$old" ] && mv "$old" "$lib"; exit 1; }
ln -sfn "$exe" "$link"
echo "installed $("$exe" --version 2>/dev/null || echo desktop-search) in $lib"
echo "command:  $link"

if has_command install-desktop-entry; then
  "$exe" install-desktop-entry || echo "warning: the menu entry could not be added" >&2
else
  echo "(this version adds no menu entry: start it with 'desktop-search gui')"
fi
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) echo "note: $prefix/bin is not on your PATH; add it (e.g. in ~/.profile) or run $link" ;;
esac
