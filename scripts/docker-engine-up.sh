#!/usr/bin/env bash
# Starts a private Docker engine for the engine tests, idempotently (reuses one that is already running):
#   1. Debian packages docker.io (engine 20.10, API 1.41 on Debian 12), busybox-static and docker-registry (the
#      reference registry the push tests start on loopback), installed when missing
#      (as root: apt-get update first; otherwise it stops and names the packages).
#   2. dockerd on its own socket, with its own config file (never /etc/docker/daemon.json), data root, exec root and
#      containerd namespace, and its own bridge network, so it never touches a Docker engine the machine may already
#      run: containers get the bridge mlc-br-<hash> (not docker0) on a free private /24, with NAT to the host's network
#      (builds need package indexes) by iptables rules of its own, tagged with the bridge's name.
#   3. Waits for /_ping, then imports the base image mlc-test/busybox:latest from busybox-static (no registry needed;
#      skipped when the image is already there).
#   4. Only with MLC_DEBIAN_PYTHON=1: builds mlc-test/debian-python:bookworm, a Debian 12 image with python3 (3.11),
#      python3-venv and python3-pip, with debootstrap from the Debian mirror (apt access is enough, no registry), for
#      the tests that build generated Dockerfiles for real. Once: skipped when the image is already there.
# The engine's data (images) stays in .vscode-test/docker/data between runs, so a second start takes a second or two.
# The socket and exec root live in .vscode-test/docker/run, or in /tmp/mlc-docker-<hash>/ when the project path is too
# long for a unix socket. Stop it with scripts/docker-engine-down.sh.
# The last line of its output is DOCKER_HOST=unix://<socket>.
# usage: bash scripts/docker-engine-up.sh                 start (or reuse) the engine
#        bash scripts/docker-engine-up.sh --install-only  only install the Debian packages
# env:   MLC_DOCKER_DIR     folder for the engine's data, logs and state (default: <project>/.vscode-test/docker)
#        MLC_DEBIAN_PYTHON  1: also build the Debian python3 image (step 4; installs debootstrap when missing)
#        MLC_DEBIAN_SUITES  the Debian releases to build python3 images of, mlc-test/debian-python:<release> (default:
#                           bookworm; npm run test:real adds bullseye and trixie, for projects that pin them)
#        MLC_DEBIAN_MIRROR  the Debian mirror debootstrap downloads from (default: http://deb.debian.org/debian)
#        MLC_DOCKER_SUBNET  the first three numbers of the bridge's /24 (e.g. 10.213.7; default: the first free one of
#                           10.213.0-255.0/24, starting at one picked from the folder's path)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${MLC_DOCKER_DIR:-$ROOT/.vscode-test/docker}
APT_PACKAGES=(docker.io busybox-static docker-registry)
IMAGE=mlc-test/busybox:latest
# Debian releases to build python3 images of (MLC_DEBIAN_SUITES): bookworm (3.11) for every test run; bullseye (3.9)
# and trixie (3.13) when asked, for real projects that need another Python (npm run test:real asks for all three).
DEBIAN_SUITES=${MLC_DEBIAN_SUITES:-bookworm}
DEBIAN_MIRROR=${MLC_DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_PACKAGES=python3,python3-venv,python3-pip,passwd,ca-certificates
DOCKERD=/usr/sbin/dockerd
DOCKER=/usr/bin/docker # Debian's CLI, same release as the engine
BUSYBOX=/bin/busybox   # from busybox-static

say() { echo "[docker-engine-up] $*"; }
die() {
  echo "[docker-engine-up] ERROR: $*" >&2
  exit 1
}
now_ms() { date +%s%3N; }
T_STEP=0
step_start() { T_STEP=$(now_ms); }
step_done() { say "$1 ($(awk -v ms=$(($(now_ms) - T_STEP)) 'BEGIN { printf "%.1f s", ms / 1000 }'))"; }
T_ALL=$(now_ms)

DEBIAN_PYTHON=0
case ${MLC_DEBIAN_PYTHON:-0} in
  1) DEBIAN_PYTHON=1 ;;
  0 | '') ;;
  *) die "MLC_DEBIAN_PYTHON must be 1 or 0, got '${MLC_DEBIAN_PYTHON}'." ;;
esac
((DEBIAN_PYTHON)) && APT_PACKAGES+=(debootstrap)

# --- 1. Debian packages -----------------------------------------------------------------------------------------------
install_packages() {
  local p missing=()
  for p in "${APT_PACKAGES[@]}"; do
    [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true) == 'install ok installed' ]] || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    say "apt packages present: ${APT_PACKAGES[*]}"
    return
  fi
  [[ $(id -u) -eq 0 ]] || die "missing apt packages for the Docker engine tests: ${missing[*]}. Install them as root:
    sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}
then run this script again."
  step_start
  mkdir -p "$DIR/logs"
  local log=$DIR/logs/apt.log
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >"$log" 2>&1 || {
    tail -30 "$log" >&2
    die "apt-get update failed (log: $log)"
  }
  # The postinst prints "invoke-rc.d: policy-rc.d denied execution of start" where there is no init system: expected.
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1 || {
    tail -30 "$log" >&2
    die "apt-get install ${missing[*]} failed (log: $log)"
  }
  step_done "apt packages installed: ${missing[*]}"
}

install_packages
[[ ${1:-} == --install-only ]] && exit 0
[[ -z ${1:-} ]] || die "unknown argument: $1 (usage: docker-engine-up.sh [--install-only])"

[[ $(id -u) -eq 0 ]] || die "dockerd needs root: run the engine tests as root (or in a root container / VM)."
for f in "$DOCKERD" "$DOCKER" "$BUSYBOX"; do [[ -x $f ]] || die "$f is missing: reinstall ${APT_PACKAGES[*]}."; done

# --- paths ------------------------------------------------------------------------------------------------------------
# A unix socket path must stay under 108 bytes, and containerd puts its sockets under the exec root
# (<exec root>/containerd/containerd.sock.ttrpc): keep the run folder short, else use /tmp.
HASH=$(printf '%s' "$DIR" | sha256sum | cut -c1-12)
RUN=$DIR/run
if ((${#RUN} > 50)); then
  RUN=/tmp/mlc-docker-$HASH
fi
# The engine's own bridge (at most 15 characters); docker-engine-down.sh derives the same name from the folder.
BRIDGE=mlc-br-${HASH:0:8}
SOCK=$RUN/docker.sock
PIDFILE=$RUN/docker.pid
export DOCKER_HOST=unix://$SOCK
mkdir -p "$DIR/logs" "$DIR/data" "$RUN" || die "cannot create the engine's folders in $DIR and $RUN (set MLC_DOCKER_DIR to a writable folder)."
printf '%s\n' "$RUN" >"$DIR/run-dir" # read by docker-engine-down.sh

alive() { # a process that exists and is not a zombie (kill -0 succeeds on zombies)
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [[ $st != Z ]]
}
ping_engine() {
  if command -v curl >/dev/null; then
    [[ $(curl -s --max-time 2 --unix-socket "$SOCK" http://localhost/_ping 2>/dev/null) == OK ]]
  else
    node -e "require('http').get({socketPath:process.argv[1],path:'/_ping',timeout:2000},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))" "$SOCK"
  fi
}
our_dockerd() { # the pid file names a live dockerd that was started with this pid file
  local p
  [[ -f $PIDFILE ]] && p=$(cat "$PIDFILE") && [[ -n $p ]] && alive "$p" &&
    tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "--pidfile $PIDFILE"
}

# --- the engine's own bridge network ---------------------------------------------------------------------------------
# Never docker0 and never --bridge none: another engine may own docker0, and dockerd started with --bridge none deletes
# the host's docker0. Never --iptables=true either: a dockerd with iptables on flushes the DOCKER chains at start, those
# of every engine on the host (published ports, isolation rules). So dockerd gets a bridge made here, with iptables
# off, and the NAT and FORWARD rules its containers need are added here, each tagged with the bridge's name, which is
# how docker-engine-down.sh finds exactly these and nothing else.
ipv4_int() {
  local IFS=. a b c d
  read -r a b c d <<<"$1"
  echo $(((a << 24) | (b << 16) | (c << 8) | d))
}
# A /24 under 10.213.0.0/16 that overlaps no route, address or name server of the host (another engine's bridges
# included): the one picked from the folder's path, or the next free one.
free_subnet() {
  local used=() t len plo phi lo i n clash
  if [[ -n ${MLC_DOCKER_SUBNET:-} ]]; then
    [[ $MLC_DOCKER_SUBNET =~ ^(10\.[0-9]{1,3}|172\.(1[6-9]|2[0-9]|3[01])|192\.168)\.[0-9]{1,3}$ ]] ||
      die "MLC_DOCKER_SUBNET must be the first three numbers of a private /24 (e.g. 10.213.7), got '$MLC_DOCKER_SUBNET'."
    echo "$MLC_DOCKER_SUBNET"
    return
  fi
  mapfile -t used < <({
    ip -4 route show table all
    ip -4 -o addr show
    awk '$1 == "nameserver" { print $2 }' /etc/resolv.conf 2>/dev/null
  } | grep -oE '(^|[^0-9.])[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+(/[0-9]+)?' | grep -oE '[0-9.]+(/[0-9]+)?$' | sort -u)
  for ((i = 0; i < 256; i++)); do
    n=$(((16#${HASH:0:2} + i) % 256))
    lo=$(ipv4_int "10.213.$n.0")
    clash=0
    for t in "${used[@]}"; do
      len=32
      [[ $t == */* ]] && len=${t#*/}
      ((len > 0 && len <= 32)) || continue # a default route covers everything and clashes with nothing
      plo=$(($(ipv4_int "${t%/*}") & ((0xffffffff << (32 - len)) & 0xffffffff)))
      phi=$((plo + (1 << (32 - len)) - 1))
      if ((plo <= lo + 255 && phi >= lo)); then
        clash=1
        break
      fi
    done
    if ((!clash)); then
      echo "10.213.$n"
      return
    fi
  done
  die "no free /24 in 10.213.0.0/16 for the engine's bridge (all overlap this host's routes): set MLC_DOCKER_SUBNET to a free one."
}
setup_bridge() {
  local prefix
  command -v iptables >/dev/null || die "iptables is missing: reinstall ${APT_PACKAGES[*]}."
  prefix=$(free_subnet)
  SUBNET=$prefix.0/24
  # a fixed MAC (locally administered): a bridge without one takes its ports' MACs, 00:00:00:00:00:00 when none is left
  ip link add name "$BRIDGE" address "02:6d:${HASH:0:2}:${HASH:2:2}:${HASH:4:2}:${HASH:6:2}" type bridge ||
    die "cannot create the bridge $BRIDGE (ip link add): the engine tests need root with CAP_NET_ADMIN."
  printf '%s %s\n' "$BRIDGE" "$SUBNET" >"$RUN/bridge" # read by docker-engine-down.sh
  if ! { ip addr add "$prefix.1/24" dev "$BRIDGE" && ip link set "$BRIDGE" up; }; then
    die "cannot give the bridge $BRIDGE the address $prefix.1/24."
  fi
  if ! { iptables -t nat -I POSTROUTING -s "$SUBNET" ! -o "$BRIDGE" -m comment --comment "$BRIDGE" -j MASQUERADE &&
    iptables -I FORWARD -i "$BRIDGE" -m comment --comment "$BRIDGE" -j ACCEPT &&
    iptables -I FORWARD -o "$BRIDGE" -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "$BRIDGE" -j ACCEPT; }; then
    die "cannot add the NAT rules of the bridge $BRIDGE (iptables)."
  fi
}

# --- 2. dockerd -------------------------------------------------------------------------------------------------------
step_start
started=0
if our_dockerd && ping_engine; then
  step_done "dockerd already running (pid $(cat "$PIDFILE"))"
else
  if our_dockerd; then
    die "dockerd (pid $(cat "$PIDFILE")) runs but does not answer on $SOCK: stop it with scripts/docker-engine-down.sh and try again."
  fi
  # leftovers of an engine that died (mounts, socket, exec root): clean them up as the down script does
  if [[ -e $PIDFILE || -e $SOCK || -d $RUN/exec ]] || ip link show "$BRIDGE" >/dev/null 2>&1 || grep -qF " $DIR/" /proc/mounts || grep -qF " $RUN/" /proc/mounts; then
    say 'cleaning up after an engine that did not shut down'
    bash "$ROOT/scripts/docker-engine-down.sh" >&2 || true
    mkdir -p "$RUN"
    printf '%s\n' "$RUN" >"$DIR/run-dir"
  fi
  # host state that dockerd changes and the down script restores
  cat /proc/sys/net/ipv4/ip_forward >"$RUN/ip_forward.orig" # dockerd sets it to 1 (the NAT needs it)
  setup_bridge
  # the network store of an earlier start may name another bridge (docker0 before this engine had its own): the
  # engine makes its default network anew from --bridge (no container outlives a stop: the down script removes them)
  rm -f "$DIR/data/network/files/local-kv.db"
  echo '{}' >"$DIR/daemon.json"
  : >"$DIR/logs/dockerd.log"
  setsid "$DOCKERD" \
    --config-file "$DIR/daemon.json" \
    --data-root "$DIR/data" \
    --exec-root "$RUN/exec" \
    --pidfile "$PIDFILE" \
    --host "unix://$SOCK" \
    --containerd-namespace mlc-test \
    --containerd-plugins-namespace mlc-test-plugins \
    --bridge "$BRIDGE" \
    --iptables=false \
    --ip-masq=false \
    >>"$DIR/logs/dockerd.log" 2>&1 </dev/null &
  pid=$!
  for ((i = 0; i < 600; i++)); do # up to 60 s
    ping_engine && break
    if ! alive "$pid"; then
      tail -30 "$DIR/logs/dockerd.log" >&2
      die "dockerd exited while starting (log: $DIR/logs/dockerd.log)."
    fi
    sleep 0.1
  done
  if ! ping_engine; then
    tail -30 "$DIR/logs/dockerd.log" >&2
    die "dockerd did not answer on $SOCK within 60 s (log: $DIR/logs/dockerd.log)."
  fi
  started=1
  step_done "dockerd started (pid $pid, socket $SOCK, bridge $BRIDGE on $SUBNET)"
fi
"$DOCKER" info --format '[docker-engine-up] engine {{.ServerVersion}}, storage {{.Driver}}, cgroup {{.CgroupDriver}}/v{{.CgroupVersion}}, runtimes {{range $k, $v := .Runtimes}}{{$k}} {{end}}' ||
  die "the engine answers /_ping but not docker info (log: $DIR/logs/dockerd.log)."

# --- 3. base image ----------------------------------------------------------------------------------------------------
step_start
if "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
  step_done "$IMAGE present"
else
  # `docker import` gives a new image ID on each run: only import when the image is missing
  bb=$DIR/busybox-rootfs
  rm -rf "$bb"
  mkdir -p "$bb"/{bin,etc,tmp,root,proc,sys,dev,workspace,usr}
  chmod 1777 "$bb/tmp"
  cp "$BUSYBOX" "$bb/bin/busybox"
  for a in $("$bb/bin/busybox" --list); do [[ $a == busybox ]] || ln -s busybox "$bb/bin/$a"; done
  ln -s ../bin "$bb/usr/bin"
  ln -s bin "$bb/sbin"
  ln -s ../bin "$bb/usr/sbin"
  echo 'root:x:0:0:root:/root:/bin/sh' >"$bb/etc/passwd"
  echo 'root:x:0:' >"$bb/etc/group"
  tar -C "$bb" -c . | "$DOCKER" import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -c 'CMD ["/bin/sh"]' \
    - "$IMAGE" >/dev/null || die "docker import of $IMAGE failed (log: $DIR/logs/dockerd.log)."
  rm -rf "$bb"
  step_done "$IMAGE imported from $BUSYBOX"
fi

# --- 4. Debian image with python3 (MLC_DEBIAN_PYTHON=1) -------------------------------------------------------------
# Mounts under a folder, deepest first (/proc/mounts escapes spaces as \ooo; printf %b decodes them).
mounts_under() {
  awk '{print $2}' /proc/mounts | while IFS= read -r m; do
    m=$(printf '%b' "$m")
    if [[ $m == "$1" || $m == "$1/"* ]]; then printf '%s\n' "$m"; fi
  done | sort -r
}
# Removes a rootfs folder, never through a mount: debootstrap mounts /proc and /sys (and, in a container, binds /dev)
# inside it and leaves them mounted when it fails half-way.
remove_rootfs() {
  local m left
  [[ -e $1 ]] || return 0
  while IFS= read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done < <(mounts_under "$1")
  left=$(mounts_under "$1")
  [[ -z $left ]] || die "still mounted under $1: $left; unmount it (umount -l) and run this again."
  rm -rf "$1"
}
# Builds the image; on failure sets DEBIAN_FAILURE and returns 1 (the engine stays up: the other engine tests run, and
# the tests that need this image fail and name it). Leftover mounts are fatal: they are host state.
DEBIAN_FAILURE=
build_debian_python() {
  local suite=${1:-bookworm}
  local DEBIAN_IMAGE=mlc-test/debian-python:$suite
  local rootfs=$DIR/debian-rootfs log=$DIR/logs/debootstrap-$suite.log size
  command -v debootstrap >/dev/null || {
    DEBIAN_FAILURE="debootstrap is missing: apt-get install debootstrap (as root)"
    return 1
  }
  remove_rootfs "$rootfs"
  say "building $DEBIAN_IMAGE with debootstrap from $DEBIAN_MIRROR (once; log: $log)"
  if ! debootstrap --variant=minbase --include="$DEBIAN_PACKAGES" "$suite" "$rootfs" "$DEBIAN_MIRROR" >"$log" 2>&1; then
    tail -20 "$log" >&2
    remove_rootfs "$rootfs"
    DEBIAN_FAILURE="debootstrap of Debian $suite from $DEBIAN_MIRROR failed (log: $log); set MLC_DEBIAN_MIRROR to a reachable Debian mirror"
    return 1
  fi
  [[ -z $(mounts_under "$rootfs") ]] || die "debootstrap left mounts under $rootfs: $(mounts_under "$rootfs")"
  if [[ ! -x $rootfs/usr/bin/python3 || ! -x $rootfs/usr/sbin/useradd ]]; then
    remove_rootfs "$rootfs"
    DEBIAN_FAILURE="debootstrap did not install python3 and useradd (log: $log)"
    return 1
  fi
  # apt's caches and lists (an image runs apt-get update before it installs anything), logs, debootstrap's leftovers
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/var/log/bootstrap.log "$rootfs"/debootstrap
  mkdir -p "$rootfs/var/lib/apt/lists/partial"
  # /dev, /proc and /sys stay empty: the engine provides them to each container
  if ! tar -C "$rootfs" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -c . |
    "$DOCKER" import \
      -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -c 'CMD ["/bin/bash"]' \
      - "$DEBIAN_IMAGE" >/dev/null; then
    remove_rootfs "$rootfs"
    DEBIAN_FAILURE="docker import of $DEBIAN_IMAGE failed (log: $DIR/logs/dockerd.log)"
    return 1
  fi
  remove_rootfs "$rootfs"
  size=$("$DOCKER" image inspect --format '{{.Size}}' "$DEBIAN_IMAGE")
  step_done "$DEBIAN_IMAGE built with debootstrap ($(awk -v b="$size" 'BEGIN { printf "%.0f MB", b / 1e6 }'))"
}
if ((DEBIAN_PYTHON)); then
  for suite in $DEBIAN_SUITES; do
    [[ $suite =~ ^[a-z]+$ ]] || die "MLC_DEBIAN_SUITES must name Debian releases (e.g. bookworm bullseye trixie), got '$suite'."
    step_start
    if "$DOCKER" image inspect "mlc-test/debian-python:$suite" >/dev/null 2>&1; then
      step_done "mlc-test/debian-python:$suite present"
    elif ! build_debian_python "$suite"; then
      echo "[docker-engine-up] WARNING: mlc-test/debian-python:$suite was not built: $DEBIAN_FAILURE. The engine runs; the tests that build on this image will fail." >&2
    fi
  done
fi

say "ready in $(awk -v ms=$(($(now_ms) - T_ALL)) 'BEGIN { printf "%.1f s", ms / 1000 }')$( ((started)) || echo ' (reused)')"
echo "DOCKER_HOST=$DOCKER_HOST"
