#!/usr/bin/env bash
# gantry-oci against runc, command by command, on the bundle `runc spec` writes over a busybox
# root (terminal off, `args: ["sleep", "600"]`): create, start, state, kill, delete, the calls a
# driver (conmon, containerd's shim) makes for every container. Each command is measured on a
# container in the state it needs, made by hyperfine's --prepare (not timed); both runtimes in the
# same run. Needs root, hyperfine, runc, busybox-static. Usage: bench/oci/commands.sh [runs]
set -euo pipefail
runs=${1:-20}
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=/tmp/gantry-bench-oci-$$
mkdir -p "$work/bundle/rootfs/bin"
export GANTRY_CGROUP_PARENT="gantry-bench-oci-$$"
oci="$repo/bin/gantry-oci.js --root $work/gantry-oci"
runc="runc --root $work/runc"

cleanup() {
  set +e
  $oci delete --force g >/dev/null 2>&1
  $runc delete --force r >/dev/null 2>&1
  for dir in /sys/fs/cgroup/*/"$GANTRY_CGROUP_PARENT" /sys/fs/cgroup/*/gantry-bench-oci-runc-$$; do
    [ -d "$dir" ] && rmdir "$dir"
  done
  rm -rf "$work"
}
trap cleanup EXIT

cp "$(command -v busybox)" "$work/bundle/rootfs/bin/busybox"
for applet in sh sleep; do ln -s busybox "$work/bundle/rootfs/bin/$applet"; done
(cd "$work/bundle" && runc spec)
# Both runtimes' containers get a cgroup of this run: runc's under a parent of its own.
node -e '
const fs = require("fs");
const file = process.argv[1];
const spec = JSON.parse(fs.readFileSync(file, "utf8"));
spec.process.terminal = false;
spec.process.args = ["sleep", "600"];
fs.writeFileSync(file, JSON.stringify(spec));
' "$work/bundle/config.json"
mkdir "$work/runc-bundle"
node -e '
const fs = require("fs");
const [file, out, root, parent] = process.argv.slice(1);
const spec = JSON.parse(fs.readFileSync(file, "utf8"));
spec.root.path = root;
spec.linux.cgroupsPath = "/" + parent + "/r";
fs.writeFileSync(out, JSON.stringify(spec));
' "$work/bundle/config.json" "$work/runc-bundle/config.json" "$work/bundle/rootfs" "gantry-bench-oci-runc-$$"

g_create="$oci create --bundle $work/bundle g >/dev/null 2>&1 </dev/null"
r_create="$runc create --bundle $work/runc-bundle r >/dev/null 2>&1 </dev/null"
g_gone="$oci delete --force g >/dev/null 2>&1 || true"
r_gone="$runc delete --force r >/dev/null 2>&1 || true"

bench() {
  local name=$1 g_prepare=$2 g_command=$3 r_prepare=$4 r_command=$5
  hyperfine --warmup 3 --runs "$runs" --export-json "$work/$name.json" \
    --prepare "$g_prepare" -n "gantry-oci $name" "$g_command" \
    --prepare "$r_prepare" -n "runc $name" "$r_command" >&2
}

bench create "$g_gone" "$g_create" "$r_gone" "$r_create"
bench start "$g_gone; $g_create" "$oci start g" "$r_gone; $r_create" "$runc start r"
$oci delete --force g >/dev/null 2>&1 || true
$runc delete --force r >/dev/null 2>&1 || true
eval "$g_create" && $oci start g
eval "$r_create" && $runc start r
bench state "true" "$oci state g" "true" "$runc state r"
# The floor under every gantry-oci command: starting node itself.
hyperfine --warmup 3 --runs "$runs" --export-json "$work/node.json" -n "node -e 0" "node -e 0" >&2
bench kill "$g_gone; $g_create; $oci start g" "$oci kill g KILL" "$r_gone; $r_create; $runc start r" "$runc kill r KILL"
bench delete "$g_gone; $g_create; $oci start g" "$oci delete --force g" \
  "$r_gone; $r_create; $runc start r" "$runc delete --force r"

node - "$work" <<'JS'
const fs = require('fs');
const work = process.argv[2];
console.log('| command | gantry-oci median | runc median | ratio |');
console.log('|---|---|---|---|');
for (const name of ['create', 'start', 'state', 'kill', 'delete']) {
  const results = JSON.parse(fs.readFileSync(`${work}/${name}.json`, 'utf8')).results;
  const median = (prefix) => results.find((r) => r.command === `${prefix} ${name}`).median * 1000;
  const [g, r] = [median('gantry-oci'), median('runc')];
  console.log(`| ${name} | ${g.toFixed(1)} ms | ${r.toFixed(1)} ms | ${(g / r).toFixed(2)}x |`);
}
const node = JSON.parse(fs.readFileSync(`${work}/node.json`, 'utf8')).results[0].median * 1000;
console.log(`| (node -e 0, the floor) | ${node.toFixed(1)} ms | | |`);
JS
