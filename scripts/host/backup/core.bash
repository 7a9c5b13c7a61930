# Part: core. Shell options, logging, the env file's settings, and exit handling.
# The renderer joins the parts into one script and puts a header above them (shebang, what
# generated it, the default env file path in DEFAULT_ENV_FILE); every setting, path and
# credential comes from that env file, so this text is the same on every host.
set -Eeuo pipefail
umask 077
export LC_ALL=C

readonly ENV_FILE="${OPENWEBUI_BACKUP_ENV:-$DEFAULT_ENV_FILE}"
readonly MANIFEST=manifest.json
readonly SNAPSHOT_FOLDER_PATTERN='^open-webui-backup-[0-9]{8}T[0-9]{6}Z$'

JOB=""
# Containers this run paused or stopped; the EXIT trap brings back exactly these.
SUSPENDED=()
SUSPEND_MODE=""
CLEANUP_DIRS=()

# One line per step on stderr: the journal (or cron's log file) keeps it, and
# start_log also copies it, with the tools' own messages, into the job's log file.
log() {
  local now
  TZ=UTC0 printf -v now '%(%Y-%m-%dT%H:%M:%SZ)T' -1 # the shell's own clock: no process per line
  printf '%s %s\n' "$now" "${JOB:+[$JOB] }$*" >&2
}

start_log() {
  mkdir -p -- "$OWB_LOG_DIR"
  RUN_LOG="$OWB_LOG_DIR/$JOB.log"
  # tee outlives a signal to the whole group (systemctl stop, Ctrl-C), so the run's last words
  # reach the log, and a shell writing them (bash reports a child killed by the signal) is not
  # killed by SIGPIPE before its exit trap has resumed the containers. -p: a vanished terminal
  # does not end it either.
  exec 2> >(trap '' INT TERM HUP; exec tee -p -a -- "$RUN_LOG" >&2)
}

die() {
  log "error: $*"
  exit 1
}

load_env() {
  [[ -r "$ENV_FILE" ]] || die "cannot read env file $ENV_FILE (set OPENWEBUI_BACKUP_ENV to use another)"
  # shellcheck source=/dev/null
  source "$ENV_FILE"
  case "$(stat -L -c %a -- "$ENV_FILE")" in
    600 | 400) ;;
    *) log "warning: $ENV_FILE holds credentials but is not mode 0600" ;;
  esac
  # The renderer lists every setting this host must have (the env contract's required ones).
  [[ -n "${OWB_REQUIRED:-}" ]] || die "env file $ENV_FILE does not set OWB_REQUIRED; was it written by the renderer?"
  local name missing=()
  for name in $OWB_REQUIRED; do
    [[ -n "${!name:-}" ]] || missing+=("$name")
  done
  ((${#missing[@]} == 0)) || die "env file $ENV_FILE does not set ${missing[*]}"
}

# Config names are [a-z0-9-]; shell variable names use '_' instead.
ident() { printf '%s' "${1//-/_}"; }

# setting [-v <var>] <name>: the value of OWB_<name>, or empty. With -v it goes into <var>, as
# with printf -v: no subshell, for the settings a run reads many times. (The accessors' locals
# start with _ so that they do not hide the caller's <var>.)
setting() {
  if [[ "$1" == -v ]]; then
    local _var="OWB_$3"
    printf -v "$2" '%s' "${!_var-}"
  else
    local _var="OWB_$1"
    printf '%s' "${!_var-}"
  fi
}

# job_setting [-v <var>] <name>, target_setting [-v <var>] <target> <name>: a job's or a
# target's setting.
job_setting() {
  if [[ "$1" == -v ]]; then setting -v "$2" "JOB_${JOB//-/_}_$3"; else setting "JOB_${JOB//-/_}_$1"; fi
}
target_setting() {
  if [[ "$1" == -v ]]; then setting -v "$2" "TARGET_${3//-/_}_$4"; else setting "TARGET_${1//-/_}_$2"; fi
}

select_job() {
  local name=$1 known
  read -r -a known <<<"$OWB_JOBS"
  local j
  for j in "${known[@]}"; do
    if [[ "$j" == "$name" ]]; then JOB=$name; return 0; fi
  done
  die "unknown job \"$name\"; jobs on this host: $OWB_JOBS"
}

job_targets() { job_setting TARGETS; }

# pick_target <requested or empty>: the job's first target unless one is named.
pick_target() {
  local wanted=$1 targets t
  read -r -a targets <<<"$(job_targets)"
  [[ -n "$wanted" ]] || { printf '%s' "${targets[0]}"; return 0; }
  for t in "${targets[@]}"; do
    [[ "$t" == "$wanted" ]] && { printf '%s' "$t"; return 0; }
  done
  die "job $JOB has no target \"$wanted\"; its targets: ${targets[*]}"
}

# job_target_setting [-v <var>] <target> <name>: a setting of the job on one of its targets.
job_target_setting() {
  if [[ "$1" == -v ]]; then setting -v "$2" "JOB_${JOB//-/_}_AT_${3//-/_}_$4"; else setting "JOB_${JOB//-/_}_AT_${1//-/_}_$2"; fi
}

# target_location [-v <var>] <target>: where this job's backups live on a target:
# <prefix or host>/<job>, or a local path.
target_location() {
  if [[ "$1" == -v ]]; then job_target_setting -v "$2" "$3" LOCATION; else job_target_setting "$1" LOCATION; fi
}

# method_function ship|list|restore: the job's method's function of that kind, defined by
# the method's part (methods/<method>.bash).
method_function() {
  local fn
  fn="$1_$(ident "$(job_setting METHOD)")"
  declare -F "$fn" >/dev/null || die "method $(job_setting METHOD) of job $JOB has no $1 function"
  printf '%s' "$fn"
}

# retention_rules: the job's retention, one rule a line: "<rule> <count> <date format of its
# period>", where rule is restic's --keep-<rule> and "last" keeps the newest <count>.
retention_rules() {
  retention_rule last "$(job_setting KEEP_LAST)" -
  retention_rule hourly "$(job_setting KEEP_HOURLY)" %Y%m%d%H
  retention_rule daily "$(job_setting KEEP_DAILY)" %Y%m%d
  retention_rule weekly "$(job_setting KEEP_WEEKLY)" %G%V
  retention_rule monthly "$(job_setting KEEP_MONTHLY)" %Y%m
  retention_rule yearly "$(job_setting KEEP_YEARLY)" %Y
}
retention_rule() { [[ -z "$2" ]] || printf '%s %s %s\n' "$1" "$2" "$3"; }

now_epoch() { printf '%s' "${OPENWEBUI_BACKUP_NOW:-$EPOCHSECONDS}"; }

# json_string [-v <var>] <text>: the text as a JSON string, quotes included; into <var> with -v.
json_string() {
  local _into=""
  if [[ "$1" == -v ]]; then _into=$2; shift 2; fi
  local _text=$1
  _text=${_text//\\/\\\\}
  _text=${_text//\"/\\\"}
  _text=${_text//$'\n'/\\n}
  _text=${_text//$'\r'/\\r}
  _text=${_text//$'\t'/\\t}
  _text="\"${_text//[$'\001'-$'\037']/}\"" # other control characters are dropped
  if [[ -n "$_into" ]]; then printf -v "$_into" '%s' "$_text"; else printf '%s' "$_text"; fi
}

on_exit() {
  local status=$?
  set +e
  # A second Ctrl-C or SIGTERM must not cut the cleanup short; should the log's tee be gone all
  # the same (killed outright), a log line must not end this trap with SIGPIPE before it has
  # resumed every container.
  trap '' INT TERM PIPE
  restore_on_exit
  if ((${#SUSPENDED[@]} > 0)); then
    resume_containers || { log "error: could not resume every container; check: docker ps -a"; status=1; }
  fi
  ((${#CLEANUP_DIRS[@]} == 0)) || rm -rf -- "${CLEANUP_DIRS[@]}"
  exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
