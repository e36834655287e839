#!/usr/bin/env bash
# Starts a caching PyPI mirror on loopback for the tests that build real training images, idempotently (reuses one
# that already serves the same cache):
#   1. devpi-server (pinned), installed once into a virtual environment outside the project, reused when present.
#   2. Its server folder (the cache: the simple index pages it has fetched and every package file, under +files/)
#      also lives outside the project, so every clone, every later run and CI on this machine reuse what was
#      downloaded once: a second `pip download torch` through the mirror takes nothing from the network.
#   3. devpi-server on 127.0.0.1:<port>, mirroring https://pypi.org/simple/ (index root/pypi): it serves the PEP 503
#      simple index with the file links rewritten to itself, and each package file from its cache, fetching it from
#      upstream on first use. It fetches upstream over TLS with the host's CA bundle (SSL_CERT_FILE /
#      REQUESTS_CA_BUNDLE); clients (pip, also in containers run with --network host) speak plain HTTP to it.
#      Projects are looked up one by one (mirror_no_project_list): never PyPI's whole project list.
#      When upstream cannot be reached it serves the pages and files it has.
# Logs and the pid file are in .vscode-test/pypi-mirror/. Stop it with scripts/pypi-mirror-down.sh.
# The last line of its output is PIP_INDEX_URL=http://127.0.0.1:<port>/root/pypi/+simple/ (the line before it is
# MLC_PYPI_MIRROR_CACHE=<the server folder>).
# usage: bash scripts/pypi-mirror-up.sh
# env:   MLC_PYPI_MIRROR_PORT     the port on 127.0.0.1 (default 3141)
#        MLC_PYPI_MIRROR_HOME     the folder for the mirror's venv/ and cache/ (default:
#                                 ${XDG_CACHE_HOME:-$HOME/.cache}/ml-containers-test/pypi-mirror)
#        MLC_PYPI_MIRROR_OFFLINE  1: never contact upstream, serve only what the cache holds (default 0)
#        SSL_CERT_FILE            the CA bundle for upstream TLS (default: /etc/ssl/certs/ca-certificates.crt when present)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEVPI_PIN=devpi-server==6.20.3
PORT=${MLC_PYPI_MIRROR_PORT:-3141}
HOME_DIR=${MLC_PYPI_MIRROR_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/ml-containers-test/pypi-mirror}
VENV=$HOME_DIR/venv
CACHE=$HOME_DIR/cache
SECRET=$HOME_DIR/secret
ROOT_PASSWORD=$HOME_DIR/root-password
LOGS=$ROOT/.vscode-test/pypi-mirror
PIDFILE=$LOGS/mirror-$PORT.pid
LOG=$LOGS/mirror-$PORT.log
BASE=http://127.0.0.1:$PORT
INDEX_URL=$BASE/root/pypi/+simple/

say() { echo "[pypi-mirror-up] $*"; }
die() {
  echo "[pypi-mirror-up] ERROR: $*" >&2
  exit 1
}
now_ms() { date +%s%3N; }
T_ALL=$(now_ms)

[[ $PORT =~ ^[0-9]+$ ]] && ((PORT > 0 && PORT < 65536)) || die "MLC_PYPI_MIRROR_PORT must be a TCP port number, got '$PORT'."
OFFLINE=()
case ${MLC_PYPI_MIRROR_OFFLINE:-0} in
  1) OFFLINE=(--offline-mode) ;;
  0 | '') ;;
  *) die "MLC_PYPI_MIRROR_OFFLINE must be 1 or 0, got '${MLC_PYPI_MIRROR_OFFLINE}'." ;;
esac
CA=${SSL_CERT_FILE:-${REQUESTS_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}}
[[ -r $CA ]] || die "the CA bundle $CA is missing: set SSL_CERT_FILE to the CA bundle this host trusts for https://pypi.org."
command -v curl >/dev/null || die "curl is missing: apt-get install curl."
command -v python3 >/dev/null || die "python3 is missing: apt-get install python3 python3-venv."
command -v flock >/dev/null || die "flock is missing: apt-get install util-linux."
mkdir -p "$LOGS" "$HOME_DIR" || die "cannot create $LOGS and $HOME_DIR (set MLC_PYPI_MIRROR_HOME to a writable folder)."

# One setup at a time on this cache (another clone or CI may start the mirror at the same moment).
exec 9>"$HOME_DIR/.lock"
flock -w 600 9 || die "another pypi-mirror-up.sh held $HOME_DIR/.lock for 10 minutes."

# --- 1. devpi-server in its own venv ----------------------------------------------------------------------------------
# reinstalled when the pin changes or the venv broke (e.g. the python3 it was made with is gone)
if [[ $(cat "$VENV/.pinned" 2>/dev/null) != "$DEVPI_PIN" ]] || ! "$VENV/bin/python" -c 'import devpi_server' 2>/dev/null; then
  t=$(now_ms)
  rm -rf "$VENV"
  python3 -m venv "$VENV" >"$LOGS/install.log" 2>&1 ||
    die "python3 -m venv failed (log: $LOGS/install.log): apt-get install python3-venv."
  # the host's pip settings (its index, proxy) apply to this install, as to any
  if ! "$VENV/bin/pip" install --cert "$CA" --disable-pip-version-check "$DEVPI_PIN" >>"$LOGS/install.log" 2>&1; then
    tail -20 "$LOGS/install.log" >&2
    rm -rf "$VENV"
    die "pip install $DEVPI_PIN from PyPI failed (log: $LOGS/install.log)."
  fi
  echo "$DEVPI_PIN" >"$VENV/.pinned"
  say "installed $DEVPI_PIN into $VENV ($((($(now_ms) - t) / 1000)) s)"
fi

# --- 2. the server folder (the cache) ---------------------------------------------------------------------------------
if [[ ! -f $SECRET ]]; then
  "$VENV/bin/devpi-gen-secret" --secretfile "$SECRET" >>"$LOGS/install.log" 2>&1 ||
    die "devpi-gen-secret failed (log: $LOGS/install.log)."
fi
if [[ ! -f $CACHE/.serverversion ]]; then
  rm -rf "$CACHE"
  (umask 077 && head -c 24 /dev/urandom | base64 >"$ROOT_PASSWORD")
  "$VENV/bin/devpi-init" --serverdir "$CACHE" --root-passwd "$(cat "$ROOT_PASSWORD")" >>"$LOGS/install.log" 2>&1 || {
    rm -rf "$CACHE"
    die "devpi-init --serverdir $CACHE failed (log: $LOGS/install.log)."
  }
  say "created the cache $CACHE"
fi

# --- 3. the server ----------------------------------------------------------------------------------------------------
alive() { # a process that exists and is not a zombie
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [[ $st != Z ]]
}
# The uuid the server folder gives its server; a server answering with it serves this cache.
cache_uuid() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["uuid"])' "$CACHE/.nodeinfo" 2>/dev/null || true; }
answering_uuid() { curl -s -m 3 -o /dev/null -D - "$BASE/+api" 2>/dev/null | awk -F': *' 'tolower($1) == "x-devpi-uuid" { sub(/\r$/, "", $2); print $2 }' || true; }
ours() { # the pid file names a live devpi-server started on this cache and port
  local p
  [[ -f $PIDFILE ]] && p=$(cat "$PIDFILE") && [[ -n $p ]] && alive "$p" &&
    tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "--serverdir $CACHE " &&
    tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "--port $PORT "
}

started=0
uuid=$(answering_uuid)
if [[ -n $uuid && $uuid == "$(cache_uuid)" ]]; then
  say "mirror already running on $BASE$(ours && echo " (pid $(cat "$PIDFILE"))" || echo ' (started from another folder)')"
elif ours; then
  die "devpi-server (pid $(cat "$PIDFILE")) runs but does not answer on $BASE: stop it with scripts/pypi-mirror-down.sh and try again (log: $LOG)."
elif curl -s -m 3 -o /dev/null "$BASE/" 2>/dev/null || (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  die "port $PORT on 127.0.0.1 is taken by something that does not serve the cache $CACHE: stop it or set MLC_PYPI_MIRROR_PORT to a free port."
else
  rm -f "$PIDFILE"
  : >"$LOG"
  # The argon2 cost only stretches the server secret, which is random (devpi-gen-secret): the default cost would take
  # ~20 s of CPU at every start. --restrict-modify root: nobody else creates users or indexes.
  SSL_CERT_FILE=$CA REQUESTS_CA_BUNDLE=$CA setsid "$VENV/bin/devpi-server" \
    --serverdir "$CACHE" \
    --secretfile "$SECRET" \
    --host 127.0.0.1 \
    --port "$PORT" \
    --restrict-modify root \
    --request-timeout 30 \
    --argon2-memory-cost 8 --argon2-time-cost 1 --argon2-parallelism 1 \
    "${OFFLINE[@]}" \
    >>"$LOG" 2>&1 </dev/null 9>&- & # 9>&-: the server must not hold the setup lock
  pid=$!
  echo "$pid" >"$PIDFILE"
  for ((i = 0; i < 600; i++)); do # up to 60 s
    [[ -n $(answering_uuid) ]] && break
    if ! alive "$pid"; then
      tail -20 "$LOG" >&2
      rm -f "$PIDFILE"
      die "devpi-server exited while starting (log: $LOG)."
    fi
    sleep 0.1
  done
  if [[ -z $(answering_uuid) ]]; then
    tail -20 "$LOG" >&2
    die "devpi-server did not answer on $BASE within 60 s (log: $LOG)."
  fi
  started=1
  say "devpi-server started (pid $pid, $BASE$( ((${#OFFLINE[@]})) && echo ', offline'), log $LOG)"
fi

# --- 4. root/pypi looks projects up one by one ------------------------------------------------------------------------
# Without mirror_no_project_list devpi-server first fetches PyPI's whole project list (tens of MB, ~20 s) after each
# start. The setting lives in the cache: set once, as root.
config=$(curl -s -m 30 -H 'Accept: application/json' "$BASE/root/pypi?no_projects=") || die "GET $BASE/root/pypi failed (log: $LOG)."
if ! grep -q '"mirror_no_project_list": *true' <<<"$config"; then
  ((${#OFFLINE[@]} == 0)) || die "the cache was never set up by an online start: run this once without MLC_PYPI_MIRROR_OFFLINE."
  [[ -r $ROOT_PASSWORD ]] || die "$ROOT_PASSWORD is missing: delete $CACHE and run this again (the cache starts over)."
  token=$(curl -s -m 30 -H 'Content-Type: application/json' -H 'Accept: application/json' \
    --data "{\"user\": \"root\", \"password\": \"$(cat "$ROOT_PASSWORD")\"}" "$BASE/+login" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["result"]["password"])' 2>/dev/null) ||
    die "cannot log in to the mirror as root with $ROOT_PASSWORD: delete $CACHE and run this again."
  auth=$(printf 'root:%s' "$token" | base64 -w0)
  code=$(curl -s -m 30 -o "$LOGS/patch.json" -w '%{http_code}' -X PATCH -H "X-Devpi-Auth: $auth" \
    -H 'Content-Type: application/json' -H 'Accept: application/json' \
    --data '["mirror_no_project_list=true"]' "$BASE/root/pypi")
  [[ $code == 200 ]] || die "setting mirror_no_project_list on root/pypi failed with HTTP $code ($LOGS/patch.json)."
  say 'root/pypi set to look projects up one by one'
fi

say "ready in $(awk -v ms=$(($(now_ms) - T_ALL)) 'BEGIN { printf "%.1f s", ms / 1000 }')$( ((started)) || echo ' (reused)')"
echo "MLC_PYPI_MIRROR_CACHE=$CACHE"
echo "PIP_INDEX_URL=$INDEX_URL"
