# Part: main. Arguments, then the command.

usage() {
  cat <<'USAGE'
usage: openwebui-backup <command> [<job>] [options]
  run <job> [--allow-shrink]   back up the job's data to every target it names
  list <job> [--target <t>]    show the job's complete backups on a target (pre-upgrade ones marked)
  restore <job> [--target <t>] [--snapshot <id>|latest] (--to <dir> | --in-place [--force])
                               put a backup back: into a new directory, or in place of the live data
  verify <job> [--target <t>]  restore the latest backup into scratch and check every file
  pre-upgrade <job> --to-image <ref>
                               back up before the deploy replaces Open WebUI with <ref> (no data yet: nothing to do)
  rollback <job> [--target <t>]
                               restore the newest pre-upgrade backup in place; Open WebUI stays stopped
  prune <job> [--target <t>]   delete what the job's retention no longer keeps (its own schedule, weekly by default)
  recover                      resume containers a killed run left suspended; settle an interrupted restore
--target defaults to the job's first target. --allow-shrink lets this one run back up a copy
that shrank by more than the job's shrinkLimit since the last successful backup (data removed
on purpose). --force lets --in-place run with no container to stop, and restore a backup of a
newer Open WebUI than the one here. Every command first does what recover does. Settings come
from $OPENWEBUI_BACKUP_ENV or the env file named in this script's header.
USAGE
}

# help_jobs: this host's jobs, read from the env file when it is readable (help never fails).
help_jobs() {
  [[ -r "$ENV_FILE" ]] || { printf '\n(%s is not readable here: run as root to see this host'"'"'s jobs)\n' "$ENV_FILE"; return 0; }
  (
    set +u
    # shellcheck source=/dev/null
    source "$ENV_FILE" 2>/dev/null || exit 0
    printf '\njobs on host %s (%s):\n' "$OWB_HOST" "$ENV_FILE"
    for JOB in $OWB_JOBS; do
      printf '  %-20s %-15s to %s\n' "$JOB" "$(job_setting METHOD)" "$(job_setting TARGETS)"
    done
  )
}

main() {
  local command=${1:-}
  [[ -n "$command" ]] || { usage >&2; exit 2; }
  shift
  case "$command" in
    -h | --help | help) usage; help_jobs; exit 0 ;;
    recover)
      (($# == 0)) || { usage >&2; exit 2; }
      load_env
      cmd_recover
      exit
      ;;
    run | list | restore | verify | pre-upgrade | rollback | prune) ;;
    *) usage >&2; exit 2 ;;
  esac
  [[ $# -ge 1 && "$1" != -* ]] || { usage >&2; exit 2; }
  local job=$1
  shift
  TARGET_ARG="" SNAPSHOT_ARG="" TO_ARG="" IN_PLACE="" FORCE="" ALLOW_SHRINK="" TO_IMAGE_ARG=""
  while (($# > 0)); do
    case "$1" in
      --target) TARGET_ARG=${2:?--target needs a value}; shift 2 ;;
      --snapshot) SNAPSHOT_ARG=${2:?--snapshot needs a value}; shift 2 ;;
      --to) TO_ARG=${2:?--to needs a directory}; shift 2 ;;
      --in-place) IN_PLACE=1; shift ;;
      --force) FORCE=1; shift ;;
      --allow-shrink) ALLOW_SHRINK=1; shift ;;
      --to-image) TO_IMAGE_ARG=${2:?--to-image needs an image reference}; shift 2 ;;
      *) usage >&2; exit 2 ;;
    esac
  done
  [[ -z "$ALLOW_SHRINK" || "$command" == run ]] || { echo "--allow-shrink applies to run only" >&2; exit 2; }
  load_env
  # What a killed run or restore left behind comes first, whatever the command; what cannot
  # be set right is said here, and run and restore --in-place refuse until it is.
  recover_host || log "warning: recovery left something unsettled (see above)"
  select_job "$job"
  "cmd_${command//-/_}"
}

main "$@"
