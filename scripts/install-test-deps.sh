#!/usr/bin/env bash
# Installs what the integration tests need, idempotently (about 1 s when everything is already there):
#   1. Debian packages: chromium (headless browser for the web workbench), libkrb5-dev + g++/make/python3 (code-server's
#      native modules are built with node-gyp), ripgrep (seeds @vscode/ripgrep's download cache, see below),
#      fonts-noto-color-emoji (the UI tests' screenshots: the reports' ✅/⚠️/⛔ would be empty boxes without it),
#      kubernetes-client when there is no kubectl yet (the cluster tests run kubectl for real).
#   1b. Debian packages of the engine tests' private Docker engine: docker.io, busybox-static
#      (scripts/docker-engine-up.sh --install-only; `npm test` starts and stops the engine itself).
#   2. code-server 4.100.3 (= VS Code 1.100.3 server + web workbench, the last release that accepts Node 20) into
#      test/vscode/code-server/node_modules, with `npm ci` from that folder's own committed package-lock.json.
#   3. @devcontainers/cli (the reference reader of devcontainer.json) and ajv into test/devcontainers-cli/node_modules,
#      with `npm ci` from that folder's own lockfile.
# Everything it writes besides the apt packages and npm's download cache stays inside the project (.vscode-test/).
# With --editor-only (what `npm start` runs to open the editor in code-server) it installs code-server and its build
# prerequisites only (libkrb5-dev, ripgrep, g++, make, python3): no container engine, no browser, no kubectl, no
# @devcontainers/cli. With MLC_INSTALL_DRY_RUN=1 it prints its plan (`plan: apt packages: …`, `plan: step: …`) and
# changes nothing.
# usage: bash scripts/install-test-deps.sh [--editor-only]   (FORCE=1 reinstalls code-server)
set -euo pipefail

EDITOR_ONLY=0
case ${1:-} in
  '') ;;
  --editor-only) EDITOR_ONLY=1 ;;
  *)
    echo "[install-test-deps] ERROR: unknown argument: $1 (usage: install-test-deps.sh [--editor-only])" >&2
    exit 2
    ;;
esac
DRY_RUN=0
[[ ${MLC_INSTALL_DRY_RUN:-} == 1 ]] && DRY_RUN=1

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CS_DIR=$ROOT/test/vscode/code-server
CS_VERSION=4.100.3
WORK=$ROOT/.vscode-test/install
LOG=$WORK/npm-ci.log
MARKER=$CS_DIR/node_modules/.ml-containers-install
# code-server's native modules are built with node-gyp (g++, make, python3; kerberos needs libkrb5-dev); ripgrep
# seeds @vscode/ripgrep's download cache
APT_PACKAGES=(libkrb5-dev ripgrep g++ make python3)
if ((!EDITOR_ONLY)); then
  # the UI tests' browser and the fonts of their screenshots
  APT_PACKAGES+=(chromium fonts-noto-color-emoji)
  # kubectl for the cluster tests (apply against an API server that is not there): Debian's when none is installed
  command -v kubectl >/dev/null 2>&1 || APT_PACKAGES+=(kubernetes-client)
fi
# @vscode/ripgrep (a dependency of code-server's bundled VS Code) downloads rg from GitHub in its postinstall unless
# $TMPDIR/vscode-ripgrep-cache-<its version>/ripgrep-<rg release>-<target>.tar.gz already exists.
RG_PKG_VERSION=1.15.11
RG_RELEASE=v13.0.0-10

say() { echo "[install-test-deps] $*"; }
now_ms() { date +%s%3N; }
T_STEP=0
step_start() { T_STEP=$(now_ms); }
step_done() { say "$1 ($(awk -v ms=$(($(now_ms) - T_STEP)) 'BEGIN { printf "%.1f s", ms / 1000 }'))"; }
die() {
  echo "[install-test-deps] ERROR: $*" >&2
  exit 1
}
T_ALL=$(now_ms)

if ((DRY_RUN)); then
  plan() { say "plan: $*"; }
  plan "mode: $( ((EDITOR_ONLY)) && echo editor-only || echo all test dependencies) (MLC_INSTALL_DRY_RUN=1: nothing is installed)"
  plan "apt packages: ${APT_PACKAGES[*]}"
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true) == 'install ok installed' ]] || missing+=("$p")
  done
  plan "apt packages missing here: ${missing[*]:-none}"
  ((EDITOR_ONLY)) || plan "step: Docker engine packages (scripts/docker-engine-up.sh --install-only)"
  plan "step: code-server $CS_VERSION into ${CS_DIR#"$ROOT"/} (npm ci from its lockfile)"
  ((EDITOR_ONLY)) || plan "step: @devcontainers/cli and ajv into test/devcontainers-cli (npm ci from its lockfile)"
  exit 0
fi
mkdir -p "$ROOT/.vscode-test"

# --- 1. apt packages --------------------------------------------------------------------------------------------------
step_start
missing=()
for p in "${APT_PACKAGES[@]}"; do
  [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true) == 'install ok installed' ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  step_done "apt packages present: ${APT_PACKAGES[*]}"
elif [[ $(id -u) -ne 0 ]]; then
  die "missing apt packages: ${missing[*]}. Install them as root:
    sudo apt-get update && sudo apt-get install -y ${missing[*]}
then run this script again."
else
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >"$ROOT/.vscode-test/apt.log" 2>&1 || {
    cat "$ROOT/.vscode-test/apt.log" >&2
    die 'apt-get update failed'
  }
  apt-get install -y -qq "${missing[@]}" >>"$ROOT/.vscode-test/apt.log" 2>&1 || {
    tail -30 "$ROOT/.vscode-test/apt.log" >&2
    die "apt-get install ${missing[*]} failed (log: .vscode-test/apt.log)"
  }
  step_done "apt packages installed: ${missing[*]}"
fi

# --- 1b. Docker engine packages (for the engine tests; not to open the editor) ------------------------------------------
if ((!EDITOR_ONLY)); then
  bash "$ROOT/scripts/docker-engine-up.sh" --install-only || die 'the Docker engine packages could not be installed (see above)'
fi

# --- 2. Node version --------------------------------------------------------------------------------------------------
node_major=$(node -p 'process.versions.node.split(".")[0]')
[[ $node_major == 20 ]] || die "code-server $CS_VERSION needs Node 20 (its postinstall refuses others), found $(node -v)"

# --- 3. code-server ---------------------------------------------------------------------------------------------------
lock_sum=$(sha256sum "$CS_DIR/package-lock.json" "$CS_DIR/package.json" | sha256sum | cut -c1-16)
want_marker="code-server $CS_VERSION lock $lock_sum"
VSC=$CS_DIR/node_modules/code-server/lib/vscode
# Files that only exist when every install script really ran (code-server's postinstall runs `npm install` in
# lib/vscode and lib/vscode/extensions, which builds the native modules and fetches rg).
artifacts=(
  "$CS_DIR/node_modules/.bin/code-server"
  "$VSC/node_modules.asar"
  "$VSC/node_modules/@vscode/ripgrep/bin/rg"
  "$VSC/node_modules/@vscode/spdlog/build/Release/spdlog.node"
  "$VSC/node_modules/node-pty/build/Release/pty.node"
  "$VSC/node_modules/kerberos/build/Release/kerberos.node"
  "$VSC/node_modules/native-watchdog/build/Release/watchdog.node"
  "$VSC/extensions/node_modules/typescript/package.json"
  "$CS_DIR/node_modules/argon2/lib/binding/napi-v3/argon2.node"
)
missing_artifacts() {
  local a out=()
  for a in "${artifacts[@]}"; do [[ -e $a ]] || out+=("${a#"$ROOT"/}"); done
  echo "${out[*]}"
}

step_start
if [[ -z ${FORCE:-} && -f $MARKER && $(cat "$MARKER") == "$want_marker" && -z $(missing_artifacts) ]]; then
  step_done "code-server $CS_VERSION already installed in ${CS_DIR#"$ROOT"/}"
else
  mkdir -p "$WORK"
  rm -rf "$WORK/tmp" && mkdir -p "$WORK/tmp"
  case $(uname -m) in
    x86_64) rg_target=x86_64-unknown-linux-musl ;;
    aarch64 | arm64) rg_target=aarch64-unknown-linux-musl ;;
    *) die "no ripgrep cache recipe for $(uname -m)" ;;
  esac
  rg_cache=$WORK/tmp/vscode-ripgrep-cache-$RG_PKG_VERSION
  mkdir -p "$rg_cache"
  tar czf "$rg_cache/ripgrep-$RG_RELEASE-$rg_target.tar.gz" -C "$(dirname "$(command -v rg)")" rg
  step_done "ripgrep cache seeded from $(command -v rg)"

  step_start
  rm -rf "$CS_DIR/node_modules"
  # TMPDIR: where @vscode/ripgrep looks for the cached tarball (and where node-gyp & co. put their temp files).
  # npm_config_unsafe_perm: code-server's postinstall refuses to run as root without it (npm 11 warns that it does not
  #   know the setting; the postinstall reads the env var itself).
  # npm_config_yes: node-pty's install runs `npx node-gyp`, which must not prompt (a user .npmrc may say yes=false).
  # npm_config_nodedir: node-gyp takes Node's headers from the local install instead of downloading them.
  # XDG_CACHE_HOME: keeps node-gyp's cache out of $HOME.
  # npm 11 install-script policy: `allowScripts` in test/vscode/code-server/package.json approves code-server's
  #   postinstall and argon2's install; the nested installs that code-server's postinstall starts have no policy of their
  #   own, so the artifact check below proves that their scripts ran too.
  # --foreground-scripts: the native builds' output goes to the log.
  node_prefix=$(dirname "$(dirname "$(command -v node)")")
  nodedir_env=()
  if [[ -z ${npm_config_nodedir:-} && -f $node_prefix/include/node/node.h ]]; then
    nodedir_env=("npm_config_nodedir=$node_prefix")
  fi
  if ! (cd "$CS_DIR" && env TMPDIR="$WORK/tmp" XDG_CACHE_HOME="$WORK/xdg-cache" \
    npm_config_unsafe_perm=true npm_config_yes=true "${nodedir_env[@]}" \
    npm ci --no-audit --no-fund --foreground-scripts >"$LOG" 2>&1); then
    tail -40 "$LOG" >&2
    die "npm ci in ${CS_DIR#"$ROOT"/} failed (full log: ${LOG#"$ROOT"/})"
  fi
  gone=$(missing_artifacts)
  if [[ -n $gone ]]; then
    grep -i 'install-scripts' "$LOG" >&2 || true
    die "code-server installed but some install scripts did not run (missing: $gone). Log: ${LOG#"$ROOT"/}"
  fi
  echo "$want_marker" >"$MARKER"
  step_done "code-server $CS_VERSION installed with npm ci (log: ${LOG#"$ROOT"/})"
fi

# --- 3b. @devcontainers/cli (for the tests; not to open the editor) ------------------------------------------------------
step_start
DC_DIR=$ROOT/test/devcontainers-cli
DC_MARKER=$DC_DIR/node_modules/.ml-containers-install
dc_sum=$(sha256sum "$DC_DIR/package-lock.json" | cut -c1-16)
if ((EDITOR_ONLY)); then
  : # the editor does not need it
elif [[ -f $DC_MARKER && $(cat "$DC_MARKER") == "$dc_sum" && -f $DC_DIR/node_modules/@devcontainers/cli/devcontainer.js ]]; then
  step_done "@devcontainers/cli already installed in ${DC_DIR#"$ROOT"/}"
else
  mkdir -p "$WORK"
  (cd "$DC_DIR" && npm ci --no-audit --no-fund >"$WORK/devcontainers-cli.log" 2>&1) || {
    tail -20 "$WORK/devcontainers-cli.log" >&2
    die "npm ci in ${DC_DIR#"$ROOT"/} failed (log: .vscode-test/install/devcontainers-cli.log)"
  }
  echo "$dc_sum" >"$DC_MARKER"
  step_done "@devcontainers/cli installed with npm ci"
fi

# --- 4. smoke check -----------------------------------------------------------------------------------------------------
step_start
mkdir -p "$WORK"
# --config: otherwise code-server writes a default config.yaml into ~/.config
version_line=$("$CS_DIR/node_modules/.bin/code-server" --config "$WORK/config.yaml" --version 2>/dev/null | tail -1)
[[ $version_line == "$CS_VERSION "*"with Code 1.100.3" ]] || die "unexpected code-server --version output: $version_line"
step_done "code-server --version: $version_line"
((EDITOR_ONLY)) || [[ -x ${CHROMIUM_PATH:-/usr/bin/chromium} ]] || die "chromium not found at ${CHROMIUM_PATH:-/usr/bin/chromium}"
say "done in $(awk -v ms=$(($(now_ms) - T_ALL)) 'BEGIN { printf "%.1f s", ms / 1000 }')"
