#!/usr/bin/env bash
# npm run test:cgroup-v2 [-- TEST_FILE...]
#
# Runs the cgroup v2 integration tests in a pure cgroup v2 guest (run.sh), booted twice: with the
# tests started inside user.slice/user-0.slice/session-1.scope, where a login shell starts gantry on
# a systemd host, and in the guest's root cgroup; then a third time with SELinux as the kernel's
# security module in place of AppArmor (the two exclude each other), for the SELinux suite alone.
# GANTRY_EXPECT_CGROUP=v2 makes every reason to skip a failure there, and no-skips.mjs fails the
# run when any test did not run. Given files run instead of the lists below: the SELinux suite in
# the SELinux boot, any other file in the others (GANTRY_V2VM_MODES picks the boots).
# Environment: GANTRY_V2VM_MODES (default "session root selinux"), GANTRY_TEST_TIME_SCALE (default 20),
# GANTRY_V2VM_TIMEOUT (seconds each guest may run, default 7200: a loaded machine is slow under TCG).
set -euo pipefail
cd "$(dirname "$0")/../.."

# Every file runs with the tests started from a session scope, where gantry starts on a systemd
# host; from the root cgroup (a machine without systemd, or a container's init) the ones whose
# outcome depends on where gantry itself runs: the driver creating and delegating from its parents,
# and gantry refusing, using or making room in the cgroups around it. (Which file a limit is written
# to does not depend on it, and each file costs minutes under TCG.)
session_files=(
  test/runtime/cgroups/v2-kernel.int.test.ts
  test/runtime/cgroups/v2-delegation.int.test.ts
  test/runtime/cgroups/v2-device-filter.int.test.ts
  test/runtime/limits/limits-v2.int.test.ts
  test/runtime/limits/update-v2.int.test.ts
  test/runtime/limits/stats-events.int.test.ts
  test/runtime/oci/gantry-oci-v2.int.test.ts
  test/tui/e2e.int.test.ts
  # Not a cgroup test: the guest's Debian kernel runs AppArmor, which this host's does not.
  test/security/apparmor.int.test.ts
)
root_files=(
  test/runtime/cgroups/v2-kernel.int.test.ts
  test/runtime/cgroups/v2-delegation.int.test.ts
)
# Booted with security=selinux: Debian's kernel has SELinux built in but starts AppArmor. The
# policy is Debian's selinux-policy-default (installed on the host, seen through the guest's view
# of its root), loaded in permissive mode: the tests assert the labels the kernel reports, not
# what the policy would deny (the guest's files, on 9p, carry no labels a policy could allow).
selinux_files=(
  test/security/selinux.int.test.ts
)
if [ "$#" -gt 0 ]; then
  # Each given file in the boots it can pass in: the SELinux suite in the SELinux boot, every other
  # file in the others (where AppArmor, not SELinux, is the kernel's module).
  only_selinux=()
  session_files=()
  for file in "$@"; do
    if [[ " ${selinux_files[*]} " == *" ${file#./} "* ]]; then only_selinux+=("$file"); else session_files+=("$file"); fi
  done
  root_files=("${session_files[@]}")
  selinux_files=("${only_selinux[@]}")
fi
selinux_setup='{ mountpoint -q /sys/fs/selinux || mount -t selinuxfs selinuxfs /sys/fs/selinux; } && printf "SELINUX=permissive\nSELINUXTYPE=default\n" >/etc/selinux/config && load_policy && setenforce 0 && echo "=== SELinux $(getenforce), policy $(cat /sys/fs/selinux/policyvers) loaded; tests run as $(tr -d "\0" </proc/self/attr/current)"'
# Built here, where it takes seconds (minutes under TCG); the guest sees the result through its
# overlay of the project, and GANTRY_TEST_BUILT=1 keeps the tests' global setup from building again.
node scripts/build.mjs

# run.sh in the background, so that a signal to this script is handled at once (bash runs traps
# only between commands, and wait is interruptible): it is passed on to run.sh by PID, which kills
# its QEMU and removes its run directory. If this script is SIGKILLed, the kernel sends run.sh
# SIGTERM (setpriv --pdeathsig), to the same effect.
guest=
stop() {
  trap - INT TERM HUP
  if [ -n "$guest" ]; then
    kill -TERM "$guest" 2>/dev/null
    wait "$guest"
  fi
  exit "$1"
}
trap 'stop 130' INT
trap 'stop 143' TERM
trap 'stop 129' HUP

started=$(date +%s)
status=0
# Each boot's output is kept as well as streamed, so that the last lines name what failed: a CI
# log shown from its tail would otherwise end in three boots' passing lists, the failure far above.
# (Named by this script's PID: a SIGKILLed run's directory is removed by the next run.)
for dir in /tmp/gantry-v2vm-logs.*; do
  [ -d "$dir" ] && ! kill -0 "${dir##*.}" 2>/dev/null && rm -rf "$dir"
done
logs=/tmp/gantry-v2vm-logs.$$
mkdir -p "$logs"
trap 'rm -rf "$logs"' EXIT
failed=()
for mode in ${GANTRY_V2VM_MODES:-session root selinux}; do
  cgroup=$mode setup=true append=
  case "$mode" in
    root) files=("${root_files[@]}") ;;
    selinux) files=("${selinux_files[@]}") cgroup=session setup=$selinux_setup append=security=selinux ;;
    *) files=("${session_files[@]}") ;;
  esac
  if [ "${#files[@]}" = 0 ]; then
    echo "=== cgroup v2 guest, $mode boot: none of the given files runs there"
    continue
  fi
  echo "=== cgroup v2 guest, tests started in the $cgroup cgroup${append:+ ($append)}: ${files[*]}"
  # dist/ copied into the guest's own layer first: a rebuild on the host while the guest runs
  # must not swap the files under it. One test file at a time: under TCG on a busy host, a second
  # worker starves vitest's main process, and a worker's module fetch from it times out (60 s,
  # fixed in vitest) with no test at fault.
  command="$setup && mv dist dist.host && cp -a dist.host dist && node node_modules/vitest/vitest.mjs run --project integration --no-file-parallelism --reporter=default --reporter=./test/support/skip-report.ts --reporter=json --outputFile=/tmp/vitest-report.json ${files[*]}"
  command+="; status=\$?; node test/vm/no-skips.mjs /tmp/vitest-report.json || status=1; exit \$status"
  setpriv --pdeathsig TERM -- bash test/vm/run.sh -c "$cgroup" -a "$append" -t "${GANTRY_V2VM_TIMEOUT:-7200}" -e GANTRY_EXPECT_CGROUP=v2 -e GANTRY_TEST_BUILT=1 \
    -e "GANTRY_TEST_TIME_SCALE=${GANTRY_TEST_TIME_SCALE:-20}" -e "CI=${CI:-}" -o "$logs/$mode" "$command" &
  guest=$!
  boot=0
  wait "$guest" || boot=$?
  guest=
  if [ "$boot" != 0 ]; then
    status=$boot
    failed+=("$mode")
    echo "$boot" >"$logs/$mode.status"
  fi
done
for mode in "${failed[@]}"; do
  # What vitest said before no-skips.mjs lists the tests: the failed tests and errors (a test's
  # failure, an unhandled error, a global teardown that found a leak), then its last lines (the
  # summary), then no-skips.mjs's verdict; without colours.
  sed 's/\x1b\[[0-9;]*m//g' "$logs/$mode" >"$logs/$mode.plain"
  sed '/^no-skips: the tests of this run/,$d' "$logs/$mode.plain" >"$logs/$mode.vitest"
  echo "=== cgroup v2 guest, $mode boot failed (status $(cat "$logs/$mode.status")); its failed tests and errors:"
  grep -aE '^ *(×|FAIL) |Unhandled|leaked|touched the host|Error' "$logs/$mode.vitest" | head -n 30 || true
  echo "=== the end of what vitest said in the $mode boot:"
  tail -n 40 "$logs/$mode.vitest"
  grep -a '^no-skips: ' "$logs/$mode.plain" | grep -av 'the tests of this run' || true
done
echo "=== cgroup v2 guest: $(($(date +%s) - started)) s in all, status $status${failed[*]:+ (failed: ${failed[*]})}"
exit "$status"
