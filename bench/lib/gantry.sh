# Sourced by the benchmarks: a gantry whose state (GANTRY_ROOT) and cgroups (GANTRY_CGROUP_PARENT)
# are this run's own. Needs $repo and $work; defines $gantry and the function gantry_cleanup.
gantry="$repo/bin/gantry.js"
export GANTRY_ROOT="$work/gantry" GANTRY_CGROUP_PARENT="gantry-bench-$$"

# Removes this run's containers, then its (by then empty) cgroup directories.
gantry_cleanup() {
  for id in $("$gantry" ps -aq --no-trunc 2>/dev/null); do "$gantry" rm -f "$id" >/dev/null; done
  for dir in /sys/fs/cgroup/*/"$GANTRY_CGROUP_PARENT"; do [ -d "$dir" ] && rmdir "$dir"; done
}
