#!/usr/bin/env bash
# `logs --tail 10` of a 1 GB log, side by side with podman: each engine's container writes the
# same 1 GB of short lines into its own log with no cap (gantry --log-opt max-size=-1, podman's
# k8s-file default), then hyperfine times `gantry logs --tail 10` against `podman logs --tail 10`
# (median of N runs), and GNU time gives the peak memory of one run of each. Also `logs | head -2`
# (the reader goes away after two lines). The floor is coreutils' `tail -n 10` of gantry's log file
# itself (a plain file of the same size, seeking to its end), timed in the same hyperfine run; GNU
# time -v gives elapsed time and peak memory of one run of each. podman runs with cgroupfs and
# runc, private --root and --runroot (bench/lib/podman.sh). Needs root, hyperfine, podman, runc,
# umoci, busybox-static, GNU time, and about 2.2 GB free in /tmp. One more gantry container with a
# 1 MB log shows that the memory of `logs --tail 10` does not grow with the log.
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
# The same lines, 1 MB of them: memory that is flat reads the same at 1 MB as at 1 GB.
"$gantry" run --name small --log-opt max-size=-1 bb sh -c "${producer/$bytes/1000000}" >/dev/null
gantry_log=$("$gantry" inspect -f '{{.LogPath}}' big)
podman_log=$("${podman[@]}" inspect -f '{{.HostConfig.LogConfig.Path}}' big)
[ -n "$podman_log" ] || podman_log=$("${podman[@]}" inspect -f '{{.LogPath}}' big)
echo "log files: gantry $(stat -c %s "$gantry_log") bytes, podman $(stat -c %s "$podman_log") bytes" >&2

hyperfine -N --warmup 2 --runs "$runs" --export-json "$work/tail.json" \
  -n "gantry logs --tail 10" "$gantry logs --tail 10 big" \
  -n "podman logs --tail 10" "${podman[*]} logs --tail 10 big" \
  -n "tail -n 10 (plain file)" "tail -n 10 $gantry_log" \
  -n "node -e 0 (gantry's floor)" "node -e 0" >&2
hyperfine --warmup 1 --runs "$runs" --export-json "$work/head.json" \
  -n "gantry logs | head -2" "$gantry logs big | head -2" \
  -n "podman logs | head -2" "${podman[*]} logs big | head -2" >&2

# One run of each under GNU time -v: "elapsed (wall clock)" and "maximum resident set size".
timed() {
  /usr/bin/time -v "$@" 2>&1 >/dev/null |
    awk -F': ' '/Elapsed \(wall clock\)/ { e = $2 } /Maximum resident set size/ { m = $2 } END { print e, m }'
}
gantry_v=$(timed "$gantry" logs --tail 10 big)
podman_v=$(timed "${podman[@]}" logs --tail 10 big)
tail_v=$(timed tail -n 10 "$gantry_log")
small_v=$(timed "$gantry" logs --tail 10 small)

node - "$work/tail.json" "$work/head.json" "$gantry_v" "$podman_v" "$tail_v" "$small_v" <<'JS'
const fs = require('fs');
const [tail, head, ...timed] = process.argv.slice(2);
const results = [tail, head].flatMap((file) => JSON.parse(fs.readFileSync(file, 'utf8')).results);
const result = (name) => results.find((r) => r.command === name);
const median = (name) => result(name).median * 1000;
// CPU time (user + system, mean) is steadier than wall time on a loaded machine.
const cpu = (name) => ((result(name).user + result(name).system) * 1000).toFixed(0);
const cell = (name) => name.replace(/\|/g, '\\|');
const row = (name, peer) =>
  `| ${cell(name)} | ${median(name).toFixed(1)} ms (CPU ${cpu(name)} ms) | ${cell(peer)} | ${median(peer).toFixed(1)} ms (CPU ${cpu(peer)} ms) | ${(median(name) / median(peer)).toFixed(2)}x |`;
console.log('| gantry | median (CPU) | peer | median (CPU) | ratio |');
console.log('|---|---|---|---|---|');
console.log(row('gantry logs --tail 10', 'podman logs --tail 10'));
console.log(row('gantry logs | head -2', 'podman logs | head -2'));
console.log(row('gantry logs --tail 10', 'tail -n 10 (plain file)'));
console.log(row('gantry logs --tail 10', "node -e 0 (gantry's floor)"));
console.log('');
console.log('| one run under /usr/bin/time -v | elapsed (wall clock) | maximum RSS |');
console.log('|---|---|---|');
const names = [
  'gantry logs --tail 10',
  'podman logs --tail 10',
  'tail -n 10 (plain file)',
  'gantry logs --tail 10 of a 1 MB log',
];
timed.forEach((line, i) => {
  const [elapsed, rss] = line.split(' ');
  console.log(`| ${names[i]} | ${elapsed} | ${rss} kB |`);
});
JS
