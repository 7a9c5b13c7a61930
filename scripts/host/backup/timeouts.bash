# Part: timeouts. Every wait has a bound: the job's own timeout on a run, network timeouts
# for rclone, a target that must answer before anything is sent to it, and a report instead
# of silence when a run finds its job still held by an earlier one.

# At the job's timeout the run gets TERM, on which its traps bring the containers back; what
# still runs this many seconds later is killed.
readonly TIMEOUT_KILL_AFTER=120
# The systemd unit's TimeoutStartSec= is the job's timeout plus this (JOB_TIMEOUT_MARGIN_SEC in
# scripts/render/systemd.ts): room for the TERM, the kill and the alert. A run that holds its
# job's lock longer than that is stuck.
readonly TIMEOUT_MARGIN=300
# Seconds a target has to answer a listing before the run gives up on it.
readonly TARGET_ANSWER_WITHIN=60

# The fault tests shorten these two waits (OPENWEBUI_BACKUP_TEST_KILL_AFTER and
# OPENWEBUI_BACKUP_TEST_ANSWER_WITHIN); nothing on a host sets them.
kill_after() { printf '%s' "${OPENWEBUI_BACKUP_TEST_KILL_AFTER:-$TIMEOUT_KILL_AFTER}"; }
answer_within() { printf '%s' "${OPENWEBUI_BACKUP_TEST_ANSWER_WITHIN:-$TARGET_ANSWER_WITHIN}"; }

# start_job_timeout run|verify: from here on the run has its job's timeout. A watchdog, a
# background subshell in the run's own process group (so whatever kills the run kills it
# too), sends TERM to the run and everything it started once the time is up; the run's traps
# then bring the containers back, and its TERM trap reports the timeout. What still runs
# TIMEOUT_KILL_AFTER seconds later is killed (and reported by the watchdog if the run itself
# was among it).
start_job_timeout() {
  JOB_TIMED=$1
  job_setting -v JOB_LIMIT TIMEOUT
  [[ "$JOB_LIMIT" =~ ^[1-9][0-9]*$ ]] || die "env file: the timeout of job $JOB is \"$JOB_LIMIT\", not a number of seconds"
  JOB_STARTED=$EPOCHSECONDS
  JOB_MARKS=$(metrics_marks)
  RUN_TICKS=$(process_start "$$")
  watchdog </dev/null >/dev/null 2>>"${RUN_LOG:-/dev/null}" &
  trap on_term TERM
}

# on_term: the run's TERM trap. At or past the timeout it is the watchdog's TERM: report it.
on_term() {
  local elapsed=$((EPOCHSECONDS - JOB_STARTED))
  if ((elapsed >= JOB_LIMIT)); then
    report_unfinished "timed out after $elapsed s (timeout: $JOB_LIMIT s) and was stopped"
    exit 124
  fi
  exit 143
}

# watchdog: sleeps until the run's deadline (waking to see whether the run is still there),
# then stops the run and what it started: TERM, and KILL to whatever of them still runs
# TIMEOUT_KILL_AFTER seconds later (a child that ignores TERM, or hangs in the kernel).
watchdog() {
  local deadline=$((JOB_STARTED + JOB_LIMIT)) grace now left
  grace=$(kill_after)
  local -a stopped
  WATCHDOG_PID=$BASHPID
  exec 9>&- # the job's lock is the run's
  while now=$EPOCHSECONDS && ((now < deadline)); do
    run_alive || exit 0
    sleep "$((deadline - now < 5 ? deadline - now : 5))"
  done
  run_alive || exit 0
  log "the run has reached its timeout of $JOB_LIMIT s; stopping it"
  # Listed before the signal: a process whose parent ends is no longer the run's child.
  mapfile -t stopped < <(printf '%s %s\n' "$$" "$RUN_TICKS"; run_processes)
  signal_processes TERM "${stopped[@]}"
  for ((now = 0; now < grace; now++)); do
    left=$(still_running "${stopped[@]}")
    [[ -n "$left" ]] || exit 0
    sleep 1
  done
  left=$(still_running "${stopped[@]}")
  [[ -n "$left" ]] || exit 0
  log "still running $grace s after TERM, so killed: $(cut -d ' ' -f 1 <<<"$left" | tr '\n' ' ')"
  mapfile -t stopped <<<"$left"
  signal_processes KILL "${stopped[@]}"
  # The run itself was among them: it could not report.
  if grep -q "^$$ " <<<"$left"; then report_unfinished "timed out and did not stop on TERM; it was killed $grace s later"; fi
}

# process_start <pid>: when the process started (clock ticks since boot), or nothing: with the
# pid, it names one process even after the pid is reused.
process_start() {
  local stat fields
  read -r stat 2>/dev/null <"/proc/$1/stat" || return 0 # (2> first: it must cover the < that fails)
  read -r -a fields <<<"${stat##*) }"
  printf '%s' "${fields[19]}"
}

run_alive() { [[ "$(process_start "$$")" == "$RUN_TICKS" ]]; }

# run_processes: "<pid> <start>" of every process the run started, the watchdog's own left out.
run_processes() {
  local f stat pid c
  local -a fields queue=("$$")
  local -A children=() start_of=()
  for f in /proc/[0-9]*/stat; do
    read -r stat 2>/dev/null <"$f" || continue
    read -r -a fields <<<"${stat##*) }"
    pid=${stat%% *}
    children[${fields[1]}]+=" $pid"
    start_of[$pid]=${fields[19]}
  done
  while ((${#queue[@]} > 0)); do
    pid=${queue[0]}
    queue=("${queue[@]:1}")
    for c in ${children[$pid]:-}; do
      if [[ "$c" != "$WATCHDOG_PID" ]]; then
        printf '%s %s\n' "$c" "${start_of[$c]}"
        queue+=("$c")
      fi
    done
  done
}

# still_running "<pid> <start>"…: those of them that are still there.
still_running() {
  local p
  for p in "$@"; do
    if [[ "$(process_start "${p%% *}")" == "${p#* }" ]]; then printf '%s\n' "$p"; fi
  done
}

# signal_processes TERM|KILL "<pid> <start>"…
signal_processes() {
  local sig=$1 p
  shift
  for p in $(still_running "$@" | cut -d ' ' -f 1); do kill "-$sig" "$p" 2>/dev/null || true; done
}

# report_unfinished <what happened>: the failure of a run that was stopped: its staging or
# scratch copy removed, state, metrics of the targets it did not finish, and the alert.
report_unfinished() {
  local what=$1 t finished
  local -a targets unfinished=()
  read -r -a targets <<<"$(job_targets)"
  if [[ "$JOB_TIMED" == verify ]]; then
    t=$(pick_target "${TARGET_ARG:-}")
    log "error: the restore drill of job $JOB on target $t $what"
    # The drill's own trap removes its scratch copy; once it was killed, the watchdog does.
    if [[ "$BASHPID" != "$$" ]]; then rm -rf -- "${OWB_STAGING_DIR:?}/verify-$JOB".*; fi
    notify_failure "restore drill $what" "$t" "$JOB_STARTED" 0
    return 0
  fi
  rm -rf -- "${OWB_STAGING_DIR:?}/$JOB" # the run holds (or held, until it was killed) the job's lock
  finished=$EPOCHSECONDS
  for t in "${targets[@]}"; do
    if [[ "$(metrics_marks "$t")" == "$(grep -x "$t [0-9-]*" <<<"$JOB_MARKS")" ]]; then
      unfinished+=("$t")
      record_metrics "$t" "$JOB_STARTED" "$finished" 0 1
    fi
  done
  write_metrics_file || log "warning: could not write the metrics file"
  write_state "$JOB_STARTED" "$finished" failure 0 "${unfinished[*]}"
  log "error: the run $what; not finished: ${unfinished[*]:-(none)}. Nothing was pruned on those targets; their earlier backups are untouched"
  notify_failure "backup run $what; not finished: ${unfinished[*]:-(none)}" "${unfinished[*]}" "$JOB_STARTED" 0
}

# metrics_marks [target]: "<target> <inode of its metrics lines>" for each of the job's
# targets. record_metrics replaces the file, so a new inode says the run recorded that target.
metrics_marks() {
  local t inode
  for t in ${1:-$(job_targets)}; do
    inode=-
    if [[ -n "${OWB_METRICS_FILE:-}" ]]; then inode=$(stat -c %i -- "$OWB_STATE_DIR/metrics/$JOB@$t.prom" 2>/dev/null || echo -); fi
    printf '%s %s\n' "$t" "$inode"
  done
}

# note_lock_holder <lock file>: who holds the job's lock, for a run that finds it held:
# "<pid> <started> <command> <timeout seconds or ->".
note_lock_holder() {
  local limit=-
  if [[ "${FUNCNAME[2]:-}" == cmd_run ]]; then limit=$(job_setting TIMEOUT); fi
  printf '%s %s %s %s\n' "$$" "$EPOCHSECONDS" "${FUNCNAME[2]#cmd_}" "$limit" >"$1"
}

# lock_held <lock file>: this run does not start. It says who holds the lock, and alerts when
# that run is past its timeout (it is stuck: under cron nothing else would tell).
lock_held() {
  local lock=$1 pid="" started="" command="" limit="" age
  read -r pid started command limit 2>/dev/null <"$lock" || true
  [[ "$started" =~ ^[0-9]+$ ]] || die "another run of job $JOB holds $lock; not waiting"
  age=$((EPOCHSECONDS - started))
  if [[ "$limit" =~ ^[0-9]+$ ]] && ((age > limit + TIMEOUT_MARGIN)); then
    log "error: another run of job $JOB holds $lock: a $command (pid $pid) started $age s ago, past its timeout of $limit s; it is stuck. This run did not start. Look at it: ps -o pid,stat,etime,cmd -p $pid --ppid $pid"
    notify_failure "a $command of job $JOB (pid $pid) started $age s ago still runs, past its timeout of $limit s; later runs cannot start until it ends" "$(job_targets)" "$EPOCHSECONDS" 0
    exit 1
  fi
  if [[ "$limit" =~ ^[0-9]+$ ]]; then limit=", within its timeout of $limit s"; else limit=""; fi
  die "another run of job $JOB holds $lock: a $command (pid $pid) started $age s ago$limit; this run did not start"
}

# network_timeouts: rclone's bounds, unless the environment sets its own. A refused connection
# is retried for about 25 s per request (7 low-level retries, backing off), and a whole
# transfer 3 times 10 s apart; a connection that stays silent for a minute is broken.
network_timeouts() {
  export RCLONE_CONTIMEOUT=${RCLONE_CONTIMEOUT:-15s}
  export RCLONE_TIMEOUT=${RCLONE_TIMEOUT:-1m}
  export RCLONE_LOW_LEVEL_RETRIES=${RCLONE_LOW_LEVEL_RETRIES:-7}
  export RCLONE_RETRIES=${RCLONE_RETRIES:-3}
  export RCLONE_RETRIES_SLEEP=${RCLONE_RETRIES_SLEEP:-10s}
}

# target_answers <target>: a listing of the job's folder on a bucket target must come back within
# TARGET_ANSWER_WITHIN seconds, so a dead target fails the run in about a minute instead of
# holding it in retries or, for restic, in a request that never returns.
target_answers() {
  local t=$1 rc=0 errors within
  within=$(answer_within)
  errors=$(bounded "$within" rclone lsf --max-depth 1 "$(rclone_root "$t")" 2>&1 >/dev/null) || rc=$?
  case $rc in
    0 | 3) return 0 ;; # 3: the folder does not exist yet
    124 | 137) die "$t: the target did not answer within $within s; nothing was sent to it" ;;
  esac
  log "$t: $(tail -n 2 <<<"$errors" | tr '\n' ' ')"
  die "$t: the target cannot be reached (rclone exit $rc); nothing was sent to it"
}

# bounded <seconds> <command…>: the command, interrupted (INT, on which restic removes its lock)
# once it has run that long; exit 124 then. --foreground keeps it in the run's process group,
# so the job's own timeout still reaches it.
bounded() {
  local limit=$1
  shift
  timeout --foreground --signal=INT --kill-after=30 "$limit" "$@"
}
