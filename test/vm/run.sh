#!/usr/bin/env bash
# run.sh [options] COMMAND
#
# Boots a throwaway guest whose cgroups are pure v2 (Debian's linux-image-amd64 under QEMU: KVM
# when /dev/kvm is usable, TCG otherwise), runs COMMAND there as root with bash in the project
# directory, streams its output and exits with its status. The host is never changed: the guest
# sees the host's / read-only over virtio-9p under a tmpfs overlay, and its writes to the project
# directory stay in the guest.
#
# The guest has three sparse virtio disks: vda (ext4 at /tmp, BFQ scheduler; container roots live
# there, so io limits apply to a real device), vdb (raw, no scheduler with weights), vdc (swap).
#
# Options:
#   -c root|session|PATH  the cgroup COMMAND starts in: the root (default), session =
#                         user.slice/user-0.slice/session-1.scope as a systemd login, or a PATH
#                         below the root
#   -e NAME=VALUE         exported into COMMAND's environment (repeatable)
#   -t SECONDS            hard limit for the whole run (default 3600)
#   -p DIR                project directory (default: the current directory)
#   -m MiB                guest memory (default 3072); -s N: guest CPUs (default: the host's, at most 2)
#   -a ARGS               appended to the guest kernel's command line (e.g. security=selinux)
#   -k                    keep the run directory (its disks, console log and output)
#   -o FILE               also write COMMAND's output to FILE (when the guest ran it)
# Environment: GANTRY_V2VM_CACHE (default ~/.cache/gantry-v2vm), GANTRY_V2VM_ACCEL=tcg|kvm.
# Exit status: COMMAND's; 124 when the time ran out; 125 when the guest failed before COMMAND ended;
# 128+N when this script was ended by signal N.
#
# Nothing outlives the run: QEMU and the reader of its output die with this script (by their PIDs
# on INT, TERM or HUP; by the kernel's parent-death signal on SIGKILL), and the run directory is
# removed (unless -k). A directory a SIGKILLed run could not remove is removed by the next run.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cgroup=root
timeout=3600
project=$PWD
memory=3072
cpus=$(($(nproc) < 2 ? $(nproc) : 2))
keep=0
envs=()
append=
output_copy=
while getopts "c:e:t:p:m:s:a:o:kh" option; do
  case "$option" in
    c) cgroup=$OPTARG ;;
    e) envs+=("$OPTARG") ;;
    t) timeout=$OPTARG ;;
    p) project=$OPTARG ;;
    m) memory=$OPTARG ;;
    s) cpus=$OPTARG ;;
    a) append=$OPTARG ;;
    o) output_copy=$OPTARG ;;
    k) keep=1 ;;
    *) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || { echo "usage: $0 [options] COMMAND (-h for help)" >&2; exit 2; }
log() { echo "v2vm: $*" >&2; }

command -v qemu-system-x86_64 >/dev/null || { log "qemu-system-x86_64 is missing (apt-get install qemu-system-x86)"; exit 125; }
command -v mkfs.ext4 >/dev/null && command -v mkswap >/dev/null || { log "mkfs.ext4 or mkswap is missing (apt-get install e2fsprogs util-linux)"; exit 125; }
image=$("$here/build-image.sh") || exit 125
project=$(readlink -f "$project")
case "$project" in *[[:space:],=]*) log "the project path may not contain spaces, commas or '='"; exit 2 ;; esac

cache=$(dirname "$image")
# Run directories whose script is gone (it was SIGKILLed before it could clean up). The owner is
# recorded as PID and start time, so a reused PID does not keep a directory alive.
started_at() { awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$1/stat" 2>/dev/null; }
for stale in "$cache"/run.*; do
  [ -e "$stale" ] || continue # the pattern itself: no run directory at all
  if [ ! -f "$stale/owner" ]; then
    # Made by a script older than the owner file, or this instant (then it is seconds old).
    [ -n "$(find "$stale" -maxdepth 0 -mmin +60)" ] && rm -rf "$stale"
    continue
  fi
  read -r pid start <"$stale/owner"
  [ -n "$pid" ] && [ "$(started_at "$pid")" = "$start" ] && continue
  rm -rf "$stale"
done

run=$(mktemp -d "$cache/run.XXXXXX")
echo "$$ $(started_at $$)" >"$run/owner"
qemu=
tailer=
finish() {
  local signal=$1
  trap - INT TERM HUP
  # By PID: only what this run started.
  for pid in $qemu $tailer; do kill -KILL "$pid" 2>/dev/null; done
  wait 2>/dev/null
  [ "$keep" = 1 ] || rm -rf "$run"
  log "ended by SIG$signal; QEMU (PID ${qemu:-none}) killed"
  case "$signal" in INT) exit 130 ;; HUP) exit 129 ;; *) exit 143 ;; esac
}
trap 'finish INT' INT
trap 'finish TERM' TERM
trap 'finish HUP' HUP
# Before qemu exists too: a failure while preparing leaves no directory behind.
trap '[ "$keep" = 1 ] || rm -rf "$run"' EXIT
share=$run/share
mkdir -p "$share"
printf '%s\n' "$1" >"$share/cmd"
cp "$here/stage2.sh" "$share/stage2.sh"
{
  printf 'WORKDIR=%q\nCGROUP=%q\nTIMEOUT=%q\n' "$project" "$cgroup" "$((timeout > 60 ? timeout - 30 : timeout))"
  for pair in "${envs[@]+"${envs[@]}"}"; do printf 'export %q=%q\n' "${pair%%=*}" "${pair#*=}"; done
} >"$share/config"
if [ "${GANTRY_V2VM_ACCEL:-}" = kvm ] || { [ -z "${GANTRY_V2VM_ACCEL:-}" ] && [ -w /dev/kvm ]; }; then
  accel=(-accel kvm -cpu host)
else
  accel=(-accel tcg,thread=multi -cpu max)
fi
disk() { echo "-drive file=$run/$1.img,if=none,id=$1,format=raw,cache=unsafe,discard=unmap -device virtio-blk-pci,drive=$1"; }
mark() { awk -v key="$1" '$1 == key { print $2 }' "$share/timing" 2>/dev/null | tail -1; }
started=$(date +%s.%N)
# A guest that dies before its command starts (a TCG vCPU starved by a loaded host can still fail
# the kernel's early timer checks) is booted once more; the command itself runs at most once.
for attempt in 1 2; do
  rm -f "$share/output" "$share/timing" "$share/rc" "$run"/vd?.img
  : >"$share/output"
  truncate -s 4G "$run/vda.img" && mkfs.ext4 -q -F -E nodiscard,lazy_itable_init=1 "$run/vda.img" || exit 125
  truncate -s 256M "$run/vdb.img"
  truncate -s 512M "$run/vdc.img" && mkswap -q "$run/vdc.img" >/dev/null || exit 125
  log "booting $(basename "$image") (${accel[1]%%,*}, $cpus CPUs, $memory MiB, cgroup $cgroup), run directory $run"
  # setpriv --pdeathsig: the kernel kills QEMU (and the output's reader) when this script dies,
  # even by SIGKILL. no_timer_check: under TCG on a busy host the kernel's check that the timer
  # interrupt arrives can fail and panic ("IO-APIC + timer doesn't work"), as on any VM.
  # shellcheck disable=SC2046 # disk() prints words on purpose
  setpriv --pdeathsig KILL -- qemu-system-x86_64 \
    -nodefaults -no-user-config -display none -no-reboot \
    -machine pc "${accel[@]}" -smp "$cpus" -m "$memory" \
    -kernel "$image/vmlinux" -initrd "$image/initramfs.cpio" \
    -append "console=ttyS0 quiet loglevel=4 panic=-1 no_timer_check mitigations=off cgroup_no_v1=all random.trust_cpu=on 8250.nr_uarts=1 v2vm.project=$project${append:+ $append}" \
    -serial "file:$run/console.log" \
    -fsdev local,id=hostroot,path=/,security_model=passthrough,readonly=on,multidevs=remap \
    -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
    -fsdev "local,id=share,path=$share,security_model=none,multidevs=remap" \
    -device virtio-9p-pci,fsdev=share,mount_tag=share \
    -device virtio-rng-pci \
    $(disk vda) $(disk vdb) $(disk vdc) \
    >"$run/qemu.log" 2>&1 &
  qemu=$!
  echo "$qemu" >"$run/qemu.pid"
  # The output, streamed until QEMU ends or the time given runs out (timeout's status 124).
  setpriv --pdeathsig KILL -- timeout "$timeout" tail -n +1 -f --pid="$qemu" "$share/output" &
  tailer=$!
  timed_out=0
  wait "$tailer"
  if [ $? = 124 ]; then
    timed_out=1
    kill -KILL "$qemu" 2>/dev/null
  fi
  tailer=
  wait "$qemu" 2>/dev/null
  qemu_status=$?
  [ "$timed_out" = 0 ] && [ -z "$(mark cmd_start)" ] && [ "$attempt" = 1 ] || break
  log "the guest ended before its command started (qemu status $qemu_status); booting again. Its console:"
  tail -n 20 "$run/console.log" >&2
done
ended=$(date +%s.%N)
rm -f "$run"/vd?.img
[ -z "$output_copy" ] || cp "$share/output" "$output_copy"

if [ -n "$(mark cmd_start)" ] && [ -n "$(mark cmd_end)" ]; then
  log "$(awk -v wall="$(awk -v a="$started" -v b="$ended" 'BEGIN { print b - a }')" -v boot="$(mark cmd_start)" \
    -v end="$(mark cmd_end)" 'BEGIN { printf "wall %.0f s: boot to command %.1f s, command %.0f s", wall, boot, end - boot }')"
fi
failed() {
  log "console (last 40 lines):"
  tail -n 40 "$run/console.log" >&2
  [ -s "$run/qemu.log" ] && { log "qemu:"; tail -n 20 "$run/qemu.log" >&2; }
  [ "$keep" = 1 ] && log "run directory kept: $run"
}
if [ -s "$share/rc" ] && [ "$timed_out" = 0 ]; then
  status=$(cat "$share/rc")
  [ "$status" = 125 ] && failed
  [ "$keep" = 1 ] && log "run directory kept: $run"
  exit "$status"
fi
if [ "$timed_out" = 1 ]; then
  log "the run took longer than ${timeout}s: QEMU (PID $qemu) killed"
  failed
  exit 124
fi
log "the guest ended (qemu status $qemu_status) before COMMAND did"
failed
exit 125
