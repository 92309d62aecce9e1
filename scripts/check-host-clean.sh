#!/usr/bin/env bash
# Fails when peapod left anything on the host: mounts, links, cgroups,
# network namespaces or processes. The bridge peapod0 stays on purpose
# (shared by every pod, like docker0 or cni0).
set -u
bad=0
report() { echo "check-host-clean: left behind: $*" >&2; bad=1; }
# A deleted pod's veth goes with its network namespace, destroyed by the
# kernel in its own worker after `delete` returned: wait for the pp* links
# to vanish (woken by netlink's link notifications, at most 10 s) first.
pp_links() { for l in /sys/class/net/pp*; do [ -e "$l" ] && return 0; done; return 1; }
if pp_links; then
  coproc watch { exec timeout 10 ip -o monitor link; }
  # bash unsets watch_PID and watch once the coprocess has ended (the
  # 10 s timeout): keep the pid, and let a closed pipe end the loop.
  watch_pid=$watch_PID
  while pp_links && read -r -t 10 _ <&"${watch[0]:-/dev/null}"; do :; done
  kill "$watch_pid" 2>/dev/null
  wait "$watch_pid" 2>/dev/null
fi
while read -r line; do report "mount $line"; done < <(awk '$5 ~ /peapod/ || $4 ~ /peapod/ {print $5}' /proc/self/mountinfo)
for l in /sys/class/net/*; do
  n=$(basename "$l")
  case "$n" in peapod0) ;; pp*|peapod*) report "link $n" ;; esac
done
while read -r d; do report "cgroup $d"; done < <(find /sys/fs/cgroup -mindepth 1 -maxdepth 4 -type d -name 'peapod*' 2>/dev/null)
if [ -d /run/netns ]; then
  for n in /run/netns/peapod*; do [ -e "$n" ] && report "netns $n"; done
fi
while read -r p; do report "process $p"; done < <(pgrep -a -f 'peapod (supervise|pause)' 2>/dev/null | grep -v pgrep || true)
if [ "$bad" = 0 ]; then echo "check-host-clean: nothing of peapod left on the host"; fi
exit "$bad"
