#!/usr/bin/env bash
# Published ports, side by side, in a network namespace of the benchmark's own (nothing touches
# the host's interfaces, routes or firewall; traffic goes to 127.0.0.1 and container addresses):
#   1. startup: `run --rm -p 127.0.0.1:PORT:80 bb true` in gantry and in podman (netavark), and
#      both with no network at all, as the baseline the network's cost is added to (hyperfine);
#   2. connections/s and throughput to a busybox httpd in a container
#     - through a port gantry published (kernel DNAT, nftables)       127.0.0.1:18300
#     - through a port podman published (netavark, its DNAT rules)    127.0.0.1:18301
#     - to the gantry container's own address (no DNAT)               <address>:80
#   measured with ApacheBench (ab): -n requests, one new connection each, a tiny file for the
#   connection rate, a 16 MiB file (in the container's tmpfs) for the throughput.
# Needs root, ab (apache2-utils), hyperfine, podman with netavark (Debian package netavark), runc,
# umoci, busybox-static.
# Usage: bench/network/run.sh [connections] [transfers] [startup-runs]
set -euo pipefail
connections=${1:-4000}
transfers=${2:-40}
startup_runs=${3:-20}
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=/tmp/gantry-bench-network-$$
netns=gantry-bench-network-$$
mkdir "$work"
# shellcheck source=../lib/gantry.sh
. "$repo/bench/lib/gantry.sh"
# shellcheck source=../lib/podman.sh
. "$repo/bench/lib/podman.sh"
# podman's networks in this run's directory, netavark as the backend (after lib/podman.sh, which
# writes the file this extends).
printf '[network]\nnetwork_backend = "netavark"\nnetwork_config_dir = "%s"\n' \
  "$work/podman-networks" >> "$work/containers.conf"
# shellcheck source=../lib/busybox-image.sh
. "$repo/bench/lib/busybox-image.sh"
limits=("${podman_limits[@]}")
inside=(nsenter "--net=/run/netns/$netns" --)

cleanup() {
  set +e
  "${inside[@]}" "$gantry" rm -f web >/dev/null 2>&1
  "${inside[@]}" "${podman[@]}" rm -f -t 0 web >/dev/null 2>&1
  gantry_cleanup
  podman_cleanup || return
  ip netns delete "$netns"
  rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$netns"
ip -n "$netns" link set lo up
busybox_rootfs "$work/rootfs"
import_busybox_image "$work/rootfs"

# The same server in both: busybox httpd serving a tiny file and a 16 MiB one from tmpfs.
serve='mkdir -p /tmp/www && echo ok > /tmp/www/small && dd if=/dev/zero of=/tmp/www/big bs=1M count=16 2>/dev/null && exec httpd -f -p 80 -h /tmp/www'
# podman first: netavark's default network is 10.88.0.0/16, and gantry's default network then
# takes the next /16 free of the namespace's routes.
"${inside[@]}" "${podman[@]}" run -d --name web -p 127.0.0.1:18301:80 "${limits[@]}" "$podman_image" sh -c "$serve" >/dev/null
"${inside[@]}" "$gantry" run -d --name web -p 127.0.0.1:18300:80 bb sh -c "$serve" >/dev/null
address=$("${inside[@]}" "$gantry" inspect -f '{{.NetworkSettings.IPAddress}}' web)
podman_address=$("${inside[@]}" "${podman[@]}" inspect -f '{{.NetworkSettings.IPAddress}}' web)
echo "bench: gantry's container at $address, podman's at $podman_address" >&2
for url in "http://127.0.0.1:18300/small" "http://127.0.0.1:18301/small" "http://$address/small"; do
  until "${inside[@]}" wget -qO /dev/null "$url"; do sleep 0.1; done
done

# Startup with a published port, and with no network as the baseline; the servers above keep
# running, so both engines' rule sets already hold a port as they would in use.
in_netns="nsenter --net=/run/netns/$netns --"
hyperfine -N --warmup 3 --runs "$startup_runs" --export-json "$work/startup.json" \
  -n "gantry run -p" "$in_netns $gantry run --rm -p 127.0.0.1:18310:80 bb true" \
  -n "podman run -p" "$in_netns ${podman[*]} run --rm -p 127.0.0.1:18311:80 ${limits[*]} $podman_image true" \
  -n "gantry run --network none" "$in_netns $gantry run --rm --network none bb true" \
  -n "podman run --network none" "$in_netns ${podman[*]} run --rm --network none ${limits[*]} $podman_image true" >&2

declare -A rate throughput
measure() {
  local name=$1 base=$2
  # Interleaved rounds, the best kept: the machine is shared, and a round that lost the CPU to
  # someone else says nothing about the path.
  rate[$name]=$("${inside[@]}" ab -q -n "$connections" -c 4 "$base/small" | awk '/^Requests per second/ {print $4}')
  throughput[$name]=$("${inside[@]}" ab -q -n "$transfers" -c 1 "$base/big" | awk '/^Transfer rate/ {print $3}')
}
results="$work/results"
: > "$results"
for round in 1 2 3; do
  for path in "gantry-published=http://127.0.0.1:18300" "podman-published=http://127.0.0.1:18301" "container-address=http://$address"; do
    measure "${path%%=*}" "${path#*=}"
    echo "${path%%=*} ${rate[${path%%=*}]} ${throughput[${path%%=*}]}" >> "$results"
  done
  echo "bench: round $round done" >&2
done

node - "$results" "$work/startup.json" <<'JS'
const fs = require('fs');
const startup = JSON.parse(fs.readFileSync(process.argv[3], 'utf8')).results;
const ms = (name) => startup.find((r) => r.command === name).median * 1000;
console.log('| startup (median) | gantry | podman (netavark) | ratio |');
console.log('|---|---|---|---|');
for (const what of ['-p', '--network none']) {
  const g = ms(`gantry run ${what}`), p = ms(`podman run ${what}`);
  console.log(`| run --rm ${what === '-p' ? '-p 127.0.0.1:PORT:80' : what} true | ${g.toFixed(1)} ms | ${p.toFixed(1)} ms | ${(g / p).toFixed(2)}x |`);
}
const gAdded = ms('gantry run -p') - ms('gantry run --network none'), pAdded = ms('podman run -p') - ms('podman run --network none');
console.log(`| added by the network and the port | ${gAdded.toFixed(1)} ms | ${pAdded.toFixed(1)} ms | ${(gAdded / pAdded).toFixed(2)}x |`);
console.log('');
const rows = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').map((line) => line.split(' '));
const median = (values) => { const s = [...values].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const of = (name, column) => median(rows.filter((r) => r[0] === name).map((r) => Number(r[column])));
const names = ['gantry-published', 'podman-published', 'container-address'];
console.log('| path | connections/s (median) | vs podman | throughput MB/s (median) | vs podman |');
console.log('|---|---|---|---|---|');
for (const name of names) {
  const rate = of(name, 1), mb = of(name, 2) / 1024;
  console.log(`| ${name} | ${rate.toFixed(0)} | ${(rate / of('podman-published', 1)).toFixed(2)}x | ${mb.toFixed(0)} | ${(mb / (of('podman-published', 2) / 1024)).toFixed(2)}x |`);
}
JS
