#!/usr/bin/env bash
# Import + unpack of a Debian bookworm minbase image (debootstrap, about 200 MB unpacked, one gzip
# layer) side by side: `gantry image import` (verify, unpack to an overlay lower dir, commit to
# the store, one syncfs) vs `umoci unpack` (verify, unpack to a runtime bundle) vs `skopeo copy`
# into containers-storage (vfs driver, private root: verify, unpack into the store), plus
# `skopeo copy` to another OCI layout (blob copy only, no unpacking) for scale. Page cache warm for
# all (hyperfine --warmup 1), each run starts from an empty target.
# Needs root (owners, device nodes), debootstrap on first use (Debian mirror from apt's sources),
# hyperfine, umoci, skopeo.
# Usage: bench/images/run.sh [runs]
#   GANTRY_BENCH_DIR      keeps the rootfs and the layout between runs (default /tmp/gantry-bench-images)
#   GANTRY_BENCH_TARGETS  where the tools write (default $GANTRY_BENCH_DIR/targets; /dev/shm takes
#                         the disk out of the measure, which on a shared VM disk is mostly noise)
set -euo pipefail
runs=${1:-5}
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${GANTRY_BENCH_DIR:-/tmp/gantry-bench-images}
mkdir -p "$work"
rootfs="$work/rootfs"
layout="$work/layout"
if [ ! -x "$rootfs/usr/bin/dpkg" ]; then
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  debootstrap --variant=minbase bookworm "$rootfs" "${mirror:-http://deb.debian.org/debian}" >"$work/debootstrap.log"
fi
[ -f "$layout/index.json" ] || node "$repo/bench/images/make-layout.mjs" "$rootfs" "$layout" bookworm
echo "rootfs: $(du -sh --apparent-size "$rootfs" | cut -f1), layer: $(du -sh --apparent-size "$layout/blobs" | cut -f1) compressed"

targets=${GANTRY_BENCH_TARGETS:-$work/targets}/gantry-bench-$$
cleanup() { rm -rf "$targets"; }
trap cleanup EXIT
mkdir -p "$targets"
echo "targets: $targets ($(df -T "$(dirname "$targets")" | awk 'NR==2 {print $2}'))"
hyperfine --runs "$runs" --warmup 1 --export-json "$work/results.json" \
  --prepare "rm -rf $targets/gantry" -n 'gantry image import' \
  "GANTRY_ROOT=$targets/gantry node $repo/bin/gantry.js image import $layout debian:bookworm" \
  --prepare "rm -rf $targets/bundle" -n 'umoci unpack' \
  "umoci unpack --image $layout:bookworm $targets/bundle" \
  --prepare "rm -rf $targets/storage" -n 'skopeo copy to containers-storage (vfs)' \
  "skopeo copy --quiet oci:$layout:bookworm containers-storage:[vfs@$targets/storage/root+$targets/storage/runroot]bench:latest" \
  --prepare "rm -rf $targets/oci" -n 'skopeo copy to oci (no unpack)' \
  "skopeo copy --quiet oci:$layout:bookworm oci:$targets/oci:bookworm"
node -e '
const r = require(process.argv[1]).results;
const median = (x) => x.median * 1000;
const gantry = median(r[0]);
for (const x of r) console.log(`${x.command.padEnd(42)} median ${median(x).toFixed(0).padStart(6)} ms  mean ${(x.mean * 1000).toFixed(0).padStart(6)} ms  ratio to gantry ${(median(x) / gantry).toFixed(2)}x`);
' "$work/results.json"
