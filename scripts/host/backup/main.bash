# Part: main. Arguments, then the command.

usage() {
  cat <<'USAGE'
usage: openwebui-backup run <job>
       openwebui-backup list <job> [--target <t>]
       openwebui-backup restore <job> [--target <t>] [--snapshot <id>|latest] (--to <dir> | --in-place [--force])
       openwebui-backup verify <job> [--target <t>]
       openwebui-backup prune <job> [--target <t>]
       openwebui-backup recover
--target defaults to the job's first target (prune: every target of the job). --force lets
--in-place run with no container to stop. A run only adds; prune frees what the retention no
longer keeps (restic prune, old dated folders), waiting for a run of the job to finish, as a
run waits for it. Every command first resumes containers a killed run left paused or stopped and
settles an interrupted in-place restore; recover does only that. Settings come from
$OPENWEBUI_BACKUP_ENV or the env file named in this script's header.
USAGE
}

main() {
  local command=${1:-}
  [[ -n "$command" ]] || { usage >&2; exit 2; }
  shift
  case "$command" in
    -h | --help | help) usage; exit 0 ;;
    recover)
      (($# == 0)) || { usage >&2; exit 2; }
      load_env
      cmd_recover
      exit
      ;;
    run | list | restore | verify | prune) ;;
    *) usage >&2; exit 2 ;;
  esac
  [[ $# -ge 1 && "$1" != -* ]] || { usage >&2; exit 2; }
  local job=$1
  shift
  TARGET_ARG="" SNAPSHOT_ARG="" TO_ARG="" IN_PLACE="" FORCE=""
  while (($# > 0)); do
    case "$1" in
      --target) TARGET_ARG=${2:?--target needs a value}; shift 2 ;;
      --snapshot) SNAPSHOT_ARG=${2:?--snapshot needs a value}; shift 2 ;;
      --to) TO_ARG=${2:?--to needs a directory}; shift 2 ;;
      --in-place) IN_PLACE=1; shift ;;
      --force) FORCE=1; shift ;;
      *) usage >&2; exit 2 ;;
    esac
  done
  load_env
  # What a killed run or restore left behind comes first, whatever the command; what cannot
  # be set right is said here, and run and restore --in-place refuse until it is.
  recover_host || log "warning: recovery left something unsettled (see above)"
  select_job "$job"
  "cmd_$command"
}

main "$@"
