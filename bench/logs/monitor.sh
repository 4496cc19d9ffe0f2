#!/usr/bin/env bash
# The monitor's log path side by side with conmon's: a detached container prints BYTES of short
# text lines as fast as it can while nobody reads, and times itself from inside (so engine start-up
# is not counted): gantry's monitor (its default log cap, 20 MB x 5 files, rotating) vs podman's
# conmon (k8s-file, podman's default: no cap), on the same busybox root filesystem; and, as the
# ceiling, the same producer into a pipe that `cat` drains to /dev/null inside the container.
# Each figure is the median of N runs. podman runs with cgroupfs and runc (crun refuses this
# hybrid layout) and a private --root/--runroot (bench/lib/podman.sh).
# Needs root, podman, conmon, runc, umoci, busybox-static.
# Usage: bench/logs/monitor.sh [runs] [bytes]
set -euo pipefail
# No bridge: a bench never touches the host's interfaces or firewall (podman runs --net=none).
export GANTRY_DEFAULT_NETWORK=none
runs=${1:-7}
bytes=${2:-200000000}
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=/tmp/gantry-bench-logs-$$
mkdir "$work"
# shellcheck source=../lib/gantry.sh
. "$repo/bench/lib/gantry.sh"
# shellcheck source=../lib/podman.sh
. "$repo/bench/lib/podman.sh"
# shellcheck source=../lib/busybox-image.sh
. "$repo/bench/lib/busybox-image.sh"
limits=("${podman_limits[@]}")

cleanup() {
  set +e
  gantry_cleanup
  podman_cleanup || return
  rm -rf "$work"
}
trap cleanup EXIT

busybox_rootfs "$work/rootfs"
import_busybox_image "$work/rootfs"

# 48-byte lines (a typical short log line); the elapsed time in hundredths of a second (the
# resolution of /proc/uptime) goes to stderr last, after every byte of stdout was written.
line='2026-01-01 12:00:00 INFO request served in 3 ms'
producer="t0=\$(cut -d' ' -f1 /proc/uptime); yes '$line' | head -c $bytes SINK; t1=\$(cut -d' ' -f1 /proc/uptime); echo \"elapsed \$t0 \$t1\" >&2"
to_log=${producer/SINK/}
to_pipe=${producer/SINK/| cat >/dev/null}

# Prints the seconds one run took, from the container's last log line.
seconds() { awk '/^elapsed/ { printf "%.2f\n", $3 - $2 }'; }

gantry_run() {
  local id
  id=$("$gantry" run -d bb sh -c "$1")
  "$gantry" wait "$id" >/dev/null
  "$gantry" logs --tail 1 "$id" 2>&1 | seconds
  "$gantry" rm "$id" >/dev/null
}
podman_run() {
  local id
  id=$("${podman[@]}" run -d --net=none "${limits[@]}" "$podman_image" sh -c "$1")
  "${podman[@]}" wait "$id" >/dev/null
  "${podman[@]}" logs --tail 1 "$id" 2>&1 | seconds
  "${podman[@]}" rm "$id" >/dev/null
}

: > "$work/t-gantry" && : > "$work/t-conmon" && : > "$work/t-pipe"
for run in $(seq "$runs"); do
  echo "run $run of $runs" >&2
  gantry_run "$to_log" >> "$work/t-gantry"
  podman_run "$to_log" >> "$work/t-conmon"
  gantry_run "$to_pipe" >> "$work/t-pipe"
done

node - "$bytes" "$work/t-gantry" "$work/t-conmon" "$work/t-pipe" <<'JS'
const fs = require('fs');
const [bytes, ...files] = process.argv.slice(2);
const median = (file) => {
  const values = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number).sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)];
};
const rate = (seconds) => Number(bytes) / 1e6 / seconds;
const [gantry, conmon, pipe] = files.map(median);
console.log('| path | median time | throughput |');
console.log('|---|---|---|');
console.log(`| gantry monitor (log, 20 MB x 5) | ${gantry.toFixed(2)} s | ${rate(gantry).toFixed(1)} MB/s |`);
console.log(`| conmon (k8s-file) | ${conmon.toFixed(2)} s | ${rate(conmon).toFixed(1)} MB/s |`);
console.log(`| pipe to cat >/dev/null | ${pipe.toFixed(2)} s | ${rate(pipe).toFixed(1)} MB/s |`);
console.log('');
console.log(`gantry / conmon throughput: ${(conmon / gantry).toFixed(2)}x`);
JS
