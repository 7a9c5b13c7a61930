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

ship_restic() {
  local t=$1 stage_dir=$2
  restic_env "$t"
  # A run that died (power cut, server gone) leaves its lock; unlock removes only stale ones.
  # It also opens the repository, so it tells whether one exists: one open instead of two
  # (each pays restic's key derivation). If it failed for another reason, init fails loudly.
  local rc=0
  bounded "$RESTIC_METADATA_WITHIN" restic unlock >/dev/null 2>&1 || rc=$?
  if ((rc == 124 || rc == 137)); then die "$t: restic unlock did not finish within $RESTIC_METADATA_WITHIN s"; fi
  if ((rc != 0)); then
    log "$t: initialising restic repository"
    bounded "$RESTIC_METADATA_WITHIN" restic init >/dev/null
  fi
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
  local -a keep
  mapfile -t keep < <(restic_retention_args)
  restic forget --host "$OWB_HOST" --tag "$(restic_tag)" --group-by host,tags "${keep[@]}" --prune >/dev/null
  log "$t: pruned to retention ${keep[*]}"
}

list_restic() {
  restic_env "$1"
  bounded "$RESTIC_METADATA_WITHIN" restic snapshots --host "$OWB_HOST" --tag "$(restic_tag)"
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
