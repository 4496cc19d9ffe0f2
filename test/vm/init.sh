#!/bin/sh
# Stage 1 of the cgroup v2 test guest: PID 1 in the initramfs, run by busybox-static (every exec of
# a host binary over 9p costs seconds under TCG, so setup uses only busybox in RAM).
# It builds the guest's root: the host's / read-only over virtio-9p under a tmpfs copy-on-write
# overlay, fresh tmpfs where engines keep state, the project directory as its own overlay (writes
# stay in the guest), the scratch disk (ext4, BFQ) at /tmp so limits on a real block device can be
# tested, a swap disk; then a pure cgroup v2 hierarchy mounted as systemd mounts it (nsdelegate,
# memory_recursiveprot) with every controller enabled and systemd's slices made. Then it
# switch_root's to stage2.sh, copied into the run's shared directory by run.sh.
export PATH=/bin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1

say() { echo "v2vm-init: $*"; }
die() {
  say "FATAL: $*"
  echo 125 >/mnt/share/rc 2>/dev/null
  echo o >/proc/sysrq-trigger
  sleep 10
}
while read -r module; do
  insmod "/mod/$module" 2>/dev/null || say "insmod $module failed"
done </mod/order

project=
msize=262144
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    v2vm.project=*) project=${arg#v2vm.project=} ;;
    v2vm.msize=*) msize=${arg#v2vm.msize=} ;;
  esac
done

mount -t 9p -o trans=virtio,version=9p2000.L,msize=$msize,cache=none share /mnt/share || die "no share over 9p"
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=$msize,cache=loose hostroot /mnt/host || die "no host root over 9p"
read -r up _ </proc/uptime
echo "stage1 $up" >>/mnt/share/timing

mount -t tmpfs -o mode=755 guest-root /mnt/upper || die "no tmpfs"
mkdir -p /mnt/upper/root /mnt/upper/work
# redirect_dir: directories of the lower layer can be renamed, as on a normal filesystem.
mount -t overlay -o redirect_dir=on,lowerdir=/mnt/host,upperdir=/mnt/upper/root,workdir=/mnt/upper/work \
  guest-root /newroot || die "no overlay root"
R=/newroot

# The scratch disk: container roots and layers live on a real block device (io.max needs one),
# and ext4 (not overlayfs) can be an overlay upper layer.
mount -t ext4 -o noatime /dev/vda $R/tmp || die "cannot mount the scratch disk /dev/vda"
chmod 1777 $R/tmp
echo bfq >/sys/block/vda/queue/scheduler || say "no BFQ for vda"
swapon /dev/vdc || say "no swap on /dev/vdc"
mount -t tmpfs -o mode=1777 tmpfs $R/var/tmp
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs $R/run
mkdir -p $R/tmp/var-lib-gantry $R/var/lib/gantry
mount --bind $R/tmp/var-lib-gantry $R/var/lib/gantry
mkdir -p $R/run/v2vm $R/share $R/run/lock
cp /bin/busybox $R/run/v2vm/busybox

if [ -n "$project" ]; then
  mkdir -p $R/run/v2vm/project/upper $R/run/v2vm/project/work "$R$project"
  mount -t overlay -o "redirect_dir=on,lowerdir=/mnt/host$project,upperdir=$R/run/v2vm/project/upper,workdir=$R/run/v2vm/project/work" \
    guest-project "$R$project" || die "cannot overlay the project $project"
fi
mount --move /mnt/share $R/share
mkdir -p $R/run/v2vm/host
mount --move /mnt/host $R/run/v2vm/host
mount --move /dev $R/dev
mount --move /sys $R/sys
mount --move /proc $R/proc

mkdir -p $R/dev/pts $R/dev/shm $R/dev/mqueue $R/dev/hugepages
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts $R/dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev shm $R/dev/shm
mount -t mqueue mqueue $R/dev/mqueue
mount -t hugetlbfs hugetlbfs $R/dev/hugepages
ln -sfn /proc/self/fd $R/dev/fd
ln -sfn /proc/self/fd/0 $R/dev/stdin
ln -sfn /proc/self/fd/1 $R/dev/stdout
ln -sfn /proc/self/fd/2 $R/dev/stderr
mount -t securityfs securityfs $R/sys/kernel/security 2>/dev/null
mount -t bpf -o mode=700 bpf $R/sys/fs/bpf 2>/dev/null

# As Debian 12 and Ubuntu 22.04 mount it.
CG=$R/sys/fs/cgroup
mount -t cgroup2 -o rw,nosuid,nodev,noexec,relatime,nsdelegate,memory_recursiveprot cgroup2 $CG ||
  die "cannot mount cgroup2"
for controller in $(cat $CG/cgroup.controllers); do
  echo "+$controller" >$CG/cgroup.subtree_control || say "cannot enable $controller at the root"
done
# systemd's tree: PID 1 in init.scope, a login shell in user.slice/user-0.slice/session-1.scope,
# memory and pids enabled on the slices (DefaultMemoryAccounting, DefaultTasksAccounting).
mkdir -p $CG/init.scope $CG/system.slice $CG/user.slice/user-0.slice/session-1.scope
for slice in user.slice user.slice/user-0.slice; do
  echo "+memory +pids" >$CG/$slice/cgroup.subtree_control || say "cannot enable memory and pids in $slice"
done
# Huge pages for the hugetlb limit tests (16 x 2 MiB).
echo 16 >$R/proc/sys/vm/nr_hugepages
echo 1 >$R/proc/sys/kernel/sysrq
echo v2vm >$R/proc/sys/kernel/hostname
ip link set lo up
exec switch_root $R /run/v2vm/busybox sh /share/stage2.sh
