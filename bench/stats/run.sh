#!/usr/bin/env bash
# Side-by-side cost of container stats with N running containers (default 100), same busybox
# root filesystem for both engines:
#   gantry stats --no-stream      vs  podman stats --no-stream   (wall and CPU time, hyperfine)
#   one full sample inside a long-lived process (Engine.stats for every container, as the TUI
#   takes it once a second): median time per sample and per container, CPU time per sample
#   gantry stats (streaming, 1 s) vs  podman stats --interval 1   (CPU the sampler uses, over 20 s)
# podman runs with cgroupfs and runc (crun refuses this hybrid layout), a private --root/--runroot
# and --net=none. Needs root, hyperfine, podman, runc, umoci, busybox-static.
# Usage: bench/stats/run.sh [containers] [runs]
set -euo pipefail
# No bridge: a bench never touches the host's interfaces or firewall (podman runs --net=none).
export GANTRY_DEFAULT_NETWORK=none
count=${1:-100}
runs=${2:-10}
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=/tmp/gantry-bench-stats-$$
mkdir "$work"
# shellcheck source=../lib/gantry.sh
. "$repo/bench/lib/gantry.sh"
# shellcheck source=../lib/podman.sh
. "$repo/bench/lib/podman.sh"
# shellcheck source=../lib/busybox-image.sh
. "$repo/bench/lib/busybox-image.sh"
limits=("${podman_limits[@]}")
samplers=()

cleanup() {
  set +e
  for pid in "${samplers[@]}"; do kill "$pid" 2>/dev/null; done
  gantry_cleanup
  podman_cleanup || return
  rm -rf "$work"
}
trap cleanup EXIT

# One root filesystem: busybox and its applets, as an OCI image for both engines.
busybox_rootfs "$work/rootfs"
import_busybox_image "$work/rootfs"

echo "starting $count containers in each engine" >&2
for _ in $(seq "$count"); do
  "$gantry" run -d bb sleep 100000 >/dev/null
  "${podman[@]}" run -d --net=none "${limits[@]}" "$podman_image" sleep 100000 >/dev/null
done
[ "$("$gantry" ps -q | wc -l)" -eq "$count" ] || { echo "gantry: not all containers run" >&2; exit 1; }
[ "$("${podman[@]}" ps -q | wc -l)" -eq "$count" ] || { echo "podman: not all containers run" >&2; exit 1; }

hyperfine -N --warmup 2 --runs "$runs" --export-json "$work/oneshot.json" \
  -n "gantry stats --no-stream" "$gantry stats --no-stream" \
  -n "podman stats --no-stream" "${podman[*]} stats --no-stream" >&2

node "$repo/bench/stats/sample.mjs" "$GANTRY_ROOT" "$GANTRY_CGROUP_PARENT" 30 > "$work/sample.json"

# CPU (user+system, the process and what it reaped) a streaming sampler uses over 20 s.
cpu_ticks() { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat"; }
stream_cpu() {
  "$@" > /dev/null 2>&1 &
  local pid=$!
  samplers+=("$pid")
  sleep 3
  local before after
  before=$(cpu_ticks "$pid")
  sleep 20
  after=$(cpu_ticks "$pid")
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  # ticks are 1/100 s: percent of one CPU over 20 s
  awk -v a="$after" -v b="$before" 'BEGIN { printf "%.2f", (a - b) / 20 }'
}
gantry_stream=$(stream_cpu "$gantry" stats)
podman_stream=$(stream_cpu "${podman[@]}" stats --interval 1)

node - "$work/oneshot.json" "$work/sample.json" "$gantry_stream" "$podman_stream" "$count" <<'JS'
const fs = require('fs');
const [oneshot, sample, gantryStream, podmanStream, count] = process.argv.slice(2);
const results = JSON.parse(fs.readFileSync(oneshot, 'utf8')).results;
const find = (name) => results.find((r) => r.command === name);
const gantry = find('gantry stats --no-stream');
const podman = find('podman stats --no-stream');
const ms = (s) => `${(s * 1000).toFixed(1)} ms`;
const s = JSON.parse(fs.readFileSync(sample, 'utf8'));
console.log(`${count} running containers in each engine.\n`);
console.log('| measure | gantry | podman | ratio |');
console.log('|---|---|---|---|');
console.log(`| \`stats --no-stream\`, wall (median) | ${ms(gantry.median)} | ${ms(podman.median)} | ${(gantry.median / podman.median).toFixed(2)}x |`);
console.log(`| \`stats --no-stream\`, CPU user+sys (mean) | ${ms(gantry.user + gantry.system)} | ${ms(podman.user + podman.system)} | ${((gantry.user + gantry.system) / (podman.user + podman.system)).toFixed(2)}x |`);
console.log(`| streaming at 1 s, CPU of the sampler (% of one CPU) | ${gantryStream}% | ${podmanStream}% | ${(Number(gantryStream) / Number(podmanStream)).toFixed(2)}x |`);
console.log('');
console.log(`| one full sample in a live process (Engine.stats x ${s.containers}) | median |`);
console.log('|---|---|');
console.log(`| per sample | ${s.medianSampleMs.toFixed(1)} ms |`);
console.log(`| per container | ${s.medianPerContainerMs.toFixed(3)} ms |`);
console.log(`| CPU time per sample | ${s.medianCpuMsPerSample.toFixed(1)} ms |`);
console.log(`| samples with a CPU % (of ${s.containers}) | ${s.samplesWithCpuPercent} |`);
JS
