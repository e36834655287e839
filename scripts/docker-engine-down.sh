#!/usr/bin/env bash
# Stops the private Docker engine started by scripts/docker-engine-up.sh and undoes what it left on the host:
# removes its containers (so shutdown does not wait on PID 1s that ignore SIGTERM), stops dockerd by its pid (SIGKILL
# after 15 s) and its own containerd, unmounts what is left under its folders (dockerd leaves an nsfs mount under the
# exec root; after a crash overlay and netns mounts stay too), removes the socket and exec root, and removes the
# engine's own bridge (mlc-br-<hash>) and its own iptables rules (those tagged with the bridge's name), never docker0
# nor the DOCKER chains another engine uses; ip_forward gets its old value back unless another dockerd runs. Keeps the
# images (data root) unless PURGE=1. Safe to run when nothing is running.
# usage: bash scripts/docker-engine-down.sh          (PURGE=1 also deletes the engine's data)
# env:   MLC_DOCKER_DIR   the same folder docker-engine-up.sh used (default: <project>/.vscode-test/docker)
set -uo pipefail
trap "" INT HUP # finish the clean-up even when the run that called it is interrupted

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${MLC_DOCKER_DIR:-$ROOT/.vscode-test/docker}
DOCKER=/usr/bin/docker
say() { echo "[docker-engine-down] $*"; }
now_ms() { date +%s%3N; }
T_ALL=$(now_ms)

if [[ ! -d $DIR ]]; then
  say "nothing to stop ($DIR does not exist)"
  exit 0
fi
RUN=$DIR/run
[[ -f $DIR/run-dir ]] && RUN=$(cat "$DIR/run-dir")
case $RUN in
  "$DIR/run" | /tmp/mlc-docker-*) ;;
  *)
    echo "[docker-engine-down] ERROR: unexpected run folder '$RUN' in $DIR/run-dir: remove that file and try again." >&2
    exit 1
    ;;
esac
SOCK=$RUN/docker.sock
PIDFILE=$RUN/docker.pid
BRIDGE=mlc-br-$(printf '%s' "$DIR" | sha256sum | cut -c1-8) # the name docker-engine-up.sh gives it

alive() {
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [[ $st != Z ]]
}
stop_pid() { # pid, name: SIGTERM, wait up to 15 s, then SIGKILL
  local p=$1 i
  kill -TERM "$p" 2>/dev/null || return 0
  for ((i = 0; i < 150; i++)); do
    alive "$p" || return 0
    sleep 0.1
  done
  say "$2 ($p) still running after 15 s: SIGKILL"
  kill -KILL "$p" 2>/dev/null
  for ((i = 0; i < 50; i++)); do
    alive "$p" || return 0
    sleep 0.1
  done
}
is_cmd() { { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null | grep -qF -- "$2"; } # pid, a fixed string of its command line

# --- dockerd and its containerd ---------------------------------------------------------------------------------------
containerd_pid=
[[ -f $RUN/exec/containerd/containerd.pid ]] && containerd_pid=$(cat "$RUN/exec/containerd/containerd.pid")
if [[ -f $PIDFILE ]]; then
  p=$(cat "$PIDFILE")
  if [[ -n $p ]] && alive "$p" && is_cmd "$p" "--pidfile $PIDFILE"; then
    if [[ -x $DOCKER && -S $SOCK ]]; then
      mapfile -t ids < <(DOCKER_HOST=unix://$SOCK timeout 20 "$DOCKER" ps -aq 2>/dev/null)
      if ((${#ids[@]} > 0)); then
        DOCKER_HOST=unix://$SOCK timeout 60 "$DOCKER" rm -f "${ids[@]}" >/dev/null 2>&1 ||
          say "could not remove all containers"
        say "removed ${#ids[@]} container(s)"
      fi
    fi
    t=$(now_ms)
    stop_pid "$p" dockerd
    say "dockerd ($p) stopped in $(awk -v ms=$(($(now_ms) - t)) 'BEGIN { printf "%.1f s", ms / 1000 }')"
  fi
fi
# dockerd stops the containerd it started; after a SIGKILL that containerd is left behind
if [[ -n $containerd_pid ]] && alive "$containerd_pid" && is_cmd "$containerd_pid" "$RUN/exec/containerd/containerd.toml"; then
  stop_pid "$containerd_pid" containerd
  say "containerd ($containerd_pid) stopped"
fi

# --- containers of an engine that crashed ---------------------------------------------------------------------------
# Their containerd-shim processes (and the containers under them) outlive a SIGKILLed dockerd and containerd. Ours are
# the shims whose -address is our containerd's socket: kill each container's init (the whole container goes with it),
# then the shim, then the container's empty cgroups.
shim_address=$RUN/exec/containerd/containerd.sock
shims=()
for d in /proc/[0-9]*; do
  cmd=$({ tr '\0' ' ' <"$d/cmdline"; } 2>/dev/null) || continue  # a process may exit while we look
  [[ $cmd == *containerd-shim*" -address $shim_address "* || $cmd == *containerd-shim*" -address $shim_address" ]] || continue
  shims+=("${d#/proc/}")
done
for p in "${shims[@]}"; do
  id=$({ tr '\0' '\n' <"/proc/$p/cmdline"; } 2>/dev/null | awk 'prev == "-id" { print; exit } { prev = $0 }')
  for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do kill -KILL "$c" 2>/dev/null; done
  stop_pid "$p" containerd-shim
  if [[ -n $id ]]; then
    for cg in /sys/fs/cgroup/*/docker/"$id" /sys/fs/cgroup/docker/"$id"; do [[ -d $cg ]] && rmdir "$cg" 2>/dev/null; done
  fi
  say "stopped the leftover container ${id:0:12} (shim $p)"
done

# --- mounts -----------------------------------------------------------------------------------------------------------
# /proc/mounts escapes spaces and other characters as \ooo; printf %b decodes them. Deepest mounts first.
list_mounts() {
  awk '{print $2}' /proc/mounts | while IFS= read -r m; do
    m=$(printf '%b' "$m")
    [[ $m == "$DIR/"* || $m == "$RUN/"* ]] && printf '%s\n' "$m"
  done | sort -r
}
mapfile -t mounts < <(list_mounts)
for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || say "could not unmount $m"; done
((${#mounts[@]} > 0)) && say "unmounted ${#mounts[@]} mount(s)"
mapfile -t still < <(list_mounts)
if ((${#still[@]} > 0)); then
  # never rm -rf through a mount
  echo "[docker-engine-down] ERROR: still mounted: ${still[*]}; unmount them as root (umount -l) and run this again." >&2
  exit 1
fi

# --- the engine's bridge network ------------------------------------------------------------------------------------
# A dockerd other than ours (another engine on this host); with the argument docker0: one that uses docker0 (started
# without --bridge, or with --bridge docker0), and so the DOCKER chains too.
other_dockerd() {
  local d argv a bridge
  for d in /proc/[0-9]*; do
    mapfile -d '' -t argv 2>/dev/null <"$d/cmdline" || continue
    if ((${#argv[@]} == 0)) || [[ ${argv[0]##*/} != dockerd ]] || ! alive "${d#/proc/}"; then continue; fi
    [[ ${1:-} == docker0 ]] || return 0
    bridge=docker0
    for ((a = 1; a < ${#argv[@]}; a++)); do
      case ${argv[a]} in
        --bridge | -b) bridge=${argv[a + 1]:-} ;;
        --bridge=* | -b=*) bridge=${argv[a]#*=} ;;
      esac
    done
    [[ $bridge == docker0 ]] && return 0
  done
  return 1
}
# Our iptables rules: the ones tagged with the bridge's name (docker-engine-up.sh adds them, never dockerd).
n=0
if command -v iptables >/dev/null; then
  for table in filter nat; do
    mapfile -t rules < <(iptables -t "$table" -S 2>/dev/null | grep -E -- "^-A .* --comment $BRIDGE( |$)")
    for r in "${rules[@]}"; do
      read -ra rule <<<"${r/#-A /-D }"
      iptables -t "$table" "${rule[@]}" 2>/dev/null && n=$((n + 1))
    done
  done
fi
((n > 0)) && say "removed $n iptables rule(s) of $BRIDGE"
if ip link show "$BRIDGE" >/dev/null 2>&1; then
  ip link delete "$BRIDGE" && say "removed the bridge $BRIDGE"
fi

# An engine started by an earlier version of docker-engine-up.sh used docker0 and dockerd's own iptables chains (and
# made them, unless docker0.preexisting says another engine had): remove them only while no other dockerd uses docker0.
if [[ -f $RUN/ip_forward.orig && ! -f $RUN/bridge && ! -f $RUN/docker0.preexisting ]] && ! other_dockerd docker0; then
  ip link show docker0 >/dev/null 2>&1 && ip link delete docker0
  if command -v iptables >/dev/null; then
    iptables -t nat -D PREROUTING -m addrtype --dst-type LOCAL -j DOCKER 2>/dev/null
    iptables -t nat -D OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER 2>/dev/null
    iptables -t nat -D POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE 2>/dev/null
    iptables -t nat -F DOCKER 2>/dev/null
    iptables -t nat -X DOCKER 2>/dev/null
    for r in '-j DOCKER-USER' '-j DOCKER-ISOLATION-STAGE-1' \
      '-o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT' '-o docker0 -j DOCKER' \
      '-i docker0 ! -o docker0 -j ACCEPT' '-i docker0 -o docker0 -j ACCEPT'; do
      read -ra rule <<<"$r"
      iptables -D FORWARD "${rule[@]}" 2>/dev/null
    done
    for c in DOCKER DOCKER-ISOLATION-STAGE-1 DOCKER-ISOLATION-STAGE-2 DOCKER-USER; do iptables -F "$c" 2>/dev/null; done
    for c in DOCKER DOCKER-ISOLATION-STAGE-1 DOCKER-ISOLATION-STAGE-2 DOCKER-USER; do iptables -X "$c" 2>/dev/null; done
    policy=ACCEPT
    [[ -f $RUN/forward-policy.orig ]] && policy=$(cat "$RUN/forward-policy.orig")
    [[ $policy == ACCEPT || $policy == DROP ]] || policy=ACCEPT
    iptables -P FORWARD "$policy"
  fi
fi
# dockerd turned forwarding on; another engine needs it on as well
if [[ -f $RUN/ip_forward.orig ]]; then
  if other_dockerd; then
    [[ $(cat /proc/sys/net/ipv4/ip_forward) == "$(cat "$RUN/ip_forward.orig")" ]] ||
      say 'another dockerd runs: ip_forward stays on'
  else
    cat "$RUN/ip_forward.orig" >/proc/sys/net/ipv4/ip_forward
  fi
fi

# --- files ------------------------------------------------------------------------------------------------------------
rm -rf "$RUN"
rm -f "$DIR/run-dir"
rm -rf "$DIR/busybox-rootfs" "$DIR/debian-rootfs" # only reached when nothing is mounted under $DIR
if [[ ${PURGE:-0} == 1 ]]; then
  rm -rf "$DIR/data"
  say "engine data deleted"
fi
say "done in $(awk -v ms=$(($(now_ms) - T_ALL)) 'BEGIN { printf "%.1f s", ms / 1000 }')"
