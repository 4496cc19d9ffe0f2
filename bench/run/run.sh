#!/usr/bin/env bash
# Side-by-side cost of running a container to completion, on the same busybox root filesystem:
#   gantry run --rm IMAGE true      vs  podman run --rm --net=none IMAGE true (cgroupfs, runc)
#   gantry-oci run BUNDLE           vs  runc run BUNDLE
# and the resident memory of gantry's per-container monitor vs podman's conmon.
# Needs root, hyperfine, podman, runc, umoci, busybox-static. Usage: bench/run/run.sh [runs]
set -euo pipefail
# No bridge: a bench never touches the host's interfaces or firewall (podman runs --net=none).
export GANTRY_DEFAULT_NETWORK=none
runs=${1:-30}
repo=$(cd "$(dirname "$0")/../.." && pwd)
# Lower case: podman takes the image layout path as part of a reference.
work=/tmp/gantry-bench-run-$$
mkdir "$work"
gantry_oci="$repo/bin/gantry-oci.js"
# shellcheck source=../lib/gantry.sh
. "$repo/bench/lib/gantry.sh"
# shellcheck source=../lib/podman.sh
. "$repo/bench/lib/podman.sh"
# shellcheck source=../lib/busybox-image.sh
. "$repo/bench/lib/busybox-image.sh"
limits=("${podman_limits[@]}")

cleanup() {
  set +e
  "$gantry_oci" --root "$work/oci" delete -f bench >/dev/null 2>&1
  runc --root "$work/runc" delete -f bench >/dev/null 2>&1
  gantry_cleanup
  podman_cleanup || return
  rm -rf "$work"
}
trap cleanup EXIT

# One root filesystem, the OCI runtimes' bundle; the same tree as an image for gantry and podman.
busybox_rootfs "$work/bundle/rootfs"
import_busybox_image "$work/bundle/rootfs"

# The bundle for the OCI runtimes.
(cd "$work/bundle" && runc spec)
sed -i 's/"terminal": true/"terminal": false/; s/"sh"$/"true"/' "$work/bundle/config.json"
node -e '
const fs = require("fs"); const f = process.argv[1];
const spec = JSON.parse(fs.readFileSync(f, "utf8")); spec.process.args = ["true"]; spec.root.readonly = true;
fs.writeFileSync(f, JSON.stringify(spec, null, 2));' "$work/bundle/config.json"

hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/run.json" \
  -n "gantry run" "$gantry run --rm bb true" \
  -n "podman run" "${podman[*]} run --rm --net=none ${limits[*]} $podman_image true" \
  -n "gantry-oci run" "$gantry_oci --root $work/oci run --bundle $work/bundle bench" \
  -n "runc run" "runc --root $work/runc run --bundle $work/bundle bench" >&2

# Resident memory of the per-container monitor, with the container idle in `sleep`.
id=$("$gantry" run -d bb sleep 60)
init=$("$gantry" inspect -f '{{.State.Pid}}' "$id")
monitor=$(awk '{print $4}' "/proc/$init/stat")
gantry_rss=$(awk '/^VmRSS/ {print $2}' "/proc/$monitor/status")
pid=$("${podman[@]}" run -d --net=none "${limits[@]}" "$podman_image" sleep 60)
conmon=$("${podman[@]}" inspect -f '{{.State.ConmonPid}}' "$pid")
conmon_rss=$(awk '/^VmRSS/ {print $2}' "/proc/$conmon/status")

node - "$work/run.json" "$gantry_rss" "$conmon_rss" <<'JS'
const fs = require('fs');
const [file, gantryRss, conmonRss] = process.argv.slice(2);
const results = JSON.parse(fs.readFileSync(file, 'utf8')).results;
const median = (name) => results.find((r) => r.command === name).median * 1000;
const row = (name, peer) => `| ${name} | ${median(name).toFixed(1)} ms | ${peer} | ${median(peer).toFixed(1)} ms | ${(median(name) / median(peer)).toFixed(2)}x |`;
console.log('| gantry | median | peer | median | ratio |');
console.log('|---|---|---|---|---|');
console.log(row('gantry run', 'podman run'));
console.log(row('gantry-oci run', 'runc run'));
console.log('');
console.log(`| monitor RSS | gantry-init ${gantryRss} kB | conmon ${conmonRss} kB | ratio ${(gantryRss / conmonRss).toFixed(2)}x |`);
JS
