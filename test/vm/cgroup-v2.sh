#!/usr/bin/env bash
# npm run test:cgroup-v2 [-- TEST_FILE...]
#
# Runs the cgroup v2 integration tests in a pure cgroup v2 guest (run.sh), twice: with the test
# command in the guest's root cgroup, and inside user.slice/user-0.slice/session-1.scope, where a
# login shell or a service starts gantry on a systemd host. GANTRY_EXPECT_CGROUP=v2 makes every
# reason to skip a failure there, and no-skips.mjs fails the run when any test did not run.
# Environment: GANTRY_V2VM_MODES (default "root session"), GANTRY_TEST_TIMEOUT_SCALE (default 10).
set -euo pipefail
cd "$(dirname "$0")/../.."

files=("$@")
if [ "${#files[@]}" -eq 0 ]; then
  files=(
    test/runtime/cgroups/v2-kernel.int.test.ts
    test/runtime/cgroups/v2-delegation.int.test.ts
    test/runtime/cgroups/v2-device-filter.int.test.ts
    test/runtime/limits/limits-v2.int.test.ts
    test/runtime/limits/update-v2.int.test.ts
    test/runtime/limits/stats-events.int.test.ts
    test/runtime/oci/gantry-oci-v2.int.test.ts
    test/tui/e2e.int.test.ts
  )
fi
# Built here, where it takes seconds (minutes under TCG); the guest sees the result through its
# overlay of the project, and GANTRY_TEST_BUILT=1 keeps the tests' global setup from building again.
node scripts/build.mjs

status=0
for mode in ${GANTRY_V2VM_MODES:-root session}; do
  echo "=== cgroup v2 guest, tests started in the $mode cgroup"
  # dist/ copied into the guest's own layer first: a rebuild on the host while the guest runs
  # must not swap the files under it.
  command="mv dist dist.host && cp -a dist.host dist && node node_modules/vitest/vitest.mjs run --project integration --reporter=default --reporter=json --outputFile=/tmp/vitest-report.json ${files[*]}"
  command+="; status=\$?; node test/vm/no-skips.mjs /tmp/vitest-report.json || status=1; exit \$status"
  test/vm/run.sh -c "$mode" -e GANTRY_EXPECT_CGROUP=v2 -e GANTRY_TEST_BUILT=1 -e "GANTRY_TEST_TIMEOUT_SCALE=${GANTRY_TEST_TIMEOUT_SCALE:-10}" \
    -e "CI=${CI:-}" "$command" || status=$?
done
exit "$status"
