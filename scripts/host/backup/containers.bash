# Part: containers. Pausing or stopping the Open WebUI containers around a copy, and bringing back exactly what was suspended.
#
# Before it pauses or stops a container, the command records it in the state directory (the
# suspend record), and it removes the record once every one is back. A run killed in between
# (OOM killer, systemctl kill, a reboot) leaves the record; the next invocation, or the unit's
# ExecStopPost=, resumes from it (recovery part).

suspend_record() { printf '%s/suspended-containers' "$OWB_STATE_DIR"; }

# write_suspend_record <owner> <mode> <container…>: "owner <run|restore> <job>", then one
# "<pause|stop> <container>" line each, renamed into place.
write_suspend_record() {
  local owner=$1 mode=$2 c
  shift 2
  {
    printf 'owner %s %s\n' "$owner" "$JOB"
    for c in "$@"; do printf '%s %s\n' "$mode" "$c"; done
  } | write_file_atomically "$(suspend_record)"
}

# suspend_containers pause|stop [run|restore]: only containers that are running, so a
# container someone stopped on purpose is not started by us afterwards. A run takes the
# containers lock first (a restore already holds it). Each container is in the record before
# it is touched: a record that cannot be written stops the run before anything is suspended.
suspend_containers() {
  local mode=$1 owner=${2:-run} c state containers
  read -r -a containers <<<"${OWB_CONTAINERS:-}"
  [[ "$owner" != run ]] || lock_containers_for_copy
  SUSPEND_MODE=$mode
  for c in "${containers[@]}"; do
    state=$(docker inspect --format '{{ .State.Status }}' "$c" 2>/dev/null || true)
    if [[ "$state" != "running" ]]; then
      log "container $c is ${state:-absent}; leaving it as it is"
      continue
    fi
    log "${mode}ping container $c"
    write_suspend_record "$owner" "$mode" "${SUSPENDED[@]}" "$c"
    SUSPENDED+=("$c")
    if [[ "$mode" == pause ]]; then docker pause "$c" >/dev/null; else docker stop "$c" >/dev/null; fi
  done
  test_hold "$owner-suspended"
}

resume_containers() {
  local c failed=0
  for c in "${SUSPENDED[@]}"; do
    if [[ "$SUSPEND_MODE" == pause ]]; then
      docker unpause "$c" >/dev/null || failed=1
    else
      docker start "$c" >/dev/null || failed=1
    fi
    log "resumed container $c"
  done
  SUSPENDED=()
  # A container that did not come back stays in the record for the next invocation.
  if ((failed == 0)); then rm -f -- "$(suspend_record)"; fi
  return "$failed"
}

# resume_recorded [alerting]: brings back each container of the suspend record that is still
# as it was left (paused → unpause, stopped → start); one in another state now was changed by
# someone since and is left alone. Sets RECORD_OWNER, RECORD_JOB, RECORD_ALERTED (an earlier
# recovery already alerted), RESUMED and NOT_RESUMED. Only containers that failed to come back
# stay in the record, marked alerted when the caller alerts.
resume_recorded() {
  local alerting=${1:-} record kind name rest want state verb failed=()
  RECORD_OWNER="" RECORD_JOB="" RECORD_ALERTED="" RESUMED=() NOT_RESUMED=()
  record=$(suspend_record)
  [[ -f "$record" ]] || return 0
  while read -r -u 3 kind name rest; do
    case "$kind" in
      owner) RECORD_OWNER=$name RECORD_JOB=$rest ;;
      alerted) RECORD_ALERTED=1 ;;
      pause | stop)
        want=paused verb=unpause
        if [[ "$kind" == stop ]]; then want=exited verb=start; fi
        state=$(docker inspect --format '{{ .State.Status }}' "$name" 2>/dev/null || true)
        if [[ "$state" != "$want" ]]; then
          log "container $name is ${state:-absent} now, not $want as it was left; leaving it as it is"
          NOT_RESUMED+=("$name")
        elif docker "$verb" "$name" >/dev/null; then
          log "resumed container $name ($verb)"
          RESUMED+=("$name")
        else
          log "error: could not $verb container $name"
          failed+=("$kind $name")
        fi
        ;;
    esac
  done 3<"$record"
  if ((${#failed[@]} == 0)); then
    rm -f -- "$record"
    return 0
  fi
  {
    printf 'owner %s %s\n' "$RECORD_OWNER" "$RECORD_JOB"
    if [[ -n "$RECORD_ALERTED$alerting" ]]; then printf 'alerted\n'; fi
    printf '%s\n' "${failed[@]}"
  } | write_file_atomically "$record"
  return 1
}
