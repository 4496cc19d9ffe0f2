#!/usr/bin/env bash
# `gantry image tree` on an image of about 200 MB: wall time and peak memory (/usr/bin/time -v),
# median of N runs, for the JSON (every layer's full change tree) and the text views.
#
# The image is built with `gantry build` (no network is used):
#  - with GANTRY_BENCH_BASE_LAYOUT=DIR (an OCI layout, e.g. the Debian bookworm minbase that
#    bench/images/run.sh makes with debootstrap): that image, plus three careless steps: `touch`
#    every binary (each one copied up and stored twice), delete /usr/share/doc, /usr/share/man and
#    /usr/share/locale (whiteouts) and replace /usr/share/perl5 (an opaque directory);
#  - without it: from the host's own files, a base layer of about 200 MB (python3 and
#    python3.11, perl, vim, i18n, zoneinfo, mime, X11 data) on the demo image, a layer that copies
#    /usr/share/vim again (stored twice), and a RUN layer that deletes a directory (whiteouts) and
#    replaces another (an opaque directory).
# Needs root.
# Usage: bench/tree/run.sh [runs]
set -euo pipefail
runs=${1:-5}
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=/tmp/gantry-bench-tree-$$
mkdir "$work"
# shellcheck source=../lib/gantry.sh
. "$repo/bench/lib/gantry.sh"

cleanup() {
  set +e
  gantry_cleanup
  rm -rf "$work"
}
trap cleanup EXIT

context="$work/context"
mkdir -p "$context"
"$gantry" image from-host demo >/dev/null
if [ -n "${GANTRY_BENCH_BASE_LAYOUT:-}" ]; then
  "$gantry" image import "$GANTRY_BENCH_BASE_LAYOUT" base:latest >/dev/null
  cat > "$context/Containerfile" <<'CONTAINERFILE'
FROM base
RUN touch /usr/bin/* /usr/sbin/*
RUN rm -rf /usr/share/doc /usr/share/man /usr/share/locale
RUN rm -rf /usr/share/perl5 && mkdir /usr/share/perl5 && echo replaced > /usr/share/perl5/README
CONTAINERFILE
else
  mkdir -p "$context/base/usr/lib" "$context/base/usr/share" "$context/again/usr/share"
  cp -a /usr/lib/python3.11 /usr/lib/python3 "$context/base/usr/lib/"
  for dir in perl vim i18n zoneinfo mime X11; do cp -a "/usr/share/$dir" "$context/base/usr/share/"; done
  cp -a /usr/share/vim "$context/again/usr/share/"
  cat > "$context/Containerfile" <<'CONTAINERFILE'
FROM demo
COPY base/ /
COPY again/ /
RUN rm -rf /usr/share/i18n && rm -rf /usr/lib/python3.11/test && mkdir /usr/lib/python3.11/test && echo new > /usr/lib/python3.11/test/README
CONTAINERFILE
fi
/usr/bin/time -f 'build: %e s, %M KiB peak' "$gantry" build -q -t big:1 "$context" >/dev/null

summary=$("$gantry" image tree --json big:1 | node -e '
  let text = ""; process.stdin.on("data", (c) => (text += c)).on("end", () => {
    const t = JSON.parse(text);
    let files = 0;
    const count = (n) => { if (n.type !== "directory") files += 1; for (const c of n.children ?? []) count(c); };
    for (const l of t.layers) count(l.changes);
    console.log(`${(t.totalBytes / 1e6).toFixed(1)} MB in ${t.layers.length} layers, ${files} non-directory entries in the change trees, efficiency ${(t.efficiency * 100).toFixed(2)}%, wasted ${(t.wastedBytes / 1e6).toFixed(1)} MB, ${t.inefficiencies.length} inefficient paths`);
  });')
echo "image: $summary" >&2

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

measure() {
  local label=$1
  shift
  local times=() cpus=() peaks=()
  for _ in $(seq "$runs"); do
    local out
    out=$( { /usr/bin/time -f '%e %U %S %M' "$@" >/dev/null; } 2>&1 | tail -1)
    read -r wall user system peak <<<"$out"
    times+=("$wall")
    cpus+=("$(awk -v u="$user" -v s="$system" 'BEGIN { printf "%.2f", u + s }')")
    peaks+=("$peak")
  done
  local time cpu peak
  time=$(printf '%s\n' "${times[@]}" | median)
  cpu=$(printf '%s\n' "${cpus[@]}" | median)
  peak=$(printf '%s\n' "${peaks[@]}" | median)
  echo "| $label | ${time} s | ${cpu} s | $((peak / 1024)) MiB |"
}

echo "| command | wall (median of $runs) | CPU user+sys (median) | peak RSS (median) |"
echo "| --- | --- | --- | --- |"
measure '`gantry image tree --json big:1`' "$gantry" image tree --json big:1
measure '`gantry image tree big:1` (text, depth 4)' "$gantry" image tree big:1
measure '`gantry image tree --depth 0 big:1` (text, everything)' "$gantry" image tree --depth 0 big:1
measure '`gantry image history big:1`' "$gantry" image history big:1
measure '`gantry images` (baseline: Node start and the store)' "$gantry" images
