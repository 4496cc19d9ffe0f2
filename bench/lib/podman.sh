# Sourced by the benchmarks: a podman whose every piece of state stays in "$work" — its storage,
# its tmpdir (default /run/libpod, shared with every other podman on the host and deleted by
# `system reset`) and its locks (default: one shared memory segment for the whole host) — so a
# run neither disturbs nor depends on another podman user. cgroupfs and runc: crun refuses this
# host's hybrid cgroup layout; the ulimits stay under the host's hard limits.
# Needs $work; defines the arrays podman and podman_limits and the function podman_cleanup.
printf '[engine]\nlock_type = "file"\n' > "$work/containers.conf"
export CONTAINERS_CONF="$work/containers.conf"
podman=(podman --root "$work/podman" --runroot "$work/podman-run" --tmpdir "$work/podman-tmp"
  --storage-driver overlay --cgroup-manager=cgroupfs --runtime=runc --events-backend=file)
podman_limits=(--ulimit nofile=1024:4096 --ulimit nproc=1024:4096)

# Removes podman's containers and storage; refuses to delete storage under running containers.
podman_cleanup() {
  "${podman[@]}" rm -af -t 0 >/dev/null 2>&1
  local left
  if ! left=$("${podman[@]}" ps -aq 2>/dev/null) || [ -n "$left" ]; then
    echo "bench: podman's containers are not all gone; remove them with: CONTAINERS_CONF=$CONTAINERS_CONF ${podman[*]} rm -af" >&2
    return 1
  fi
  "${podman[@]}" system reset -f >/dev/null 2>&1
  # podman mounts its overlay directory on itself; that mount is this run's own.
  if grep -q " $work/podman/overlay " /proc/mounts; then umount "$work/podman/overlay"; fi
  return 0
}
