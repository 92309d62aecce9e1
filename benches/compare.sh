#!/usr/bin/env bash
# benches/compare.sh: the same work done side by side, in one run,
# alternating, by peapod and by the runtimes a user would pick instead
# (runc, crun, podman, and containerd's CRI for `peapod serve`, from
# Debian's packages; case 6 is in compare-cri.sh), printed as a markdown table:
# median and min-max of each, and the ratio peapod/other.
#
#   sudo benches/compare.sh > table.md
#
# Root only (it runs containers). It installs what it lacks with apt-get
# (runc crun podman jq busybox-static containerd containernetworking-plugins),
# builds peapod (and compare-cri.sh's client) if
# ${PEAPOD:-target/release/peapod} is missing, keeps every runtime's state
# in one temporary folder, and removes all of it at the end (trap): nothing
# of peapod, runc, crun or podman stays running or mounted.
#
# Environment:
#   PEAPOD      the peapod binary (default: target/release/peapod)
#   ROUNDS      rounds of the one-container case (default 100)
#   POD_ROUNDS  rounds of the two-container pod cases (default 20; podman
#               takes seconds a round), case 6's too
#   CRI_CYCLE   case 6's CRI client (default: target/release/cri_cycle)
#
# Each round runs every contender of a case once, in an order rotated by
# one each round (A B C, B C A, C A B...), so drift of the machine falls on
# all of them alike; round 0 is a warm-up and is not counted. A contender
# whose command fails is dropped and its error is printed in the table
# instead of a figure. Progress goes to stderr, the table to stdout.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
fx=$here/fixtures
ROUNDS=${ROUNDS:-100}
POD_ROUNDS=${POD_ROUNDS:-20}
PEAPOD=${PEAPOD:-$repo/target/release/peapod}
PATH_ENV='ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

say() { printf '%s\n' "compare.sh: $*" >&2; }
die() { say "$*"; exit 1; }

# shellcheck source=benches/compare-cri.sh
. "$here/compare-cri.sh"

[ "$(id -u)" = 0 ] || die "run as root (containers need it)"

# --- what we compare with, from Debian's packages -------------------------
need=()
for tool in runc crun podman jq; do
  command -v "$tool" >/dev/null || need+=("$tool")
done
command -v file >/dev/null || need+=(file) # busybox-rootfs.sh uses it
file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' || need+=(busybox-static)
command -v nsenter >/dev/null || need+=(util-linux)
mapfile -t -O "${#need[@]}" need < <(cri_needs)
if ((${#need[@]})); then
  say "installing ${need[*]}"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi
if [ ! -x "$PEAPOD" ]; then
  say "building peapod (cargo build --release -p peapod)"
  (cd "$repo" && cargo build --release -p peapod >&2)
  PEAPOD=$repo/target/release/peapod
fi
PEAPOD=$(realpath "$PEAPOD")

tmp=$(mktemp -d /tmp/peapod-compare.XXXXXX)
# Paths podman, runc and crun make outside the roots they are given; those
# that were not there before are removed at the end (when empty, but for
# podman's blob cache).
host_new=()
for d in /var/lib/containers /run/containers /run/libpod /run/runc /run/crun \
  /sys/fs/cgroup/libpod_parent; do
  [ -e "$d" ] || host_new+=("$d")
done
for h in /sys/fs/cgroup/*/; do # each hierarchy of a v1 or hybrid layout
  if [ -e "${h}cgroup.procs" ] && [ ! -e "${h}libpod_parent" ]; then
    host_new+=("${h}libpod_parent")
  fi
done
holder= # pid of the process holding crun's mount namespace, if one is needed

# --- the runtimes, each with private state under $tmp ----------------------
pp() { "$PEAPOD" --root "$tmp/peapod" "$@"; }
pm() {
  podman --root "$tmp/podman/root" --runroot "$tmp/run/podman" \
    --tmpdir "$tmp/podman/tmp" "$@"
}
crun_cmd() {
  if [ -n "$holder" ]; then
    nsenter --mount="/proc/$holder/ns/mnt" crun "$@"
  else
    crun "$@"
  fi
}

# --- cleanup: runs on every exit ------------------------------------------
cleanup() {
  set +e
  say "cleaning up $tmp"
  cri_cleanup
  if [ -d "$tmp/peapod" ]; then
    pp delete -f "$fx/true.yaml" --ignore-not-found --grace-period 0 >/dev/null 2>&1
    pp delete -f "$fx/myapp.yaml" --ignore-not-found --grace-period 0 >/dev/null 2>&1
  fi
  if [ -d "$tmp/run/runc" ]; then
    for id in $(runc --root "$tmp/run/runc" list -q 2>/dev/null); do
      runc --root "$tmp/run/runc" delete -f "$id" >/dev/null 2>&1
    done
  fi
  if [ -d "$tmp/run/crun" ]; then
    for id in $(crun_cmd --root "$tmp/run/crun" list -q 2>/dev/null); do
      crun_cmd --root "$tmp/run/crun" delete -f "$id" >/dev/null 2>&1
    done
  fi
  if [ -d "$tmp/podman" ]; then
    pm pod rm -a -f -t 0 >/dev/null 2>&1
    pm rm -a -f -t 0 >/dev/null 2>&1
    pm system reset -f >/dev/null 2>&1
  fi
  if [ -n "$holder" ]; then
    kill "$holder" 2>/dev/null
    wait "$holder" 2>/dev/null
  fi
  umount "$tmp/peapod/run" "$tmp/run" 2>/dev/null
  # What is still ours: processes whose command line names our folder,
  # mounts under it. Both are reported, then removed.
  local left=() pid
  while read -r pid; do
    [ "$pid" = "$$" ] && continue
    grep -qsF "$tmp" "/proc/$pid/cmdline" || continue # gone since (grep itself)
    left+=("process $pid: $(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | cut -c1-120)")
    kill -9 "$pid" 2>/dev/null
  done < <(grep -lsF "$tmp" /proc/[0-9]*/cmdline | cut -d/ -f3)
  local mnt
  while read -r mnt; do
    left+=("mount $mnt")
    umount -l "$mnt" 2>/dev/null
  done < <(awk -v t="$tmp" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo | sort -r)
  for d in "${host_new[@]}"; do
    [ -e "$d" ] || continue
    case $d in
      /sys/fs/cgroup/*) find "$d" -depth -type d -exec rmdir {} + 2>/dev/null ;;
      /var/lib/containers) rm -rf "$d/cache" && rmdir "$d" 2>/dev/null ;;
      *) rmdir "$d" 2>/dev/null ;;
    esac
    [ -e "$d" ] && left+=("$d (not removed: not empty)")
  done
  if ((${#left[@]})); then
    say "left behind and removed now:"
    printf '  %s\n' "${left[@]}" >&2
  else
    say "cleanup: nothing of peapod, runc, crun or podman left running or mounted"
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Run-time state on tmpfs, as on a real host (/run/peapod, /run/runc,
# /run/crun, /run/containers), images and container layers on disk
# (/var/lib/...): $tmp/peapod/run for peapod, $tmp/run for the others.
mkdir -p "$tmp/peapod/run" "$tmp/run"
mount -t tmpfs -o mode=0700 peapod-compare "$tmp/peapod/run"
mount -t tmpfs -o mode=0700 peapod-compare "$tmp/run"

say "busybox rootfs and images"
"$repo/tests/fixtures/busybox-rootfs.sh" "$tmp/rootfs"
tar -C "$tmp/rootfs" -cf "$tmp/busybox.tar" .

# OCI bundle for runc and crun: the busybox rootfs, `true`, no terminal.
mkdir -p "$tmp/bundle" "$tmp/run/runc" "$tmp/run/crun"
runc spec --bundle "$tmp/bundle"
jq --arg root "$tmp/rootfs" \
  '.process.args = ["true"] | .process.terminal = false | .root.path = $root' \
  "$tmp/bundle/config.json" >"$tmp/bundle/config.json.new"
mv "$tmp/bundle/config.json.new" "$tmp/bundle/config.json"

# peapod: the same rootfs imported under both tags of the seed pod.
for tag in 1.30.1 1.31.1; do
  pp image import -c "$PATH_ENV" "$tmp/rootfs" "busybox:$tag" >/dev/null
done

# podman: private store, private CNI folder, and the settings this kind of
# host needs: no default ulimits (podman's exceed the hard limits here:
# "setrlimit `RLIMIT_NOFILE`: Operation not permitted"), runc (podman's
# default crun refuses the hybrid cgroup layout), cgroupfs, file events.
mkdir -p "$tmp/podman/root" "$tmp/run/podman" "$tmp/podman/tmp" "$tmp/podman/cni"
cat >"$tmp/containers.conf" <<EOF
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
[network]
network_config_dir = "$tmp/podman/cni"
EOF
export CONTAINERS_CONF=$tmp/containers.conf
pm import -q -c "$PATH_ENV" "$tmp/busybox.tar" localhost/busybox:1.30.1 >/dev/null
pm tag localhost/busybox:1.30.1 localhost/busybox:1.31.1

# crun 1.8 refuses a hybrid cgroup layout whose cgroup2 mount has any
# controller ("cgroups in hybrid mode not supported, drop all controllers
# from cgroupv2"), whatever --cgroup-manager says. Where it does, crun runs
# in a mount namespace without /sys/fs/cgroup/unified (crun then sees
# cgroup v1 only), entered with nsenter for each run.
crun_note=
if ! crun --root "$tmp/run/crun" run --bundle "$tmp/bundle" cmp-crun-probe >"$tmp/out" 2>"$tmp/err"; then
  if grep -q 'hybrid mode not supported' "$tmp/err" && mountpoint -q /sys/fs/cgroup/unified; then
    unshare --mount --propagation private sh -c \
      'umount /sys/fs/cgroup/unified && exec sleep 100000' &
    holder=$!
    for _ in $(seq 100); do
      grep -q ' /sys/fs/cgroup/unified ' "/proc/$holder/mountinfo" 2>/dev/null || break
      sleep 0.01
    done
    crun_note=" (crun 1.8 refuses this host's hybrid cgroups, so it runs in a mount namespace without /sys/fs/cgroup/unified, entered by \`nsenter\`: NSENTER)"
  fi
fi

# --- the contenders: NAME_up, NAME_down (timed), NAME_clean (not) ---------
# Case "true": one container running `true`, start to gone. All in _up.
n=0
runc_true_up() { n=$((n + 1)); runc --root "$tmp/run/runc" run --bundle "$tmp/bundle" "cmp-runc-$n"; }
runc_true_down() { :; }
runc_true_clean() { runc --root "$tmp/run/runc" delete -f "cmp-runc-$n"; }
crun_true_up() { n=$((n + 1)); crun_cmd --root "$tmp/run/crun" run --bundle "$tmp/bundle" "cmp-crun-$n"; }
crun_true_down() { :; }
crun_true_clean() { crun_cmd --root "$tmp/run/crun" delete -f "cmp-crun-$n"; }

# peapod run --rm: one container in the foreground, no supervisor, no
# pause. --network none makes a netns with lo up, as runc's and crun's
# default spec makes a netns (theirs without lo up); the bridge variant
# adds a veth and an address on peapod0.
peapod_run_up() { pp run --rm --network none busybox:1.30.1 true; }
peapod_run_down() { :; }
peapod_run_clean() { :; }
peapod_runbr_up() { pp run --rm busybox:1.30.1 true; }
peapod_runbr_down() { :; }
peapod_runbr_clean() { :; }

# The same as a pod: apply (returns once the container has started), poll
# `get` until the pod has completed, delete.
peapod_completed() {
  local doc i
  for ((i = 0; i < 5000; i++)); do
    doc=$(pp get pod compare-true -o json) || return 1
    [[ $doc =~ \"phase\":\ *\"(Succeeded|Failed)\" ]] && return 0
  done
  echo "compare-true did not complete: $(jq -c .status <<<"$doc")" >&2
  return 1
}
peapod_true_up() {
  local t0=${EPOCHREALTIME/./} t1 t2 t3
  pp apply -f "$fx/true.yaml" || return 1
  t1=${EPOCHREALTIME/./}
  peapod_completed || return 1
  t2=${EPOCHREALTIME/./}
  pp delete -f "$fx/true.yaml" || return 1
  t3=${EPOCHREALTIME/./}
  if ((round > 0)); then # the parts, for the note under the table
    echo $((t1 - t0)) >>"$tmp/s/peapod_true.apply"
    echo $((t2 - t1)) >>"$tmp/s/peapod_true.wait"
    echo $((t3 - t2)) >>"$tmp/s/peapod_true.delete"
  fi
}
peapod_true_down() { :; }
peapod_true_clean() { pp delete -f "$fx/true.yaml" --ignore-not-found --grace-period 0; }

# Case "pod": the seed 000 pod (benches/fixtures/myapp.yaml), up, then down.
peapod_pod_up() { pp apply -f "$fx/myapp.yaml"; }
peapod_pod_down() { pp delete -f "$fx/myapp.yaml"; }
peapod_pod_clean() { pp delete -f "$fx/myapp.yaml" --ignore-not-found --grace-period 0; }

# runc run of ONE busybox container running `true`, in case 2's rounds:
# the yardstick of the seed pod's apply + delete (issue 17's target: the
# two-container pod, bridge, at most half of it).
runc_one_up() { runc_true_up; }
runc_one_down() { :; }
runc_one_clean() { runc_true_clean; }

kube_pod_up() { pm kube play --network none "$fx/myapp.yaml"; }
kube_pod_down() { pm kube play --down "$fx/myapp.yaml"; }
kube_pod_clean() { pm kube play --down "$fx/myapp.yaml"; pm volume prune -f; }

podcli_pod_up() {
  pm pod create --name cmp-pod --share ipc,net,uts,pid --network none &&
    pm create --pod cmp-pod --name cmp-pod-myapp1 --memory 128m --cpus 0.5 \
      -v cmp-logs:/usr/logs localhost/busybox:1.30.1 sleep 1000 &&
    pm create --pod cmp-pod --name cmp-pod-myapp2 --memory 128m --cpus 0.5 \
      -v cmp-logs:/usr/logs localhost/busybox:1.31.1 sleep 1000 &&
    pm pod start cmp-pod
}
podcli_pod_down() { pm pod rm -f -t 0 cmp-pod && pm volume rm -f cmp-logs; }
podcli_pod_clean() { pm pod rm -f -t 0 cmp-pod; pm volume rm -f cmp-logs; }

# --- the harness ------------------------------------------------------------
mkdir -p "$tmp/s" "$tmp/e"
round=0

# The error of a failed command, on one line: its distinct stderr lines
# (stdout when stderr is empty), container IDs shortened, `|` escaped.
error_of() {
  local f=$tmp/err
  [ -s "$f" ] || f=$tmp/out
  sed -E 's/[0-9a-f]{64}/<id>/g; s/^\[//; s/\]$//; s/\|/\\|/g' "$f" |
    awk 'NF && !seen[$0]++' | paste -sd'~' | sed 's/~/ \/ /g' | cut -c1-400
}

fail() { # CONTENDER ROUND STEP
  error_of >"$tmp/e/$1"
  say "$1 failed (round $2, $3): $(cat "$tmp/e/$1")"
  "${1}_clean" >/dev/null 2>&1 || true
}

# One round of one contender: time its _up and _down.
one() { # CONTENDER ROUND
  local c=$1 r=$2 t0 t1 t2
  round=$r
  t0=${EPOCHREALTIME/./}
  if ! "${c}_up" >"$tmp/out" 2>"$tmp/err"; then fail "$c" "$r" up; return; fi
  t1=${EPOCHREALTIME/./}
  if ! "${c}_down" >"$tmp/out" 2>"$tmp/err"; then fail "$c" "$r" down; return; fi
  t2=${EPOCHREALTIME/./}
  if ((r > 0)); then
    echo $((t1 - t0)) >>"$tmp/s/$c.up"
    echo $((t2 - t1)) >>"$tmp/s/$c.down"
    echo $((t2 - t0)) >>"$tmp/s/$c.total"
  fi
}

run_case() { # ROUNDS CONTENDER...
  local rounds=$1 r i c
  shift
  local cs=("$@") k=$#
  for ((r = 0; r <= rounds; r++)); do
    for ((i = 0; i < k; i++)); do
      c=${cs[(r + i) % k]}
      [ -e "$tmp/e/$c" ] || one "$c" "$r"
    done
    say "  round $r/$rounds done"
  done
}

# "median min max count" of a sample file, in ms.
stats() {
  sort -n "$1" | awk '{ v[NR] = $1 }
    END { if (NR == 0) exit 1
          m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
          printf "%.1f %.1f %.1f %d\n", m / 1000, v[1] / 1000, v[NR] / 1000, NR }'
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
t_start=$SECONDS

# nsenter's own cost, for the crun row's note.
if [ -n "$holder" ]; then
  : >"$tmp/s/nsenter"
  for _ in $(seq 20); do
    t0=${EPOCHREALTIME/./}
    nsenter --mount="/proc/$holder/ns/mnt" /bin/true
    t1=${EPOCHREALTIME/./}
    echo $((t1 - t0)) >>"$tmp/s/nsenter"
  done
  read -r ns_med _ <<<"$(stats "$tmp/s/nsenter")"
  crun_note=${crun_note/NSENTER/nsenter alone takes $ns_med ms median}
fi

say "case 1: one container running \`true\` ($ROUNDS rounds)"
run_case "$ROUNDS" peapod_run peapod_runbr peapod_true runc_true crun_true
say "case 2: the seed 000 pod up and down ($POD_ROUNDS rounds)"
run_case "$POD_ROUNDS" peapod_pod kube_pod podcli_pod runc_one
say "case 6: the seed 000 pod over the CRI, peapod serve and containerd ($POD_ROUNDS rounds)"
cri_case "$POD_ROUNDS"

load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the table --------------------------------------------------------------
# row CONTENDER METRIC PEAPOD_ROW LABEL WHAT
row() {
  local c=$1 m=$2 ref=$3 label=$4 what=$5 med min max ratio rmed
  if [ -e "$tmp/e/$c" ]; then
    printf "| %s | %s | error: \`%s\` | | |\n" "$label" "$what" "$(cat "$tmp/e/$c")"
    return
  fi
  read -r med min max _ <<<"$(stats "$tmp/s/$c.$m")"
  if [ "$c" = "$ref" ]; then
    ratio=1
  elif [ -e "$tmp/e/$ref" ]; then
    ratio="n/a"
  else
    read -r rmed _ <<<"$(stats "$tmp/s/$ref.$m")"
    ratio=$(awk -v a="$rmed" -v b="$med" 'BEGIN { if (a <= b) printf "%.3f (peapod %.1f× faster)", a / b, b / a
      else printf "%.3f (peapod %.1f× slower)", a / b, a / b }')
  fi
  printf '| %s | %s | %s | %s–%s | %s |\n' "$label" "$what" "$med" "$min" "$max" "$ratio"
}

cat <<EOF
Measured $started on $(nproc) cores, kernel $(uname -r), load average $load_start at the start and $load_end at the end; $ROUNDS rounds of case 1 and $POD_ROUNDS of case 2 after one warm-up round each, contenders alternating; $((SECONDS - t_start)) s in all.
peapod $("$PEAPOD" --version | cut -d' ' -f2) (\`$PEAPOD\`, built $(date -u -r "$PEAPOD" '+%H:%M UTC'); tree at $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')), $(runc --version | head -1), $(crun --version | head -1), $(podman --version), $(containerd --version | cut -d' ' -f1,3).

| runtime | what is timed | median ms | min–max ms | peapod/this |
|---|---|---:|---:|---|
| **1. one container running \`true\`** | | | | |
EOF
row peapod_run total peapod_run "peapod run" "\`run --rm --network none busybox true\` (a netns with lo up, no veth)"
row peapod_runbr total peapod_run "peapod run, bridge" "\`run --rm busybox true\` (plus a veth and an address on peapod0)"
row peapod_true total peapod_run "peapod pod" "\`apply -f true.yaml\` + \`get -o json\` until Succeeded + \`delete -f\`"
row runc_true total peapod_run "runc" "\`runc run\` of the bundle (create, start, wait, delete)"
row crun_true total peapod_run "crun" "\`crun run\` of the bundle${crun_note}"
cat <<EOF
| **2. seed 000 pod: start** | | | | |
EOF
row peapod_pod up peapod_pod "peapod" "\`apply -f myapp.yaml\` (returns once both containers run)"
row kube_pod up peapod_pod "podman kube play" "\`podman kube play --network none myapp.yaml\`"
row podcli_pod up peapod_pod "podman pod create" "\`pod create --share ipc,net,uts,pid --network none\` + 2× \`create --pod\` + \`pod start\`"
cat <<EOF
| **3. seed 000 pod: stop** | | | | |
EOF
row peapod_pod down peapod_pod "peapod" "\`delete -f myapp.yaml\` (returns once all of the pod is gone)"
row kube_pod down peapod_pod "podman kube play" "\`podman kube play --down myapp.yaml\`"
row podcli_pod down peapod_pod "podman pod create" "\`pod rm -f -t 0\` + \`volume rm\`"
cat <<EOF
| **4. seed 000 pod: start + stop** | | | | |
EOF
row peapod_pod total peapod_pod "peapod" "\`apply\` + \`delete -f myapp.yaml\`"
row kube_pod total peapod_pod "podman kube play" "\`kube play --network none\` + \`kube play --down\`"
row podcli_pod total peapod_pod "podman pod create" "rows 2 + 3"
cat <<EOF
| **5. seed 000 pod (2 containers, bridge) apply + delete vs ONE runc container** | | | | |
EOF
row peapod_pod total peapod_pod "peapod" "\`apply\` + \`delete -f myapp.yaml\`, default bridge network (row 4)"
row runc_one total peapod_pod "runc" "\`runc run\` of one busybox container running \`true\`, in case 2's rounds"
cri_rows
if [ -s "$tmp/s/peapod_true.apply" ]; then
  read -r a _ <<<"$(stats "$tmp/s/peapod_true.apply")"
  read -r w _ <<<"$(stats "$tmp/s/peapod_true.wait")"
  read -r d _ <<<"$(stats "$tmp/s/peapod_true.delete")"
  echo
  echo "peapod's case 1 as a pod, in parts (medians): \`apply\` $a ms, polling \`get\` until Succeeded $w ms, \`delete\` $d ms."
fi
echo
echo "In case 1, \`peapod/this\` compares \`peapod run --rm --network none\` with each row."
