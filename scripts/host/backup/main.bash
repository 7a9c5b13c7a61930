# Part: main. Arguments, then the command.

usage() {
  cat <<'USAGE'
usage: openwebui-backup run <job>
       openwebui-backup list <job> [--target <t>]
       openwebui-backup restore <job> [--target <t>] [--snapshot <id>|latest] (--to <dir> | --in-place)
       openwebui-backup verify <job> [--target <t>]
       openwebui-backup pre-upgrade <job> --to-image <ref>
       openwebui-backup rollback <job> [--target <t>]
restore --in-place refuses a backup of a newer Open WebUI than the one here unless --force.
pre-upgrade backs up before the deploy replaces Open WebUI with <ref> (no data yet: nothing to do);
rollback restores the newest pre-upgrade backup in place and leaves Open WebUI stopped.
--target defaults to the job's first target. Settings come from $OPENWEBUI_BACKUP_ENV
or the env file named in this script's header.
USAGE
}

main() {
  local command=${1:-}
  [[ -n "$command" ]] || { usage >&2; exit 2; }
  shift
  case "$command" in
    -h | --help | help) usage; exit 0 ;;
    run | list | restore | verify | pre-upgrade | rollback) ;;
    *) usage >&2; exit 2 ;;
  esac
  [[ $# -ge 1 && "$1" != -* ]] || { usage >&2; exit 2; }
  local job=$1
  shift
  TARGET_ARG="" SNAPSHOT_ARG="" TO_ARG="" IN_PLACE="" TO_IMAGE_ARG="" FORCE=""
  while (($# > 0)); do
    case "$1" in
      --target) TARGET_ARG=${2:?--target needs a value}; shift 2 ;;
      --snapshot) SNAPSHOT_ARG=${2:?--snapshot needs a value}; shift 2 ;;
      --to) TO_ARG=${2:?--to needs a directory}; shift 2 ;;
      --in-place) IN_PLACE=1; shift ;;
      --to-image) TO_IMAGE_ARG=${2:?--to-image needs an image reference}; shift 2 ;;
      --force) FORCE=1; shift ;;
      *) usage >&2; exit 2 ;;
    esac
  done
  load_env
  select_job "$job"
  "cmd_${command//-/_}"
}

main "$@"
