# Part: results. The state file, alerts (webhook, health-check pings) and Prometheus metrics of a run.

write_state() {
  local started=$1 finished=$2 outcome=$3 bytes=$4 failed_targets=$5 tmp host job method
  mkdir -p -- "$OWB_STATE_DIR"
  tmp=$(mktemp "$OWB_STATE_DIR/.$JOB.json.XXXXXX")
  json_string -v host "$OWB_HOST"
  json_string -v job "$JOB"
  job_setting -v method METHOD
  json_string -v method "$method"
  json_string -v outcome "$outcome"
  json_string -v failed_targets "$failed_targets"
  printf '{"host":%s,"job":%s,"method":%s,"started":%s,"finished":%s,"outcome":%s,"bytes":%s,"failedTargets":%s,"pauseSeconds":%s}\n' \
    "$host" "$job" "$method" "$started" "$finished" "$outcome" "$bytes" "$failed_targets" "${RUN_PAUSE_SECONDS:-0}" >"$tmp"
  mv -f -- "$tmp" "$OWB_STATE_DIR/$JOB.json"
}

# post_url <url> [body file]: a POST, retried a few times; the URL may hold a token, so it
# goes to curl on stdin, not on the command line. Never fails the caller.
post_url() {
  local url=$1 body=${2:-/dev/null}
  printf 'url = "%s"\n' "$url" |
    curl --config - --silent --show-error --fail --max-time 10 --retry 3 --retry-delay 1 --retry-connrefused \
      --header 'Content-Type: application/json' --data-binary "@$body" >/dev/null
}

healthcheck_url() {
  local url
  job_setting -v url HEALTHCHECK_URL
  printf '%s' "${url:-${OWB_HEALTHCHECK_URL:-}}"
}

# ping_healthcheck /start|""|/fail [body file]: the healthchecks.io convention.
ping_healthcheck() {
  local url
  url=$(healthcheck_url)
  [[ -n "$url" ]] || return 0
  post_url "${url%/}$1" "${2:-/dev/null}" || log "warning: could not ping the health check${1:+ ($1)}"
}

# log_tail: the run log's last 20 lines, for an alert. The lines that say what went wrong are
# the last ones, and tee writes the log a moment after a line is logged: so a line is logged
# first, and the tail is read once tee has written it (or after 2 s, should tee be gone).
log_tail() {
  [[ -n "${RUN_LOG:-}" && -f "$RUN_LOG" ]] || return 0
  local mark="sending the failure alert (run $$ at $EPOCHREALTIME)" i n=0 written=""
  local -a lines=()
  log "$mark" || true
  for ((i = 0; i < 20; i++)); do
    mapfile -t lines < <(tail -n 21 -- "$RUN_LOG" 2>/dev/null || true)
    n=${#lines[@]}
    if ((n > 0)) && [[ "${lines[n - 1]}" == *"$mark" ]]; then written=1; break; fi
    sleep 0.1
  done
  if [[ -n "$written" ]]; then n=$((n - 1)); fi
  local first=$((n > 20 ? n - 20 : 0))
  ((n > first)) || return 0
  printf '%s\n' "${lines[@]:first:n-first}"
}

# notify_failure <message> <targets> <started> <bytes>: webhook JSON and the /fail ping. Records
# that this systemd invocation has alerted, so the OnFailure= handler does not alert again.
notify_failure() {
  local message=$1 failed_targets=${2:-} started=${3:-$EPOCHSECONDS} bytes=${4:-0} payload now tail
  now=$EPOCHSECONDS
  tail=$(log_tail)
  payload=$(mktemp)
  printf '{"host":%s,"job":%s,"method":%s,"target":%s,"outcome":"failure","started":%s,"finished":%s,"duration":%s,"bytes":%s,"message":%s,"log":%s}\n' \
    "$(json_string "$OWB_HOST")" "$(json_string "$JOB")" "$(json_string "$(job_setting METHOD)")" "$(json_string "$failed_targets")" \
    "$started" "$now" "$((now - started))" "$bytes" "$(json_string "$message")" "$(json_string "$tail")" >"$payload"
  if [[ -n "${OWB_WEBHOOK_URL:-}" ]]; then
    post_url "$OWB_WEBHOOK_URL" "$payload" || log "warning: could not post the failure to the webhook"
  fi
  printf '%s\n' "$tail" >"$payload"
  ping_healthcheck /fail "$payload"
  rm -f -- "$payload"
  if [[ -n "${INVOCATION_ID:-}" ]]; then
    mkdir -p -- "$OWB_STATE_DIR/alerted"
    : >"$OWB_STATE_DIR/alerted/$INVOCATION_ID"
    find "$OWB_STATE_DIR/alerted" -type f -mtime +7 -delete 2>/dev/null || true
  fi
}

readonly METRICS=(
  "last_run_timestamp_seconds:Unix time the last run of the job to the target finished."
  "last_success_timestamp_seconds:Unix time of the last successful run to the target (0: none yet)."
  "duration_seconds:Duration of the last run, staging included."
  "bytes:Bytes of the data directory the last run backed up."
  "exit_status:0 when the last run to the target succeeded, 1 when it failed."
  "pause_seconds:Seconds the last run kept the containers paused or stopped: the whole copy (consistency pause, stop), or files that never settled while copied online (0: none)."
  # The prune's own (prune.bash), from <job>@<target>.prune.prom.
  "prune_last_run_timestamp_seconds:Unix time the last prune of the job on the target finished."
  "prune_last_success_timestamp_seconds:Unix time of the last successful prune on the target (0: none yet)."
  "prune_duration_seconds:Duration of the last prune on the target."
  "prune_bytes_freed:Bytes the last prune removed from the target (buckets: current objects; old versions stay until the lifecycle removes them)."
  "prune_exit_status:0 when the last prune on the target succeeded, 1 when it failed."
)

# record_metrics <target> <started> <finished> <bytes> <status>: this job's and target's lines,
# kept under the state directory so the file always covers every job of the host.
record_metrics() {
  write_target_metrics "" "$1" "$2" "$3" "$5" bytes "$4" pause_seconds "${RUN_PAUSE_SECONDS:-0}"
}

# write_target_metrics <kind> <target> <started> <finished> <status> [<name> <value>]…: the
# lines of one kind of work ("" a run, "prune_" a prune) of this job on a target, in a file of
# their own under <state dir>/metrics: when it last ran, last succeeded (kept from the file when
# this one failed), how long it took, its exit status, and the values given.
write_target_metrics() {
  local kind=$1 t=$2 started=$3 finished=$4 status=$5 file last_success=0 labels
  shift 5
  [[ -n "${OWB_METRICS_FILE:-}" ]] || return 0
  mkdir -p -- "$OWB_STATE_DIR/metrics"
  file="$OWB_STATE_DIR/metrics/$JOB@$t.${kind:+${kind%_}.}prom"
  if [[ -f "$file" ]]; then
    last_success=$(sed -n "s/^openwebui_backup_${kind}last_success_timestamp_seconds{[^}]*} \([0-9]*\)\$/\1/p" "$file")
  fi
  if ((status == 0)); then last_success=$finished; fi
  labels=$(printf 'host="%s",job="%s",target="%s"' "$OWB_HOST" "$JOB" "$t")
  {
    printf 'openwebui_backup_%slast_run_timestamp_seconds{%s} %s\n' "$kind" "$labels" "$finished"
    printf 'openwebui_backup_%slast_success_timestamp_seconds{%s} %s\n' "$kind" "$labels" "${last_success:-0}"
    printf 'openwebui_backup_%sduration_seconds{%s} %s\n' "$kind" "$labels" "$((finished - started))"
    printf 'openwebui_backup_%sexit_status{%s} %s\n' "$kind" "$labels" "$status"
    while (($# >= 2)); do
      printf 'openwebui_backup_%s%s{%s} %s\n' "$kind" "$1" "$labels" "$2"
      shift 2
    done
  } >"$file.tmp"
  mv -f -- "$file.tmp" "$file"
}

# write_metrics_file: the textfile collector's file, from every job's lines, renamed into place.
write_metrics_file() {
  [[ -n "${OWB_METRICS_FILE:-}" ]] || return 0
  local dir tmp m name f line
  local -a lines=() more
  dir=$(dirname -- "$OWB_METRICS_FILE")
  mkdir -p -- "$dir"
  tmp=$(mktemp "$dir/.openwebui-backup-metrics.XXXXXX")
  # Every job's lines, read once with builtins: this runs at the end of every run and restore.
  for f in "$OWB_STATE_DIR"/metrics/*.prom; do
    if [[ -f "$f" ]] && mapfile -t more <"$f"; then lines+=("${more[@]}"); fi
  done
  {
    for m in "${METRICS[@]}"; do
      name="openwebui_backup_${m%%:*}"
      printf '# HELP %s %s\n# TYPE %s gauge\n' "$name" "${m#*:}" "$name"
      for line in "${lines[@]}"; do
        if [[ "$line" == "$name{"* ]]; then printf '%s\n' "$line"; fi
      done
    done
  } >"$tmp"
  chmod 0644 "$tmp"
  mv -f -- "$tmp" "$OWB_METRICS_FILE"
}
