#!/usr/bin/env bash
# npm run test:cgroup-v2 [-- TEST_FILE...]
#
# Runs the cgroup v2 integration tests in a pure cgroup v2 guest (run.sh), booted twice: with the
# tests started inside user.slice/user-0.slice/session-1.scope, where a login shell starts gantry on
# a systemd host, and in the guest's root cgroup. GANTRY_EXPECT_CGROUP=v2 makes every reason to
# skip a failure there, and no-skips.mjs fails the run when any test did not run. Given files run
# in both guests instead of the lists below.
# Environment: GANTRY_V2VM_MODES (default "session root"), GANTRY_TEST_TIME_SCALE (default 20),
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
if [ "$#" -gt 0 ]; then
  session_files=("$@")
  root_files=("$@")
fi
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
for mode in ${GANTRY_V2VM_MODES:-session root}; do
  if [ "$mode" = root ]; then files=("${root_files[@]}"); else files=("${session_files[@]}"); fi
  echo "=== cgroup v2 guest, tests started in the $mode cgroup: ${files[*]}"
  # dist/ copied into the guest's own layer first: a rebuild on the host while the guest runs
  # must not swap the files under it. One test file at a time: under TCG on a busy host, a second
  # worker starves vitest's main process, and a worker's module fetch from it times out (60 s,
  # fixed in vitest) with no test at fault.
  command="mv dist dist.host && cp -a dist.host dist && node node_modules/vitest/vitest.mjs run --project integration --no-file-parallelism --reporter=default --reporter=./test/support/skip-report.ts --reporter=json --outputFile=/tmp/vitest-report.json ${files[*]}"
  command+="; status=\$?; node test/vm/no-skips.mjs /tmp/vitest-report.json || status=1; exit \$status"
  setpriv --pdeathsig TERM -- bash test/vm/run.sh -c "$mode" -t "${GANTRY_V2VM_TIMEOUT:-7200}" -e GANTRY_EXPECT_CGROUP=v2 -e GANTRY_TEST_BUILT=1 \
    -e "GANTRY_TEST_TIME_SCALE=${GANTRY_TEST_TIME_SCALE:-20}" -e "CI=${CI:-}" "$command" &
  guest=$!
  wait "$guest" || status=$?
  guest=
done
echo "=== cgroup v2 guest: $(($(date +%s) - started)) s in all, status $status"
exit "$status"
