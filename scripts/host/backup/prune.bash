# Part: prune. `openwebui-backup prune <job> [--target <t>]` frees what the job's retention no
# longer keeps, on the job's own schedule (pruneSchedule, weekly by default).
#
# A run only adds. restic's run ends with `forget`, which drops snapshot records and is cheap;
# the folder methods' runs delete nothing. `restic prune` reads every index and repacks, so
# its cost grows with the repository, not with what changed; removing dated folders is the
# other methods' retention. Both happen here: storage frees up after the next prune, not the
# same night.
#
# A prune and the job's runs exclude each other by the job lock ($JOB.lock, fd 9): a prune
# waits for a run to finish, and a run (or a restore) waits for a prune, up to JOB_LOCK_WAIT
# seconds each, then fails and alerts. While a prune holds the job lock it also holds
# prune/$JOB.lock (fd 6), which tells the waiting side that the holder is a prune; two runs
# never wait for each other (the second refuses at once, as before). restic also takes the
# repository's exclusive lock for the prune itself.
readonly JOB_LOCK_WAIT=3600

prune_lock_file() { printf '%s/prune/%s.lock' "$OWB_LOCK_DIR" "$JOB"; }

# job_lock_wait: seconds one side waits for the other. OPENWEBUI_BACKUP_TEST_LOCK_WAIT is the
# fault tests' shorter wait; nothing on a host sets it.
job_lock_wait() { printf '%s' "${OPENWEBUI_BACKUP_TEST_LOCK_WAIT:-$JOB_LOCK_WAIT}"; }

# prune_holds_job: true while a prune of this job holds the job lock.
prune_holds_job() {
  local marker
  marker=$(prune_lock_file)
  [[ -e "$marker" ]] && ! flock -n "$marker" true
}

# wait_behind_prune: for a command that found the job lock (fd 9) taken. Waits when a prune
# holds it; fails at once when something else does (another run).
wait_behind_prune() {
  prune_holds_job || return 1
  log "a prune of job $JOB holds $OWB_LOCK_DIR/$JOB.lock; waiting for it to finish (up to $(job_lock_wait) s)"
  flock -w "$(job_lock_wait)" 9 && return 0
  notify_failure "the prune of job $JOB still held $OWB_LOCK_DIR/$JOB.lock after $(job_lock_wait) s; this command did nothing" "" "$EPOCHSECONDS" 0
  die "the prune of job $JOB still held $OWB_LOCK_DIR/$JOB.lock after $(job_lock_wait) s; nothing was done"
}

# lock_job_for_prune: the job lock (fd 9), waiting for a run that holds it, then the marker
# (fd 6). Only a prune holding the job lock takes the marker, so it is free but for a waiting
# run's probe of an instant.
lock_job_for_prune() {
  mkdir -p -- "$OWB_LOCK_DIR/prune"
  # <> as take_lock: the holder's note in the lock file stays readable.
  exec 9<>"$OWB_LOCK_DIR/$JOB.lock"
  if ! flock -n 9; then
    log "a run of job $JOB (or a restore, or another prune) holds $OWB_LOCK_DIR/$JOB.lock; waiting for it to finish (up to $(job_lock_wait) s)"
    flock -w "$(job_lock_wait)" 9 || return 1
  fi
  exec 6>"$(prune_lock_file)"
  flock -w 10 6
}

# stored_bytes <target> <path>: bytes stored under a path of the target (inside with_target).
# Local: each file once, however many hard links it has there; buckets: the current objects.
stored_bytes() {
  local t=$1 path=$2 json
  if [[ "$(target_setting "$t" TYPE)" == local ]]; then
    if [[ -e "$path" ]]; then du -sb -- "$path" | cut -f1; else printf '0\n'; fi
    return
  fi
  json=$(rclone size --json "$path") || return 1
  sed -n 's/.*"bytes":\([0-9]*\).*/\1/p' <<<"$json"
}

# unshared_bytes <dir>: bytes of the files under a local folder that no other folder links to,
# which is what removing it frees.
unshared_bytes() {
  find "$1" -type f -links 1 -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f\n", s }'
}

# record_prune_metrics <target> <started> <finished> <bytes freed> <status>: like record_metrics,
# in a file of its own, so a prune never changes what the last run recorded.
record_prune_metrics() {
  write_target_metrics prune_ "$1" "$2" "$3" "$5" bytes_freed "$4"
}

# write_prune_state <started> <finished> <outcome> <bytes freed> <failed targets>: the last
# prune's outcome in <state dir>/<job>.prune.json, beside the last run's <job>.json.
write_prune_state() {
  {
    printf '{"host":%s,"job":%s,"method":%s,"command":"prune",' "$(json_string "$OWB_HOST")" "$(json_string "$JOB")" "$(json_string "$(job_setting METHOD)")"
    printf '"started":%s,"finished":%s,"outcome":%s,"bytesFreed":%s,"failedTargets":%s}\n' "$1" "$2" "$(json_string "$3")" "$4" "$(json_string "$5")"
  } | write_file_atomically "$OWB_STATE_DIR/$JOB.prune.json"
}

# prune_failed <started> <message> <target…>: records, alerts and exits.
prune_failed() {
  local started=$1 message=$2 t
  shift 2
  for t in "$@"; do record_prune_metrics "$t" "$started" "$EPOCHSECONDS" 0 1; done
  write_metrics_file || log "warning: could not write the metrics file"
  write_prune_state "$started" "$EPOCHSECONDS" failure 0 "$*" || log "warning: could not write the state file"
  notify_failure "$message" "$*" "$started" 0
  die "$message"
}

cmd_prune() {
  local method t rc freed total=0 out started t_started
  local -a targets failed=()
  job_setting -v method METHOD
  [[ "$method" != sync ]] || die "job $JOB uses method sync: one mirror and no retention, so nothing to prune (its history is the bucket's versioning)"
  if [[ -n "$TARGET_ARG" ]]; then
    t=$(pick_target "$TARGET_ARG")
    targets=("$t")
  else
    read -r -a targets <<<"$(job_targets)"
  fi
  start_log
  lock_job_for_prune || prune_failed "$EPOCHSECONDS" "prune of job $JOB skipped: a run (or restore) still held $OWB_LOCK_DIR/$JOB.lock after $(job_lock_wait) s" "${targets[@]}"
  test_hold prune-locked
  started=$EPOCHSECONDS
  log "prune: method $method, targets ${targets[*]}"
  mkdir -p -- "$OWB_STAGING_DIR"
  out=$(mktemp "$OWB_STAGING_DIR/prune-$JOB.XXXXXX")
  CLEANUP_DIRS+=("$out")
  for t in "${targets[@]}"; do
    t_started=$EPOCHSECONDS
    set +e
    (
      set -e
      with_target "$t" "$(method_function prune)" "$t" >"$out"
    )
    rc=$?
    set -e
    freed=$(tail -n 1 -- "$out")
    [[ "$freed" =~ ^[0-9]+$ ]] || freed=0
    if ((rc == 0)); then
      log "$t: pruned in $((EPOCHSECONDS - t_started)) s, $freed bytes freed"
      record_prune_metrics "$t" "$t_started" "$EPOCHSECONDS" "$freed" 0
      total=$((total + freed))
    else
      log "$t: prune FAILED (exit $rc) after $((EPOCHSECONDS - t_started)) s; a prune never removes what the retention keeps"
      record_prune_metrics "$t" "$t_started" "$EPOCHSECONDS" "$freed" 1
      failed+=("$t")
    fi
  done
  write_metrics_file || log "warning: could not write the metrics file"
  if ((${#failed[@]} > 0)); then
    write_prune_state "$started" "$EPOCHSECONDS" failure "$total" "${failed[*]}"
    notify_failure "prune failed for target(s): ${failed[*]}" "${failed[*]}" "$started" 0
    die "prune finished with failures: ${failed[*]}"
  fi
  write_prune_state "$started" "$EPOCHSECONDS" success "$total" ""
  log "prune: success, $total bytes freed in $((EPOCHSECONDS - started)) s"
}
