# Method restic: one restic repository per job and target; restic keeps the history.

# Every restic call goes through this. restic starts rclone as `rclone serve restic --stdio
# --b2-hard-delete` unless told otherwise; the same call without the hard delete makes a
# removal on B2 a hide, which the host's key (no deleteFiles) allows.
restic() { command restic -o rclone.args="serve restic --stdio" "$@"; }

restic_env() {
  export RESTIC_REPOSITORY RESTIC_PASSWORD
  RESTIC_REPOSITORY=$(restic_repository "$1")
  RESTIC_PASSWORD=${OWB_RESTIC_PASSWORD:-}
  [[ -n "$RESTIC_PASSWORD" ]] || die "env file sets no OWB_RESTIC_PASSWORD, which method restic needs"
}

restic_tag() { printf 'openwebui-job:%s' "$JOB"; }

restic_retention_args() {
  local rule count _
  while read -r rule count _; do printf -- '--keep-%s\n%s\n' "$rule" "$count"; done < <(retention_rules)
}

# restic_ready <target>: the repository exists (init when it has no config yet) and no stale
# lock of a killed run or prune is in the backup's way. Each restic process opens the
# repository and pays its key derivation (about half a second), so this looks with a listing:
# `restic unlock`, which removes only stale locks, runs only when the locks folder holds any.
restic_ready() {
  local t=$1 store config locks
  store=$(restic_storage "$t")
  if [[ "$(target_setting "$t" TYPE)" == local ]]; then
    config=$([[ ! -f "$store/config" ]] || printf 'config')
    locks=$(find "$store/locks" -type f -print -quit 2>/dev/null || true)
  else
    config=$(rclone_list "$store/config") || die "$t: could not reach the restic repository at $store"
    locks=$(rclone_list --files-only "$store/locks") || die "$t: could not list the restic repository's locks"
  fi
  if [[ -z "$config" ]]; then
    log "$t: initialising restic repository"
    restic init >/dev/null
  elif [[ -n "$locks" ]]; then
    restic unlock >/dev/null
  fi
}

ship_restic() {
  local t=$1 stage_dir=$2
  restic_env "$t"
  restic_ready "$t"
  local summary added
  # Backing up "." from inside the stage keeps snapshot paths short (/data, /manifest.json)
  # and the same every run, so restic finds its parent snapshot and skips unchanged files.
  # Staged files are fresh copies (new inodes) or hard links (whose ctime moves with each link);
  # size and mtime, which the copies keep, say "unchanged". Staging copies a file only after it
  # was still, so a later rewrite cannot carry the same mtime.
  cd -- "$stage_dir"
  summary=$(restic backup --json --ignore-inode --ignore-ctime --host "$OWB_HOST" --tag "$(restic_tag)${PRE_UPGRADE_TO_IMAGE:+,$PRE_UPGRADE_TAG}" . | grep '"message_type":"summary"') ||
    die "$t: restic backup failed"
  added=$(printf '%s' "$summary" | sed -n 's/.*"data_added":\([0-9]*\).*/\1/p')
  log "$t: restic snapshot $(printf '%s' "$summary" | sed -n 's/.*"snapshot_id":"\([0-9a-f]\{8\}\).*/\1/p') saved, ${added:-0} bytes added"
  # forget only: it drops the snapshots the retention no longer keeps, which is cheap. Their
  # data stays until `openwebui-backup prune` (its own schedule) repacks the repository.
  local -a keep
  mapfile -t keep < <(restic_retention_args)
  restic forget --host "$OWB_HOST" --tag "$(restic_tag)" --group-by host,tags "${keep[@]}" >/dev/null
  log "$t: forgot snapshots beyond retention ${keep[*]}; the next prune frees their data"
}

# restic_storage <target>: where the repository's files are, for stored_bytes (inside with_target).
restic_storage() {
  case "$(target_setting "$1" TYPE)" in
    s3 | b2) rclone_root "$1" ;;
    local) target_location "$1" ;;
  esac
}

# prune_restic <target>: `restic prune`, which takes the repository's exclusive lock itself.
# Prints the bytes freed: the repository's size before less after.
prune_restic() {
  local t=$1 repo before after
  restic_env "$t"
  repo=$(restic_storage "$t")
  # A killed run leaves its lock, which would keep prune from taking the exclusive one; unlock
  # removes only stale locks. It opens the repository, so an unreachable target fails here,
  # before anything is touched.
  restic unlock >/dev/null || die "$t: cannot open the restic repository (target down, or no backup yet); nothing pruned"
  before=$(stored_bytes "$t" "$repo") || die "$t: could not measure the repository; nothing pruned"
  log "$t: restic prune of $repo ($before bytes)"
  restic prune >&2 || die "$t: restic prune failed"
  after=$(stored_bytes "$t" "$repo") || { log "warning: $t: could not measure the repository after the prune"; after=$before; }
  printf '%s\n' "$((before > after ? before - after : 0))"
}

list_restic() {
  restic_env "$1"
  restic snapshots --host "$OWB_HOST" --tag "$(restic_tag)"
}

restore_restic() {
  local t=$1 snapshot=$2 dest=$3 work
  restic_env "$t"
  work=$(mktemp -d "$dest.restic.XXXXXX")
  # This runs in with_target's subshell: its own EXIT trap, not the main one, cleans up.
  # shellcheck disable=SC2064
  trap "rm -rf -- $(printf '%q' "$work")" EXIT
  restic restore "$snapshot" --host "$OWB_HOST" --tag "$(restic_tag)" --target "$work" >/dev/null
  [[ -d "$work/data" ]] || die "$t: snapshot $snapshot holds no data/ folder"
  mv -T -- "$work/data" "$dest"
  [[ ! -f "$work/$MANIFEST" ]] || cp -- "$work/$MANIFEST" "$dest.manifest.json"
  [[ ! -f "$work/$HASHES" ]] || cp -- "$work/$HASHES" "$dest.$HASHES"
}

# manifest_restic <target> <snapshot> <dest file>: the snapshot's manifest only (restic dump).
manifest_restic() {
  local t=$1 snapshot=$2 dest=$3
  restic_env "$t"
  restic dump --host "$OWB_HOST" --tag "$(restic_tag)" "$snapshot" "/$MANIFEST" >"$dest"
}
