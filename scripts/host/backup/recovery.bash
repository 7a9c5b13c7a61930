# Part: recovery. What a killed run or restore left behind, set right by the next invocation
# of any subcommand, and by `openwebui-backup recover` (the job units' ExecStopPost=).

# write_file_atomically <file>: stdin into <file>, synced and renamed into place, so a reader,
# or the host after a power cut, finds the old content or the new one, never half of either.
write_file_atomically() {
  local file=$1 dir tmp
  dir=$(dirname -- "$file")
  mkdir -p -- "$dir"
  tmp=$(mktemp "$file.XXXXXX") || return 1
  if cat >"$tmp" && sync -- "$tmp" && mv -f -- "$tmp" "$file"; then
    sync -- "$dir"
    return 0
  fi
  rm -f -- "$tmp"
  return 1
}

# recover_host: settles an interrupted in-place restore, then resumes containers a dead run
# left paused or stopped. Quiet and lock-free when there is nothing to do; does nothing while
# their owner is still alive (it holds the containers lock and finishes its own work).
# Fails when something is still left: an unsettled restore, a container that would not start.
recover_host() {
  [[ -e "$(suspend_record)" || -e "$(restore_journal)" ]] || return 0
  if ! lock_for_recovery; then
    log "a run or restore in progress holds the containers; it brings them back itself"
    return 0
  fi
  local status=0 job=$JOB
  if [[ -e "$(restore_journal)" ]]; then recover_restore || status=1; fi
  # A restore's stopped containers are its journal's to bring back: never on data it left unsettled.
  if [[ -e "$(suspend_record)" && ! -e "$(restore_journal)" ]]; then recover_suspended || status=1; fi
  JOB=$job
  unlock_recovery
  return "$status"
}

# recover_suspended: the suspend record of a run that died in its pause/stop window.
recover_suspended() {
  local status=0 summary
  resume_recorded alerting || status=1
  JOB=$RECORD_JOB
  summary="resumed: ${RESUMED[*]:-none}"
  if ((${#NOT_RESUMED[@]} > 0)); then summary+="; changed since, left as they are: ${NOT_RESUMED[*]}"; fi
  if ((status != 0)); then summary+="; FAILED to resume some (see above; still recorded, retried by the next invocation)"; fi
  log "a ${RECORD_OWNER:-run} of job ${RECORD_JOB:-?} died while it had the containers suspended; $summary"
  # One alert per dead run: a record kept for a retry is marked alerted.
  if [[ -z "$RECORD_ALERTED" ]]; then
    notify_failure "a ${RECORD_OWNER:-run} of job ${RECORD_JOB:-?} was killed while it had the containers paused or stopped; $summary" "" "$EPOCHSECONDS" 0
  fi
  return "$status"
}

cmd_recover() {
  if ! recover_host; then
    log "recover: something is still left (see above)"
    return 1
  fi
  # Still there only when their owner is alive (recover_host said so).
  if [[ ! -e "$(suspend_record)" && ! -e "$(restore_journal)" ]]; then log "recover: nothing left suspended or half-restored"; fi
}
