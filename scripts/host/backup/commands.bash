# Part: commands. run, list, restore and verify (prune: prune.bash), built from the parts above and the method's functions.

take_lock() {
  local lock="$OWB_LOCK_DIR/$JOB.lock"
  mkdir -p -- "$OWB_LOCK_DIR"
  # <> opens without truncating: the holder's note stays readable to a run that finds it held.
  exec 9<>"$lock"
  if ! flock -n 9; then
    # A prune of the job is waited for (prune.bash), bounded.
    if ! wait_behind_prune; then
      # LOCK_WAIT_SECONDS (pre-upgrade): a deploy waits for a scheduled run instead of failing.
      [[ -n "${LOCK_WAIT_SECONDS:-}" ]] || lock_held "$lock"
      log "another run of job $JOB holds $lock; waiting up to $LOCK_WAIT_SECONDS s"
      flock -w "$LOCK_WAIT_SECONDS" 9 || lock_held "$lock"
    fi
  fi
  note_lock_holder "$lock"
}

cmd_run() {
  take_lock
  start_log
  start_job_timeout run
  local started method consistency stage_dir t rc bytes=0 failed=()
  started=$EPOCHSECONDS
  job_setting -v method METHOD
  job_setting -v consistency CONSISTENCY
  local -a targets
  read -r -a targets <<<"$(job_targets)"
  log "start: method $method, targets ${targets[*]}, consistency $consistency"
  ping_healthcheck /start

  # Each step runs in a subshell so its failure can be handled here. `set +e` lets this shell
  # see the status; the subshell turns errexit back on, since it inherits the +e.
  stage_dir="$OWB_STAGING_DIR/$JOB"
  prepare_staging "$stage_dir"
  if [[ "$method" != pull ]]; then # a pull copies another host's snapshots: nothing to stage
    set +e
    (
      set -e
      stage_job "$stage_dir" "$started"
    )
    rc=$?
    set -e
    RUN_PAUSE_SECONDS=$(staged_pause_seconds)
    if ((rc != 0)); then
      local finished
      finished=$EPOCHSECONDS
      write_state "$started" "$finished" failure 0 ""
      for t in "${targets[@]}"; do record_metrics "$t" "$started" "$finished" 0 1; done
      write_metrics_file || log "warning: could not write the metrics file"
      notify_failure "$(failure_message "staging the data directory failed")" "${targets[*]}" "$started" 0
      die "$(refused_or "staging failed"); nothing was shipped or pruned"
    fi
    bytes=$(bytes_of "$stage_dir/data")
  fi

  for t in "${targets[@]}"; do
    local t_started t_bytes=$bytes
    t_started=$EPOCHSECONDS
    set +e
    (
      set -e
      with_target "$t" "$(method_function ship)" "$t" "$stage_dir"
    )
    rc=$?
    set -e
    if [[ "$method" == pull ]]; then
      local newest_pulled
      newest_pulled=$(local_complete "$(target_location "$t")" | tail -n 1)
      t_bytes=0
      if [[ -n "$newest_pulled" ]]; then t_bytes=$(bytes_of "$(target_location "$t")/$newest_pulled/data"); fi
      if ((t_bytes > bytes)); then bytes=$t_bytes; fi
    fi
    if ((rc == 0)); then
      log "$t: done in $((EPOCHSECONDS - t_started)) s"
      record_metrics "$t" "$started" "$EPOCHSECONDS" "$t_bytes" 0
    else
      log "$t: FAILED (exit $rc) after $((EPOCHSECONDS - t_started)) s; its old backups were left untouched"
      record_metrics "$t" "$started" "$EPOCHSECONDS" "$t_bytes" 1
      failed+=("$t")
    fi
  done
  # The next run's shrink check compares with this run's copy, once every target holds it.
  ((${#failed[@]} > 0)) || remember_manifest "$(shipped_manifest "$stage_dir" "${targets[0]}")"
  rm -rf -- "$stage_dir"
  write_metrics_file || log "warning: could not write the metrics file"

  if ((${#failed[@]} > 0)); then
    write_state "$started" "$EPOCHSECONDS" failure "$bytes" "${failed[*]}"
    notify_failure "$(failure_message "backup failed for target(s): ${failed[*]}")" "${failed[*]}" "$started" "$bytes"
    die "finished with failures: ${failed[*]}"
  fi
  write_state "$started" "$EPOCHSECONDS" success "$bytes" ""
  log "success: $bytes bytes, $((EPOCHSECONDS - started)) s"
  ping_healthcheck ""
}

cmd_list() {
  local t
  t=$(pick_target "$TARGET_ARG")
  with_target "$t" "$(method_function list)" "$t"
  list_pre_upgrade "$t"
}

# restore_into <target> <snapshot> <new dir>
restore_into() {
  local t=$1 snapshot=$2 dest=$3 started
  [[ ! -e "$dest" ]] || die "$dest already exists; restore needs a new directory"
  started=$EPOCHSECONDS
  mkdir -p -- "$(dirname -- "$dest")"
  with_target "$t" "$(method_function restore)" "$t" "$snapshot" "$dest"
  [[ -d "$dest" ]] || die "restore produced no directory"
  log "fetched $(files_of "$dest") files, $(bytes_of "$dest") bytes from $t in $((EPOCHSECONDS - started)) s"
}

show_manifest() {
  [[ -f "$1" ]] || return 0
  log "manifest: $(tr -d '\n' <"$1" | tr -s ' ')"
  warn_version "$1"
}

# warn_version <manifest>: the backup's Open WebUI image against the running container's.
# Open WebUI migrates its database forward when it starts and never back.
warn_version() {
  local backed backed_digest running_line running="" running_digest=""
  backed=$(manifest_field "$1" image)
  backed_digest=$(manifest_field "$1" imageDigest)
  [[ -n "$backed" ]] || return 0
  running_line=$(openwebui_image)
  if [[ -n "$running_line" ]]; then running=${running_line%%$'\t'*}; running_digest=${running_line#*$'\t'}; fi
  [[ -n "$running" ]] || return 0
  if [[ "$running" != "$backed" || (-n "$backed_digest" && -n "$running_digest" && "$running_digest" != "$backed_digest") ]]; then
    log "warning: this backup was made by Open WebUI $backed${backed_digest:+ ($backed_digest)}, schema $(manifest_field "$1" schemaRevision); the running container is $running${running_digest:+ ($running_digest)}. Open WebUI cannot migrate a database back: run the backup's version (or a newer one) with this data."
  fi
}

cmd_restore() {
  local t snapshot=${SNAPSHOT_ARG:-latest}
  t=$(pick_target "$TARGET_ARG")
  [[ "$snapshot" =~ ^(latest|current|[0-9a-f]{8,64}|open-webui-backup-[0-9]{8}T[0-9]{6}Z)$ ]] || die "--snapshot takes latest, current (sync), a restic snapshot id or a snapshot folder name"
  [[ -n "$TO_ARG" || -n "$IN_PLACE" ]] || die "restore needs --to <dir> or --in-place"
  [[ -z "$TO_ARG" || -z "$IN_PLACE" ]] || die "give either --to or --in-place, not both"
  take_lock
  if [[ -n "$TO_ARG" ]]; then
    restore_into "$t" "$snapshot" "$TO_ARG"
    show_manifest "$TO_ARG.manifest.json"
    local files_ok=1
    check_tree "$TO_ARG" "$TO_ARG.manifest.json" || files_ok=""
    rm -f -- "$TO_ARG.manifest.json" "$TO_ARG.$HASHES"
    [[ -n "$files_ok" ]] || die "restored into $TO_ARG, but the files do not match the backup's recorded sha256 (see above); do not use this copy"
    check_databases "$TO_ARG" require || die "restored into $TO_ARG, but integrity_check failed (see above)"
    check_backup_extras "$TO_ARG"
    log "restored $snapshot from $t into $TO_ARG ($(files_of "$TO_ARG") files)"
    return 0
  fi

  restore_in_place "$t" "$snapshot"
}

cmd_verify() {
  local t scratch started status=0
  t=$(pick_target "$TARGET_ARG")
  started=$EPOCHSECONDS
  start_log
  start_job_timeout verify
  ping_healthcheck /start
  mkdir -p -- "$OWB_STAGING_DIR"
  scratch=$(mktemp -d "$OWB_STAGING_DIR/verify-$JOB.XXXXXX")
  CLEANUP_DIRS+=("$scratch")
  log "verify: restoring the latest snapshot from $t into scratch"
  set +e
  (
    set -e
    restore_into "$t" latest "$scratch/data"
    show_manifest "$scratch/data.manifest.json"
    check_tree "$scratch/data" "$scratch/data.manifest.json"
    check_databases "$scratch/data" require
    verify_database "$scratch/data" "$scratch/data.manifest.json"
  )
  status=$?
  set -e
  if ((status != 0)); then
    notify_failure "restore drill failed on target $t" "$t" "$started" 0
    die "verify FAILED for target $t"
  fi
  log "verify ok: $(files_of "$scratch/data") files restored from $t in $((EPOCHSECONDS - started)) s"
  ping_healthcheck ""
}
