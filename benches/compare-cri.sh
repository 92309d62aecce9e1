# benches/compare-cri.sh: compare.sh's case 6, sourced by it: the seed 000
# pod started over the CRI, by `peapod serve` and by Debian's containerd
# (its built-in CRI plugin, runc through the runc v2 shim), driven by the
# same client (`cri_cycle`, benches/src/bin/cri_cycle.rs: RunPodSandbox,
# then CreateContainer + StartContainer of both containers, timed by the
# client from the first request to the last answer; the sandbox stopped
# and removed after, not timed), alternating each round.
#
# containerd runs from a config under $tmp: its own root (on disk), state
# and socket (on the tmpfs $tmp/run), the `opt` plugin's folder, runc's
# root, `restrict_oom_score_adj = true` (containerd then sets no
# container a score below its own, as in a container host that forbids
# lowering it). Pods get a network as peapod's do: a CNI
# config under $tmp with Debian's containernetworking-plugins `bridge`
# (its own bridge cmp-ctd0, 10.78.0.0/16, so peapod0's 10.77.0.0/16 is
# untouched; no masquerade), `host-local` (leases under $tmp) and
# `loopback`. Its sandbox image is peapod's own pause program
# (core/pause/pause.rs, compiled here as core's build script does) as a
# one-file image; the busybox images are peapod's, saved as OCI archives
# and imported with `ctr -n k8s.io images import`.
#
# What containerd makes outside $tmp whatever its config says
# (/run/containerd/s for the shims' sockets, /var/run/netns, /var/lib/cni
# for CNI's cache, the k8s.io cgroups) is removed by cri_cleanup when it
# was not there before.
#
# Environment: CRI_CYCLE, the client (default: target/release/cri_cycle,
# built when missing).

CRI_CYCLE=${CRI_CYCLE:-$repo/target/release/cri_cycle}
cri_bridge=cmp-ctd0
cri_new=()       # host paths containerd makes, not there before
cri_ctd_pid=     # containerd
cri_serve_pid=   # peapod serve
cri_netns_before=

for d in /run/containerd /var/lib/cni /var/run/netns; do
  [ -e "$d" ] || cri_new+=("$d")
done
for h in /sys/fs/cgroup/ /sys/fs/cgroup/*/; do
  if [ -e "${h}cgroup.procs" ] && [ ! -e "${h}k8s.io" ]; then
    cri_new+=("${h}k8s.io")
  fi
done
cri_netns_before=$(ls /var/run/netns 2>/dev/null || true)

# What case 6 needs beyond compare.sh's tools.
cri_needs() {
  command -v containerd >/dev/null || echo containerd
  [ -x /usr/lib/cni/bridge ] || echo containernetworking-plugins
}

# Waits until FILE holds a line matching PATTERN (the process PID, which
# writes it, must still run).
cri_wait_for() { # FILE PATTERN PID WHAT
  local i
  for ((i = 0; i < 1000; i++)); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || { say "$4 ended: $(tail -3 "$1")"; return 1; }
    sleep 0.02
  done
  say "$4 not ready after 20 s: $(tail -3 "$1")"
  return 1
}

cri_setup() {
  if [ ! -x "$CRI_CYCLE" ]; then
    say "building cri_cycle (cargo build --release -p peapod-benches --bin cri_cycle)"
    (cd "$repo" && cargo build --release -p peapod-benches --bin cri_cycle >&2)
    CRI_CYCLE=$repo/target/release/cri_cycle
  fi
  CRI_CYCLE=$(realpath "$CRI_CYCLE")
  local c=$tmp/containerd
  mkdir -p "$c/cni" "$c/pause" "$tmp/run/containerd"
  # The pause program as core's build script compiles it.
  rustc --edition 2024 --crate-type bin --crate-name pause \
    --target "$(rustc -vV | sed -n 's/^host: //p')" \
    -C panic=abort -C opt-level=s -C relocation-model=static -C strip=symbols \
    -C link-arg=-nostartfiles -C link-arg=-nostdlib -C link-arg=-static \
    -o "$c/pause/pause" "$repo/core/pause/pause.rs" >&2
  pp image import -c 'ENTRYPOINT ["/pause"]' "$c/pause" localhost/peapod-pause:compare >/dev/null
  cat >"$c/config.toml" <<EOF
version = 2
root = "$c/root"
state = "$tmp/run/containerd/state"
[grpc]
  address = "$tmp/run/containerd/containerd.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$c/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/peapod-pause:compare"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "$tmp/run/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$c/cni"
EOF
  cat >"$c/cni/10-compare.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "peapod-compare",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$cri_bridge",
      "isGateway": true,
      "ipMasq": false,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "10.78.0.0/16" }]],
        "dataDir": "$c/ipam"
      }
    },
    { "type": "loopback" }
  ]
}
EOF
  containerd --config "$c/config.toml" >"$c/log" 2>&1 &
  cri_ctd_pid=$!
  "$PEAPOD" --root "$tmp/peapod" serve --cri "unix://$tmp/run/peapod-cri.sock" \
    >"$tmp/serve.out" 2>"$tmp/serve.err" &
  cri_serve_pid=$!
  cri_wait_for "$c/log" 'containerd successfully booted' "$cri_ctd_pid" containerd || return 1
  cri_wait_for "$tmp/serve.out" '^listening on ' "$cri_serve_pid" "peapod serve" || return 1
  local image file
  for image in localhost/peapod-pause:compare busybox:1.30.1 busybox:1.31.1; do
    file=$c/$(tr '/:' '__' <<<"$image").tar
    pp image save -o "$file" "$image" &&
      ctr -a "$tmp/run/containerd/containerd.sock" -n k8s.io images import "$file" >/dev/null ||
      return 1
  done
}

cri_peapod_endpoint() { echo "unix://$tmp/run/peapod-cri.sock"; }
cri_containerd_endpoint() { echo "unix://$tmp/run/containerd/containerd.sock"; }
cri_peapod_clean() { :; }
cri_containerd_clean() { :; }

# One round of one contender: the client's own figure (ms, 3 decimals)
# as µs in the samples.
cri_one() { # CONTENDER ROUND
  local c=$1 r=$2 ms
  if ! ms=$("$CRI_CYCLE" --endpoint "$("${c}_endpoint")" --first "$((r + 1))" \
    --log-dir "$tmp/cri-logs/$c" 2>"$tmp/err"); then
    : >"$tmp/out"
    fail "$c" "$r" cycle
    return
  fi
  if ((r > 0)); then echo "${ms/./}" >>"$tmp/s/$c.up"; fi
}

cri_case() { # ROUNDS
  local r i c cs=(cri_peapod cri_containerd)
  if ! cri_setup >"$tmp/out" 2>"$tmp/err"; then
    error_of >"$tmp/e/cri_peapod"
    cp "$tmp/e/cri_peapod" "$tmp/e/cri_containerd"
    say "case 6 setup failed: $(cat "$tmp/e/cri_peapod")"
    return
  fi
  for ((r = 0; r <= $1; r++)); do
    for ((i = 0; i < 2; i++)); do
      c=${cs[(r + i) % 2]}
      [ -e "$tmp/e/$c" ] || cri_one "$c" "$r"
    done
    say "  round $r/$1 done"
  done
}

cri_rows() {
  echo "| **6. seed 000 pod over the CRI: start, one client (\`cri_cycle\`) for both** | | | | |"
  row cri_peapod up cri_peapod "peapod serve" "RunPodSandbox + 2× (CreateContainer + StartContainer), bridge network (\`cri_pod_start\`'s sequence)"
  row cri_containerd up cri_peapod "containerd" "the same requests to $(containerd --version | cut -d' ' -f3) (CRI plugin, runc v2 shim, overlayfs), CNI bridge + host-local"
}

# Stops both servers and removes what containerd left on the host.
cri_cleanup() {
  local p h d n
  if [ -n "$cri_serve_pid" ]; then
    for p in $(pp get pods -n default -o name 2>/dev/null | grep '^pod/myapp-'); do
      pp delete pod "${p#pod/}" --grace-period 0 >/dev/null 2>&1
    done
    kill -TERM "$cri_serve_pid" 2>/dev/null
    wait "$cri_serve_pid" 2>/dev/null
  fi
  if [ -n "$cri_ctd_pid" ]; then
    kill -TERM "$cri_ctd_pid" 2>/dev/null
    wait "$cri_ctd_pid" 2>/dev/null
  fi
  # Containers a failed round left: their processes are in the k8s.io
  # cgroups, their shims name $tmp (compare.sh's sweep ends those).
  for h in "${cri_new[@]}"; do
    case $h in
      /sys/fs/cgroup/*)
        [ -d "$h" ] || continue
        find "$h" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -9 2>/dev/null
        find "$h" -depth -type d -exec rmdir {} + 2>/dev/null
        ;;
    esac
  done
  for n in $(ls /var/run/netns 2>/dev/null); do
    grep -qx "$n" <<<"$cri_netns_before" && continue
    case $n in cni-*) umount "/var/run/netns/$n" 2>/dev/null; rm -f "/var/run/netns/$n" ;; esac
  done
  ip link del "$cri_bridge" 2>/dev/null
  for d in "${cri_new[@]}"; do
    case $d in
      /run/containerd | /var/lib/cni) umount -R "$d"/* 2>/dev/null; rm -rf "$d" ;;
      /var/run/netns) rmdir "$d" 2>/dev/null ;;
    esac
  done
  true
}
