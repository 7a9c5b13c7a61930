# Part: main. Arguments, then the command.

usage() {
  cat <<'USAGE'
usage: openwebui-backup run <job> [--allow-shrink]
       openwebui-backup list <job> [--target <t>]
       openwebui-backup restore <job> [--target <t>] [--snapshot <id>|latest] (--to <dir> | --in-place)
       openwebui-backup verify <job> [--target <t>]
--target defaults to the job's first target. --allow-shrink lets this one run back up a copy
that shrank by more than the job's shrinkLimit since the last successful backup (data removed
on purpose). Settings come from $OPENWEBUI_BACKUP_ENV or the env file named in this script's header.
USAGE
}

main() {
  local command=${1:-}
  [[ -n "$command" ]] || { usage >&2; exit 2; }
  shift
  case "$command" in
    -h | --help | help) usage; exit 0 ;;
    run | list | restore | verify) ;;
    *) usage >&2; exit 2 ;;
  esac
  [[ $# -ge 1 && "$1" != -* ]] || { usage >&2; exit 2; }
  local job=$1
  shift
  TARGET_ARG="" SNAPSHOT_ARG="" TO_ARG="" IN_PLACE="" ALLOW_SHRINK=""
  while (($# > 0)); do
    case "$1" in
      --target) TARGET_ARG=${2:?--target needs a value}; shift 2 ;;
      --snapshot) SNAPSHOT_ARG=${2:?--snapshot needs a value}; shift 2 ;;
      --to) TO_ARG=${2:?--to needs a directory}; shift 2 ;;
      --in-place) IN_PLACE=1; shift ;;
      --allow-shrink) ALLOW_SHRINK=1; shift ;;
      *) usage >&2; exit 2 ;;
    esac
  done
  [[ -z "$ALLOW_SHRINK" || "$command" == run ]] || { echo "--allow-shrink applies to run only" >&2; exit 2; }
  load_env
  select_job "$job"
  "cmd_$command"
}

main "$@"
