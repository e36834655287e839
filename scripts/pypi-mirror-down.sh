#!/usr/bin/env bash
# Stops the PyPI mirror started by scripts/pypi-mirror-up.sh from this folder: by the pid files in
# .vscode-test/pypi-mirror/ (each a devpi-server started with --port <its port>; SIGKILL after 15 s). A mirror started
# from another folder on the same cache is left alone. Keeps the cache (and the venv) unless PURGE=1. Safe to run when
# nothing is running.
# usage: bash scripts/pypi-mirror-down.sh          (PURGE=1 also deletes the cache: every package file it holds)
# env:   MLC_PYPI_MIRROR_PORT  stop only the mirror on this port (default: every mirror this folder started)
#        MLC_PYPI_MIRROR_HOME  the same folder pypi-mirror-up.sh used (for PURGE=1)
set -uo pipefail
trap "" INT HUP # finish even when the run that called it is interrupted

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOGS=$ROOT/.vscode-test/pypi-mirror
HOME_DIR=${MLC_PYPI_MIRROR_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/ml-containers-test/pypi-mirror}
say() { echo "[pypi-mirror-down] $*"; }

alive() {
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [[ $st != Z ]]
}
stop_pid() { # pid: SIGTERM, wait up to 15 s, then SIGKILL
  local p=$1 i
  kill -TERM "$p" 2>/dev/null || return 0
  for ((i = 0; i < 150; i++)); do
    alive "$p" || return 0
    sleep 0.1
  done
  say "devpi-server ($p) still running after 15 s: SIGKILL"
  kill -KILL "$p" 2>/dev/null
}

if [[ -n ${MLC_PYPI_MIRROR_PORT:-} ]]; then
  pidfiles=("$LOGS/mirror-$MLC_PYPI_MIRROR_PORT.pid")
else
  pidfiles=("$LOGS"/mirror-*.pid)
fi
for f in "${pidfiles[@]}"; do
  [[ -f $f ]] || continue
  port=${f##*/mirror-}
  port=${port%.pid}
  p=$(cat "$f")
  # only a devpi-server that was started on this port (a pid may have been reused since)
  if [[ -n $p ]] && alive "$p" && tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- "devpi-server .*--port $port "; then
    stop_pid "$p"
    say "devpi-server ($p) on port $port stopped"
  fi
  rm -f "$f"
done

if [[ ${PURGE:-0} == 1 ]]; then
  rm -rf "$HOME_DIR/cache" "$HOME_DIR/secret" "$HOME_DIR/root-password"
  say "cache deleted ($HOME_DIR/cache)"
fi
say done
