#!/run/v2vm/busybox sh
# Stage 2 of the cgroup v2 test guest: PID 1 after switch_root (still the static busybox). Runs
# /share/cmd with bash in the cgroup /share/config names (the root, or a systemd-like session
# scope) and the project directory, records its status and the timing in /share, and powers off
# (QEMU runs with -no-reboot, so the reset ends it).
B=/run/v2vm/busybox
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb USER=root LOGNAME=root SHELL=/bin/bash TMPDIR=/tmp
up() { read -r seconds _ </proc/uptime; echo "$seconds"; }
echo "stage2 $(up)" >>/share/timing
WORKDIR=/
TIMEOUT=3000
CGROUP=root
. /share/config
$B mount --make-rshared /
CG=/sys/fs/cgroup
# PID 1 out of the way, as systemd keeps itself in init.scope.
echo $$ >$CG/init.scope/cgroup.procs
case "$CGROUP" in
  root) target=$CG ;;
  session) target=$CG/user.slice/user-0.slice/session-1.scope ;;
  *) target=$CG/$CGROUP ;;
esac
cd "$WORKDIR" || echo "v2vm-stage2: no directory $WORKDIR" >/dev/console
echo "cmd_start $(up)" >>/share/timing
# The child enters the target cgroup itself, so the command starts there.
$B timeout -s KILL "$TIMEOUT" $B sh -c 'echo $$ >"$1/cgroup.procs" && exec /bin/bash /share/cmd' \
  guest-command "$target" </dev/null >/share/output 2>&1
status=$?
echo "cmd_end $(up)" >>/share/timing
echo "$status" >/share/rc
$B sync
echo o >/proc/sysrq-trigger
$B sleep 10
$B reboot -f
