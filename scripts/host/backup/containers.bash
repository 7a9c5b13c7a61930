# Part: containers. Pausing or stopping the Open WebUI containers around a copy, and bringing back exactly what was suspended.

# suspend_containers pause|stop: only containers that are running, so a container
# someone stopped on purpose is not started by us afterwards.
suspend_containers() {
  local mode=$1 c state containers
  read -r -a containers <<<"${OWB_CONTAINERS:-}"
  SUSPEND_MODE=$mode
  for c in "${containers[@]}"; do
    state=$(docker inspect --format '{{ .State.Status }}' "$c" 2>/dev/null || true)
    if [[ "$state" != "running" ]]; then
      log "container $c is ${state:-absent}; leaving it as it is"
      continue
    fi
    log "${mode}ping container $c"
    SUSPENDED+=("$c")
    if [[ "$mode" == pause ]]; then docker pause "$c" >/dev/null; else docker stop "$c" >/dev/null; fi
  done
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
  return "$failed"
}
