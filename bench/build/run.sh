#!/usr/bin/env bash
# Build cache side by side: gantry build vs podman build on the same Containerfile and the same
# base root filesystem (gantry's from-host busybox image, imported into podman with
# `podman import`), timed with hyperfine:
#   hit:   a rebuild with nothing changed (every step from the cache)
#   late:  a rebuild after the file of the last step (COPY) changed: all earlier steps cached
#   cold:  --no-cache, for scale
# podman runs with cgroupfs and runc (crun refuses this hybrid layout), all its state in the work
# directory (lib/podman.sh), --network=none and the ulimits below. Needs root, hyperfine, podman, runc.
# Usage: bench/build/run.sh [runs]
set -euo pipefail
runs=${1:-10}
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=/tmp/gantry-bench-build-$$
mkdir "$work"
# shellcheck source=../lib/gantry.sh
. "$repo/bench/lib/gantry.sh"
# shellcheck source=../lib/podman.sh
. "$repo/bench/lib/podman.sh"
build_flags=(--network=none "${podman_limits[@]}")

cleanup() {
  set +e
  gantry_cleanup
  podman_cleanup || return
  rm -rf "$work"
}
trap cleanup EXIT

# One base for both: the busybox root filesystem gantry builds from the host.
"$gantry" image from-host demo >/dev/null
chain=$(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1]));console.log(r.layers[0].chainId.slice(7))' \
  "$(ls "$GANTRY_ROOT"/images/*.json | head -1)")
tar -C "$GANTRY_ROOT/layers/$chain/diff" -cf "$work/base.tar" .
"${podman[@]}" import -q --change 'CMD ["/bin/sh"]' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' "$work/base.tar" demo >/dev/null

context="$work/context"
mkdir -p "$context/app"
for i in $(seq 1 200); do head -c 4096 /dev/urandom > "$context/app/file-$i.bin"; done
date +%s%N > "$context/last.txt"
cat > "$context/Containerfile" <<'CONTAINERFILE'
FROM demo
ENV APP=/srv/app
RUN mkdir -p /var/lib/app && dd if=/dev/zero of=/var/lib/app/data bs=1M count=16 2>/dev/null
RUN echo configured > /etc/app.conf
WORKDIR /srv/app
COPY app/ ./
RUN ls /srv/app | wc -l > /srv/count
COPY last.txt /srv/last.txt
CMD ["cat", "/srv/last.txt"]
CONTAINERFILE

gantry_build="$gantry build -q -t bench:1 $context"
podman_build="${podman[*]} build -q ${build_flags[*]} -t bench:1 $context"
# Prime both caches.
$gantry_build >/dev/null
$podman_build >/dev/null
touch_last="sh -c 'date +%s%N > $context/last.txt'"

hyperfine -N --warmup 1 --runs "$runs" --export-json "$work/hit.json" \
  -n "gantry build (all cached)" "$gantry_build" \
  -n "podman build (all cached)" "$podman_build" >&2
hyperfine -N --warmup 1 --runs "$runs" --prepare "$touch_last" --export-json "$work/late.json" \
  -n "gantry build (last step changed)" "$gantry_build" \
  -n "podman build (last step changed)" "$podman_build" >&2
hyperfine -N --runs 3 --export-json "$work/cold.json" \
  -n "gantry build --no-cache" "$gantry build -q --no-cache -t bench:cold $context" \
  -n "podman build --no-cache" "${podman[*]} build -q --no-cache ${build_flags[*]} -t bench:cold $context" >&2

echo "| scenario | gantry (median) | podman (median) | podman/gantry | gantry CPU (mean) | podman CPU (mean) |"
echo "| --- | --- | --- | --- | --- | --- |"
node -e '
  const fs = require("fs");
  for (const name of ["hit", "late", "cold"]) {
    const { results } = JSON.parse(fs.readFileSync(`${process.argv[1]}/${name}.json`));
    const [g, p] = results;
    const ms = (s) => (s * 1000).toFixed(1) + " ms";
    const cpu = (r) => ms(r.user + r.system);
    console.log(`| ${name} | ${ms(g.median)} | ${ms(p.median)} | ${(p.median / g.median).toFixed(2)}x | ${cpu(g)} | ${cpu(p)} |`);
  }' "$work"
