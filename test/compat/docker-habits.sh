#!/usr/bin/env bash
# Docker habits, end to end: each row is what a docker user types, with gantry for docker, and a
# check of what docker would give. Run by test/compat/docker-habits.int.test.ts inside a state root
# and network namespace of the test's own ($GANTRY is the binary; the image "demo" exists).
# Prints "ok N - ROW", "not ok N - ROW" (with the output indented), "ok N - ROW # TODO why" for what
# gantry does not have yet, and a closing "N passed, N failed" line; exits 1 if any row failed.
set -u
: "${GANTRY:?set GANTRY to the gantry binary}"
g() { "$GANTRY" "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0 number=0

row() { # row NAME FUNCTION: the function's status decides
  number=$((number + 1))
  local output
  if output=$("$2" 2>&1); then
    passed=$((passed + 1))
    echo "ok $number - $1"
  else
    failed=$((failed + 1))
    echo "not ok $number - $1"
    printf '%s\n' "$output" | sed 's/^/#   /'
  fi
}
todo() { # todo NAME WHY: a habit gantry does not serve yet
  number=$((number + 1))
  echo "ok $number - $1 # TODO $2"
}
expect() { # expect WANT GOT
  [ "$1" = "$2" ] || {
    echo "want: $1"
    echo "got:  $2"
    return 1
  }
}
# Polls a condition (bounded: 180 tries a second apart), for what a container does in its own time.
until_true() {
  local try
  for try in $(seq 180); do
    if "$@"; then return 0; fi
    sleep 1
  done
  echo "never true: $*"
  return 1
}

run_and_ps() {
  g run -d --name web demo sleep 300 >/dev/null &&
    expect running "$(g inspect -f '{{.State.Status}}' web)" &&
    expect "web" "$(g ps --filter name=web --format '{{.Names}}')" &&
    g ps --format 'table {{.Names}}\t{{.Status}}' | head -1 | grep -Eq '^NAMES +STATUS$' &&
    expect "[sleep 300]" "$(g inspect --format '{{.Config.Cmd}}' web)" &&
    expect "$(g ps -q --no-trunc --filter name=web)" "$(g inspect -f '{{.Id}}' web)"
}
exec_and_logs() {
  g run -d --name talker demo sh -c 'echo hello; sleep 300' >/dev/null &&
    until_true sh -c "'$GANTRY' logs talker | grep -q hello" &&
    expect "in" "$(g exec talker sh -c 'echo in')" &&
    expect 0 "$(g exec talker sh -c 'exit 0'; echo $?)"
}
stop_start_rm() {
  g stop -t 0 web >/dev/null &&
    expect exited "$(g inspect -f '{{.State.Status}}' web)" &&
    g start web >/dev/null &&
    g restart -t 0 web >/dev/null &&
    expect running "$(g inspect -f '{{.State.Status}}' web)" &&
    g stop --all --timeout 0 >/dev/null &&
    expect "" "$(g ps -q)" &&
    g rm -f web talker >/dev/null &&
    expect "" "$(g ps -aq --filter name=web)"
}
exit_codes() {
  g run --rm demo sh -c 'exit 7'
  expect 7 $?
  g run --rm demo /no/such/command 2>/dev/null
  expect 127 $?
  g run --rm --no-such-flag demo true 2>/dev/null
  expect 125 $?
}
named_volume() {
  g volume create data >/dev/null &&
    g run --rm -v data:/data demo sh -c 'echo kept > /data/file' &&
    expect kept "$(g run --rm -v data:/data:ro demo cat /data/file)" &&
    expect data "$(g volume ls -q --filter name=data)" &&
    expect local "$(g volume inspect -f '{{.Driver}}' data)" &&
    g volume rm data >/dev/null &&
    expect "" "$(g volume ls -q)"
}
mounts() {
  mkdir -p "$work/bind" && echo host > "$work/bind/file" &&
    expect host "$(g run --rm --mount "type=bind,source=$work/bind,target=/b,readonly" demo cat /b/file)" &&
    g run --rm --tmpfs /scratch demo grep -q ' /scratch tmpfs ' /proc/mounts &&
    g run --rm --mount type=tmpfs,target=/t demo grep -q ' /t tmpfs ' /proc/mounts
}
copies() {
  echo payload > "$work/in" &&
    g create --name box demo true >/dev/null &&
    g cp "$work/in" box:/in &&
    g cp box:/in "$work/out" &&
    cmp "$work/in" "$work/out" &&
    g cp box:/in - | tar -tf - | grep -qx in &&
    g rm box >/dev/null
}
restart_policy() {
  g run -d --name flaky --restart on-failure:2 demo sh -c 'exit 1' >/dev/null &&
    until_true sh -c "[ \"\$('$GANTRY' inspect -f '{{.RestartCount}} {{.State.Status}}' flaky)\" = '2 exited' ]" &&
    expect 1 "$(g inspect -f '{{.State.ExitCode}}' flaky)" &&
    g rm flaky >/dev/null
}
healthcheck() {
  g run -d --name doc --health-cmd 'test -e /tmp/ok' --health-interval 1s --health-retries 1 demo \
    sh -c 'touch /tmp/ok; sleep 300' >/dev/null &&
    g healthcheck run doc &&
    until_true sh -c "[ \"\$('$GANTRY' inspect -f '{{.State.Health.Status}}' doc)\" = healthy ]" &&
    g ps --filter name=doc --format '{{.Status}}' | grep -q '(healthy)' &&
    g rm -f doc >/dev/null
}
multi_stage_build() {
  mkdir -p "$work/context" &&
    printf '%s\n' 'FROM demo AS base' 'RUN echo built > /built' 'FROM demo' \
      'COPY --from=base /built /built' 'CMD ["cat", "/built"]' > "$work/context/Containerfile" &&
    g build -q -t multi:1 "$work/context" >/dev/null &&
    expect built "$(g run --rm multi:1)" &&
    g images --format '{{.Repository}} {{.Tag}}' | grep -qx 'multi 1'
}
images_and_archives() {
  expect "demo latest" "$(g images --format '{{.Repository}} {{.Tag}}' | grep '^demo ')" &&
    g save -o "$work/demo.tar" demo &&
    g tag demo demo:copy &&
    g rmi demo:copy >/dev/null &&
    expect "Loaded image: demo:latest" "$(g load -i "$work/demo.tar")" &&
    expect "Loaded image: demo:latest" "$(g save demo | g load)" &&
    g image ls -q | grep -q . &&
    g container ls -a >/dev/null
}
system_info() {
  expect overlay "$(g info --format '{{.Driver}}')" &&
    g info | grep -Eq '^Cgroup Version: [12]$'
}
init_and_top() {
  g run -d --name inited --init demo sleep 300 >/dev/null &&
    expect "/sbin/docker-init" "$(g exec inited cat /proc/1/cmdline | tr '\0' ' ' | cut -d' ' -f1)" &&
    g top inited | head -1 | grep -Eq '^UID +PID +PPID +C +STIME +TTY +TIME +CMD$' &&
    g top inited | grep -q 'sleep 300' &&
    g rm -f inited >/dev/null
}
export_import() {
  g run --name exported demo sh -c 'echo inside > /inside' &&
    g export -o "$work/fs.tar" exported &&
    tar -tf "$work/fs.tar" | grep -qx inside &&
    g export exported | g import -c 'CMD ["cat", "/inside"]' - flat:1 | grep -Eq '^sha256:[0-9a-f]{64}$' &&
    expect inside "$(g run --rm flat:1)" &&
    expect 1 "$(g image inspect -f '{{len .RootFS.Layers}}' flat:1)" &&
    g rm exported >/dev/null
}
prune_and_df() {
  g run --name pruned demo true &&
    g system df | head -1 | grep -Eq '^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE$' &&
    expect "Containers 1" "$(g system df --format '{{.Type}} {{.TotalCount}}' | grep '^Containers')" &&
    g container prune -f | grep -q "^$(g inspect -f '{{.Id}}' pruned)\$" &&
    expect "" "$(g ps -aq --filter name=pruned)" &&
    g system prune -f | grep -q '^Total reclaimed space: '
}

pull_policy() {
  g run --rm --pull never no-such-image true 2>"$work/pull.err"
  expect 125 $? &&
    grep -q 'No such image: no-such-image:latest' "$work/pull.err" &&
    expect ok "$(g run --rm --pull=never demo echo ok)" &&
    expect "" "$(g run --rm demo true 2>&1)"
}
host_namespaces() {
  local ns='echo $(readlink /proc/self/ns/pid) $(readlink /proc/self/ns/ipc) $(readlink /proc/self/ns/uts)'
  expect "$(sh -c "$ns")" "$(g run --rm --pid host --ipc host --uts host demo sh -c "$ns")" &&
    expect "$(cat /proc/sys/kernel/hostname)" "$(g run --rm --uts host demo hostname)" &&
    ! g run --rm --uts host --hostname box demo true 2>/dev/null
}
attach_streams() {
  expect out "$(g run --rm -a stdout demo sh -c 'echo out; echo err >&2' 2>&1)" &&
    expect err "$(g run --rm --attach STDERR demo sh -c 'echo out; echo err >&2' 2>&1)"
}
stop_timeout_exec_d() {
  g run -d --name patient --stop-timeout 1 demo sh -c "trap '' TERM; echo ready; while :; do sleep 1; done" >/dev/null &&
    until_true sh -c "'$GANTRY' logs patient | grep -q ready" &&
    g exec -d patient sleep 123 >/dev/null &&
    g top patient | grep -q 'sleep 123' &&
    g stop patient >/dev/null &&
    expect 137 "$(g inspect -f '{{.State.ExitCode}}' patient)" &&
    g rm patient >/dev/null
}

row 'run -d, inspect -f, ps --filter/--format table' run_and_ps
row 'logs, exec' exec_and_logs
row 'stop -t, start, restart, stop --all, rm -f' stop_start_rm
row 'exit codes: the container status, 127, 125' exit_codes
row 'volume create/ls/inspect/rm, -v NAME:/path[:ro]' named_volume
row '--mount bind/tmpfs, --tmpfs' mounts
row 'cp both ways and as a tar stream' copies
row '--restart on-failure:N' restart_policy
row '--health-cmd, healthcheck run, (healthy) in ps' healthcheck
row 'multi-stage build (FROM AS, COPY --from)' multi_stage_build
row 'images, save -o, load -i, save | load, tag, rmi' images_and_archives
row 'info' system_info
row 'run --init, top' init_and_top
row 'container prune, system df, system prune' prune_and_df
row 'export -o, export | import -c -' export_import
row 'run --pull never, and no pull for a present image' pull_policy
row 'run --pid host --ipc host --uts host' host_namespaces
row 'run -a stdout / -a STDERR' attach_streams
row 'run --stop-timeout, then stop; exec -d' stop_timeout_exec_d

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
