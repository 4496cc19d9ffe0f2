#!/usr/bin/env bash
# `logs --tail 10` of a 1 GB log, side by side with podman: each engine's container writes the
# same 1 GB of short lines into its own log with no cap (gantry --log-opt max-size=-1, podman's
# k8s-file default), then hyperfine times `gantry logs --tail 10` against `podman logs --tail 10`
# (median of N runs), and GNU time gives the peak memory of one run of each. Also `logs | head -2`
# (the reader goes away after two lines). podman runs with cgroupfs and runc, private --root and
# --runroot (bench/lib/podman.sh). Needs root, hyperfine, podman, runc, umoci, busybox-static,
# GNU time, and about 2.2 GB free in /tmp.
# Usage: bench/logs/tail.sh [runs] [bytes]
set -euo pipefail
# No bridge: a bench never touches the host's interfaces or firewall (podman runs --net=none).
export GANTRY_DEFAULT_NETWORK=none
runs=${1:-10}
bytes=${2:-1000000000}
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=/tmp/gantry-bench-tail-$$
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

producer="yes '2026-01-01 12:00:00 INFO request served in 3 ms' | head -c $bytes"
echo "writing $bytes bytes of output in each engine" >&2
"$gantry" run --name big --log-opt max-size=-1 bb sh -c "$producer" >/dev/null
"${podman[@]}" run --name big --net=none "${limits[@]}" "$podman_image" sh -c "$producer" >/dev/null
gantry_log=$("$gantry" inspect -f '{{.LogPath}}' big)
podman_log=$("${podman[@]}" inspect -f '{{.HostConfig.LogConfig.Path}}' big)
[ -n "$podman_log" ] || podman_log=$("${podman[@]}" inspect -f '{{.LogPath}}' big)
echo "log files: gantry $(stat -c %s "$gantry_log") bytes, podman $(stat -c %s "$podman_log") bytes" >&2

hyperfine -N --warmup 2 --runs "$runs" --export-json "$work/tail.json" \
  -n "gantry logs --tail 10" "$gantry logs --tail 10 big" \
  -n "podman logs --tail 10" "${podman[*]} logs --tail 10 big" >&2
hyperfine --warmup 1 --runs "$runs" --export-json "$work/head.json" \
  -n "gantry logs | head -2" "$gantry logs big | head -2" \
  -n "podman logs | head -2" "${podman[*]} logs big | head -2" >&2

peak() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
gantry_peak=$(peak "$gantry" logs --tail 10 big)
podman_peak=$(peak "${podman[@]}" logs --tail 10 big)

node - "$work/tail.json" "$work/head.json" "$gantry_peak" "$podman_peak" <<'JS'
const fs = require('fs');
const [tail, head, gantryPeak, podmanPeak] = process.argv.slice(2);
const results = [tail, head].flatMap((file) => JSON.parse(fs.readFileSync(file, 'utf8')).results);
const median = (name) => results.find((r) => r.command === name).median * 1000;
const row = (name, peer) =>
  `| ${name} | ${median(name).toFixed(1)} ms | ${peer} | ${median(peer).toFixed(1)} ms | ${(median(name) / median(peer)).toFixed(2)}x |`;
console.log('| gantry | median | podman | median | ratio |');
console.log('|---|---|---|---|---|');
console.log(row('gantry logs --tail 10', 'podman logs --tail 10'));
console.log(row('gantry logs | head -2', 'podman logs | head -2'));
console.log('');
console.log(`| peak RSS, logs --tail 10 | gantry ${gantryPeak} kB | podman ${podmanPeak} kB |`);
console.log('|---|---|---|');
JS
