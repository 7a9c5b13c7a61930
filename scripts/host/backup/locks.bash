# Part: locks. Host-wide locks that keep backup runs, in-place restores and recovery apart.
#
# Besides each job's own lock (fd 9), two lock files in the lock directory:
#   data.lock (fd 7)        every run holds it shared while it copies the data directory; an
#                           in-place restore holds it exclusively, so neither ever reads or
#                           ships the other's half-done work.
#   containers.lock (fd 8)  held exclusively by whoever may pause or stop the containers: a
#                           pause/stop run for its copy, an in-place restore from start to end,
#                           recovery while it works. A lock dies with its holder, so when it is
#                           free, a suspend record or restore journal in the state directory was
#                           left by a process that is gone.
# A run that finds a restore in progress refuses at once: a restore can take hours, and the
# refused run alerts, so a skipped backup is never silent. A run that finds another job's
# copy holding the containers waits for it (jobs often share a schedule; that copy takes
# minutes), up to SUSPEND_LOCK_WAIT seconds, then fails and alerts.
readonly SUSPEND_LOCK_WAIT=900

# lock_data_for_copy: fd 7, shared. Refuses while a restore replaces the data or has not been
# settled after an interruption.
lock_data_for_copy() {
  mkdir -p -- "$OWB_LOCK_DIR"
  exec 7>>"$OWB_LOCK_DIR/data.lock"
  flock -s -n 7 || die "an in-place restore is replacing the data directory right now; this run copies nothing"
  [[ ! -e "$(restore_journal)" ]] || die "an interrupted in-place restore has not been settled (see above, or run: openwebui-backup recover); this run copies nothing"
}

# lock_containers_for_copy: fd 8, exclusive, waiting a bounded time for another job's copy.
lock_containers_for_copy() {
  exec 8>>"$OWB_LOCK_DIR/containers.lock"
  flock -n 8 && return 0
  log "another job has the containers paused or stopped for its copy; waiting up to $SUSPEND_LOCK_WAIT s"
  flock -w "$SUSPEND_LOCK_WAIT" 8 || die "the containers were still held by another job after $SUSPEND_LOCK_WAIT s; this run copies nothing"
}

# lock_for_restore: both locks, exclusive, without waiting: a restore is run by hand, and its
# operator is better told now than left waiting behind a backup.
lock_for_restore() {
  mkdir -p -- "$OWB_LOCK_DIR"
  exec 7>>"$OWB_LOCK_DIR/data.lock"
  flock -n 7 || die "a backup run is copying the data directory right now (it may have the containers paused or stopped); restore when it has finished. Nothing was changed."
  exec 8>>"$OWB_LOCK_DIR/containers.lock"
  flock -n 8 || die "another restore or a recovery holds the containers; try again when it has finished. Nothing was changed."
}

# lock_for_recovery: containers.lock, exclusive, without waiting; fails when someone alive holds it.
lock_for_recovery() {
  mkdir -p -- "$OWB_LOCK_DIR"
  exec 8>>"$OWB_LOCK_DIR/containers.lock"
  flock -n 8
}

# lock_data_for_recovery: data.lock, exclusive, without waiting (recovery renames the data).
lock_data_for_recovery() {
  exec 7>>"$OWB_LOCK_DIR/data.lock"
  flock -n 7
}

unlock_recovery() { exec 7>&- 8>&-; }
