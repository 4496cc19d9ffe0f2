#!/usr/bin/env bash
# Side-by-side cost of one `exec` into a running container, on the same busybox root filesystem:
#   gantry exec C true   vs  podman exec C true (cgroupfs, runc, conmon)
# Both relay the process's stdio from outside the container (gantry: its helper, from a sealed
# memfd copy; podman: conmon), so neither hands the caller's fds to the container.
# Needs root, hyperfine, podman, runc, umoci, busybox-static. Usage: bench/exec/exec.sh [runs]
set -euo pipefail
# No bridge: a bench never touches the host's interfaces or firewall (podman runs --net=none).
export GANTRY_DEFAULT_NETWORK=none
runs=${1:-30}
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=/tmp/gantry-bench-exec-$$
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
"$gantry" run -d --name bench bb sleep 600 >/dev/null
"${podman[@]}" run -d --name bench --net=none "${limits[@]}" "$podman_image" sleep 600 >/dev/null

hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/exec.json" \
  -n "gantry exec" "$gantry exec bench true" \
  -n "podman exec" "${podman[*]} exec bench true" >&2

node - "$work/exec.json" <<'JS'
const fs = require('fs');
const results = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')).results;
const median = (name) => results.find((r) => r.command === name).median * 1000;
console.log('| gantry | median | peer | median | ratio |');
console.log('|---|---|---|---|---|');
const [a, b] = ['gantry exec', 'podman exec'];
console.log(`| ${a} | ${median(a).toFixed(1)} ms | ${b} | ${median(b).toFixed(1)} ms | ${(median(a) / median(b)).toFixed(2)}x |`);
JS
