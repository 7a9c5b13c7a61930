# Part: restore in place. Replaces the live data directory with a backup so that, whatever
# interrupts it (SIGTERM, SIGKILL, a full disk), the data directory holds either the complete
# previous data or the complete restored data, and Open WebUI starts only on complete data.
#
# How: the backup is fetched and checked next to the live data, on the same file system, while
# the service keeps running. Then the containers stop and renames swap the two: rename(2)
# copies nothing, so it cannot run out of space half way. A journal in the state directory
# names both folders and the phase; the EXIT trap, or after a SIGKILL the next invocation,
# settles from it. The swap is the commit point: interrupted before it completed, the previous
# data goes back; after it, the restored data is checked and kept (or, failing the check, the
# previous data goes back). Copies are kept, never deleted, once checked complete.
#
# Layouts:
#   dir      the data directory is a plain directory (also a Docker volume's _data): the copy
#            is fetched into <data>.restore-<time>, and the previous data is kept beside it as
#            <data>.before-restore-<time>; the swap is two renames of whole directories.
#   entries  the data directory is a mountpoint (its own disk, a bind mount), which cannot be
#            renamed: the copy and the previous data are hidden folders inside it
#            (.openwebui-restore-<time>, .openwebui-before-restore-<time>, left out of backups)
#            and the swap renames its top-level entries one by one.

# Room left for Open WebUI to keep writing while the copy is fetched beside its data.
readonly RESTORE_SPACE_RESERVE=$((16 * 1024 * 1024))
RESTORE_ACTIVE=""

restore_journal() { printf '%s/restore-in-place' "$OWB_STATE_DIR"; }

journal_write() {
  printf 'job=%s\ntarget=%s\nsnapshot=%s\nlayout=%s\ndata=%s\nincoming=%s\nsafety=%s\nphase=%s\nalerted=%s\n' \
    "$RJ_JOB" "$RJ_TARGET" "$RJ_SNAPSHOT" "$RJ_LAYOUT" "$RJ_DATA" "$RJ_INCOMING" "$RJ_SAFETY" "$RJ_PHASE" "$RJ_ALERTED" |
    write_file_atomically "$(restore_journal)"
}

journal_read() {
  local key value
  RJ_JOB="" RJ_TARGET="" RJ_SNAPSHOT="" RJ_LAYOUT="" RJ_DATA="" RJ_INCOMING="" RJ_SAFETY="" RJ_PHASE="" RJ_ALERTED=""
  while IFS='=' read -r -u 3 key value; do
    case "$key" in
      job) RJ_JOB=$value ;;
      target) RJ_TARGET=$value ;;
      snapshot) RJ_SNAPSHOT=$value ;;
      layout) RJ_LAYOUT=$value ;;
      data) RJ_DATA=$value ;;
      incoming) RJ_INCOMING=$value ;;
      safety) RJ_SAFETY=$value ;;
      phase) RJ_PHASE=$value ;;
      alerted) RJ_ALERTED=$value ;;
    esac
  done 3<"$(restore_journal)"
  [[ -n "$RJ_DATA" && -n "$RJ_INCOMING" && -n "$RJ_SAFETY" && -n "$RJ_PHASE" && "$RJ_LAYOUT" =~ ^(dir|entries)$ ]]
}

# set_phase <phase>: recorded before the step it names, so after a crash that step may or may
# not have happened; settling looks at the folders to tell.
set_phase() {
  local previous=$RJ_PHASE
  RJ_PHASE=$1
  if ! journal_write; then
    RJ_PHASE=$previous
    die "cannot write the restore journal $(restore_journal); not going on without it"
  fi
}

journal_done() {
  rm -f -- "$(restore_journal)"
  sync -- "$OWB_STATE_DIR"
}

mib() { printf '%s' "$((($1 + 1048575) / 1048576))"; }

# restore_in_place <target> <snapshot>
restore_in_place() {
  local t=$1 snapshot=$2 data
  lock_for_restore
  [[ ! -e "$(restore_journal)" ]] || die "an interrupted in-place restore has not been settled (see above, or run: openwebui-backup recover)"
  data=$(data_dir)
  data=${data%/}
  [[ "$data" != *$'\n'* ]] || die "the data directory's path holds a newline; restore with --to instead"
  restore_needs_containers "$data"
  restore_volume_swappable
  restore_plan "$data" "$t" "$snapshot"
  restore_space_check "$t" "$snapshot"

  RESTORE_ACTIVE=1
  set_phase fetching
  test_hold restore-fetch
  restore_into "$t" "$snapshot" "$RJ_INCOMING"
  test_hold restore-fetched
  show_manifest "$RJ_INCOMING.manifest.json"
  guard_backup_version "$RJ_INCOMING.manifest.json" "$RJ_DATA"
  restore_check_copy
  # Messages from here on name the backup by its time, not as "latest".
  local created
  created=$(manifest_field "$RJ_INCOMING.manifest.json" created)
  if [[ -n "$created" ]]; then RJ_SNAPSHOT="$snapshot (made $created)"; fi

  # The copy is complete: from here on it is kept, whatever happens.
  set_phase stopping
  suspend_containers stop restore
  # The journal brings these back, and only on complete data; not the generic EXIT path.
  SUSPENDED=()
  # PostgreSQL (where the host has one) in one transaction while Open WebUI is stopped: an
  # interrupted pg_restore leaves the database as it was, and the files are not swapped yet.
  restore_database "$RJ_INCOMING" "$RJ_SAFETY"
  restore_swap
  test_hold restore-swapped
  local rc=0
  restore_settle || rc=$?
  RESTORE_ACTIVE=""
  case "$rc" in
    0)
      restore_object_storage "$RJ_DATA"
      drop_extras "$RJ_DATA"
      log "restore in place done"
      ;;
    1)
      if database_configured; then log "error: the database was already restored from the backup; the previous database is in $RJ_SAFETY.pgdump (pg_restore --clean --single-transaction it to go back)"; fi
      die "the restored data failed its check after the swap; the previous data is back in place and the service runs on it"
      ;;
    *) die "the restore could not be settled (see above)" ;;
  esac
}

# restore_needs_containers <data dir>: the swap needs Open WebUI stopped. With no containers
# configured, or none of them present, nothing would stop it; only --force says it is down.
restore_needs_containers() {
  local c
  local -a containers found=()
  read -r -a containers <<<"${OWB_CONTAINERS:-}"
  for c in "${containers[@]}"; do
    if docker inspect --format '{{ .State.Status }}' "$c" >/dev/null 2>&1; then found+=("$c"); fi
  done
  if ((${#found[@]} > 0)); then return 0; fi
  if [[ -n "$FORCE" ]]; then
    log "warning: --force: no container to stop; replacing $1 under whatever uses it"
    return 0
  fi
  if ((${#containers[@]} == 0)); then
    die "restore --in-place stops Open WebUI for the swap, but this host lists no containers (hosts[].containers). If nothing uses $1 now, add --force. Nothing was changed."
  fi
  die "restore --in-place stops Open WebUI for the swap, but none of its containers (${containers[*]}) exists here. If nothing uses $1 now, add --force. Nothing was changed."
}

# A Docker volume's _data can be renamed only when it is the volume's storage itself (the local
# driver without options). With a device or NFS option, Docker mounts the storage on _data only
# while a container uses it: stopping the containers would hide the live data and the copy.
restore_volume_swappable() {
  [[ -z "${OWB_DATA_DIR:-}" && -n "${OWB_DATA_VOLUME:-}" ]] || return 0
  local driver
  driver=$(docker volume inspect --format '{{ .Driver }}{{ range $k, $v := .Options }} {{ $k }}{{ end }}' "$OWB_DATA_VOLUME") ||
    die "docker volume inspect $OWB_DATA_VOLUME failed"
  [[ "$driver" == local ]] ||
    die "Docker volume $OWB_DATA_VOLUME is not a plain local volume (driver and options: $driver); restore --to a directory and copy it into the volume while Open WebUI is stopped. Nothing was changed."
}

# newest_safety_copy <data>: the newest safety copy an in-place restore kept of <data>, in the
# layout the data directory has (beside it, or inside it when it is a mountpoint); or nothing.
newest_safety_copy() {
  local data=$1
  if mountpoint -q -- "$data"; then
    find "$data" -mindepth 1 -maxdepth 1 -type d -name '.openwebui-before-restore-*'
  else
    find "$(dirname -- "$data")" -mindepth 1 -maxdepth 1 -type d -name "$(basename -- "$data").before-restore-*"
  fi | sort | tail -n 1
}

# restore_plan <data> <target> <snapshot>: the journal's names for this restore, new ones
# (a restore in the same second as the one before gets a number after its time).
restore_plan() {
  local stamp n=1
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  RJ_JOB=$JOB RJ_TARGET=$2 RJ_SNAPSHOT=$3 RJ_DATA=$1 RJ_PHASE="" RJ_ALERTED=""
  RJ_LAYOUT=dir
  if mountpoint -q -- "$RJ_DATA"; then RJ_LAYOUT=entries; fi
  while :; do
    if [[ "$RJ_LAYOUT" == entries ]]; then
      RJ_INCOMING="$RJ_DATA/.openwebui-restore-$stamp"
      RJ_SAFETY="$RJ_DATA/.openwebui-before-restore-$stamp"
    else
      RJ_INCOMING="$RJ_DATA.restore-$stamp"
      RJ_SAFETY="$RJ_DATA.before-restore-$stamp"
    fi
    [[ -e "$RJ_INCOMING" || -e "$RJ_SAFETY" || -e "$RJ_INCOMING.manifest.json" ]] || return 0
    n=$((n + 1))
    stamp="$(date -u +%Y%m%dT%H%M%SZ)-$n"
  done
}

# restore_space_check <target> <snapshot>: the copy must fit beside the live data, judged from
# the backup's manifest before anything is fetched.
restore_space_check() {
  local t=$1 snapshot=$2 manifest bytes files need avail where leftovers
  manifest=$(mktemp)
  if ! with_target "$t" "$(method_function manifest)" "$t" "$snapshot" "$manifest"; then
    rm -f -- "$manifest"
    die "could not read the manifest of $snapshot on $t; nothing was changed"
  fi
  bytes=$(manifest_field "$manifest" bytes)
  files=$(manifest_field "$manifest" files)
  rm -f -- "$manifest"
  if [[ ! "$bytes" =~ ^[0-9]+$ ]]; then
    bytes=$(bytes_of "$RJ_DATA")
    log "warning: the backup's manifest records no size; estimating from the live data ($bytes bytes)"
  fi
  [[ "$files" =~ ^[0-9]+$ ]] || files=0
  # Each file rounded up to a 4 KiB block, and room for Open WebUI to keep writing meanwhile.
  need=$((bytes + files * 4096 + RESTORE_SPACE_RESERVE))
  where=$(dirname -- "$RJ_INCOMING")
  avail=$(df -B1 --output=avail -- "$where" | tail -n 1 | tr -d ' ')
  if ((avail < need)); then
    if [[ "$RJ_LAYOUT" == dir ]]; then
      leftovers=$(find "$where" -mindepth 1 -maxdepth 1 -name "${RJ_DATA##*/}.restore-*" -printf '%p ' 2>/dev/null)
    else
      leftovers=$(find "$where" -mindepth 1 -maxdepth 1 -name '.openwebui-restore-*' -printf '%p ' 2>/dev/null)
    fi
    die "not enough free space beside $RJ_DATA for the restored copy: it needs about $(mib "$need") MiB on that file system, $(mib "$avail") MiB are free. Nothing was changed.${leftovers:+ Copies kept by earlier restores: $leftovers}"
  fi
  log "free space beside the data: $(mib "$avail") MiB; the copy needs about $(mib "$need") MiB"
}

# restore_check_copy: every file its manifest counts, and sound databases.
restore_check_copy() {
  local expected found
  expected=$(manifest_field "$RJ_INCOMING.manifest.json" files)
  found=$(files_of "$RJ_INCOMING")
  if [[ "$expected" =~ ^[0-9]+$ ]] && ((found != expected)); then
    die "the restored copy holds $found files, its manifest $expected; the live data was not touched"
  fi
  check_tree "$RJ_INCOMING" "$RJ_INCOMING.manifest.json" || die "the restored copy does not match the backup's recorded sha256; the live data was not touched"
  check_databases "$RJ_INCOMING" require || die "the restored copy fails integrity_check; the live data was not touched"
  check_backup_extras "$RJ_INCOMING"
}

# rename_path <from> <to>: rename(2) within one file system: nothing is copied, so it cannot
# fail half way. Replaces nothing at <to> but an empty directory.
rename_path() {
  local from=$1 to=$2
  if [[ -d "$to" && ! -L "$to" ]]; then
    rmdir -- "$to" 2>/dev/null || { log "error: $to is in the way (not empty)"; return 1; }
  fi
  if [[ -e "$to" || -L "$to" ]]; then
    log "error: $to is in the way"
    return 1
  fi
  if [[ "$(stat -c %d -- "$from")" != "$(stat -c %d -- "$(dirname -- "$to")")" ]]; then
    log "error: $from and $to are on different file systems; not copying"
    return 1
  fi
  mv -T -- "$from" "$to"
}

# move_entries <from dir> <to dir> [test hold point]: renames each top-level entry, leaving
# the folders of this and earlier restores where they are, and lost+found (the file system's
# own, at the root of a mount).
move_entries() {
  local from=$1 to=$2 hold=${3:-} e moved=0
  local -a entries
  mapfile -d '' -t entries < <(find "$from" -mindepth 1 -maxdepth 1 ! -name '.openwebui-restore-*' ! -name '.openwebui-before-restore-*' ! -name lost+found -print0)
  for e in "${entries[@]}"; do
    rename_path "$e" "$to/${e##*/}" || return 1
    moved=$((moved + 1))
    if ((moved == 1)) && [[ -n "$hold" ]]; then test_hold "$hold"; fi
  done
}

restore_swap() {
  set_phase swap-out
  if [[ "$RJ_LAYOUT" == dir ]]; then
    rename_path "$RJ_DATA" "$RJ_SAFETY" || die "could not move the live data aside"
    test_hold restore-mid-swap
    set_phase swap-in
    rename_path "$RJ_INCOMING" "$RJ_DATA" || die "could not move the restored copy into place"
    set_phase swapped
    sync -- "$(dirname -- "$RJ_DATA")"
  else
    mkdir -- "$RJ_SAFETY"
    move_entries "$RJ_DATA" "$RJ_SAFETY" || die "could not move the live data aside"
    set_phase swap-in
    move_entries "$RJ_INCOMING" "$RJ_DATA" restore-mid-swap || die "could not move the restored copy into place"
    # A backup of a mount's root may hold its (empty) lost+found; the mount keeps its own.
    rmdir -- "$RJ_INCOMING/lost+found" 2>/dev/null || true
    rmdir -- "$RJ_INCOMING"
    set_phase swapped
    sync -- "$RJ_DATA"
  fi
  log "swapped in $RJ_SNAPSHOT from $RJ_TARGET; the previous data is kept in $RJ_SAFETY"
}

# restore_swap_back: puts the previous data back, wherever the swap stopped, and the restored
# copy back under its own name. Renames only. Fails, moving nothing further, when something
# unexpected is in the way (such as a data directory created while the service was down).
restore_swap_back() {
  [[ -e "$RJ_SAFETY" ]] || return 0 # the live data was never moved
  if [[ "$RJ_LAYOUT" == dir ]]; then
    # The copy was renamed into place when its own name is gone.
    if [[ ! -e "$RJ_INCOMING" && -d "$RJ_DATA" ]]; then rename_path "$RJ_DATA" "$RJ_INCOMING" || return 1; fi
    rename_path "$RJ_SAFETY" "$RJ_DATA" || return 1
    sync -- "$(dirname -- "$RJ_DATA")"
  else
    if [[ "$RJ_PHASE" == swap-in || "$RJ_PHASE" == swapped ]]; then
      mkdir -p -- "$RJ_INCOMING" && move_entries "$RJ_DATA" "$RJ_INCOMING" || return 1
    fi
    move_entries "$RJ_SAFETY" "$RJ_DATA" && rmdir -- "$RJ_SAFETY" || return 1
    sync -- "$RJ_DATA"
  fi
}

# restore_settle: brings the restore in RJ_* to a safe end from wherever it stopped. Returns
# 0: the restored data is in place and the containers it stopped run again; 1: the previous
# data is in place and they run again (or were never stopped); 2: it could not, and the
# containers stay stopped, the journal kept, with a message saying where the data is.
restore_settle() {
  local copy_state="complete, checked before the swap"
  case "$RJ_PHASE" in
    fetching)
      # Not checked yet, so partial for all we know; the backup it came from is unchanged.
      rm -rf -- "$RJ_INCOMING" "$RJ_INCOMING".restic.*
      rm -f -- "$RJ_INCOMING.manifest.json" "$RJ_INCOMING.$HASHES"
      log "the restore stopped while fetching; the live data was not touched and the partial copy was removed"
      journal_done
      return 1
      ;;
    swapped)
      if check_databases "$RJ_DATA" require; then
        restore_start_containers
        reset_shrink_references "$RJ_INCOMING.manifest.json"
        rm -f -- "$RJ_INCOMING.manifest.json" "$RJ_INCOMING.$HASHES"
        journal_done
        log "restored $RJ_SNAPSHOT from $RJ_TARGET into $RJ_DATA; the previous data is kept in $RJ_SAFETY"
        return 0
      fi
      log "error: integrity_check failed after the swap; putting the previous data back"
      copy_state="it failed the check after the swap; kept for inspection"
      ;;
  esac
  if ! restore_swap_back; then
    restore_left_stopped
    return 2
  fi
  restore_start_containers
  journal_done
  log "the previous data is in place in $RJ_DATA and the service runs on it; the restored copy of $RJ_SNAPSHOT is in $RJ_INCOMING ($copy_state): restore again, or remove it"
  return 1
}

# restore_start_containers: the containers the restore stopped, from the suspend record.
restore_start_containers() {
  resume_recorded || log "error: some containers did not start; the next invocation tries again (check: docker ps -a)"
}

restore_left_stopped() {
  local where="the previous data is in $RJ_SAFETY; the restored copy of $RJ_SNAPSHOT (complete) is in $RJ_INCOMING"
  if [[ "$RJ_LAYOUT" == entries ]]; then where="the previous data is in $RJ_SAFETY and $RJ_DATA (moved part way, entry by entry); the restored copy of $RJ_SNAPSHOT is in $RJ_INCOMING and $RJ_DATA"; fi
  log "error: could not settle the interrupted in-place restore (phase $RJ_PHASE). The containers stay stopped so that Open WebUI cannot start on incomplete data: $where. Move what is in the way (see above), then run: openwebui-backup recover. The journal is $(restore_journal)."
}

# restore_on_exit: the EXIT trap's part while an in-place restore runs: it settles the restore
# the way the next invocation would if this one were killed outright.
restore_on_exit() {
  [[ -n "$RESTORE_ACTIVE" ]] || return 0
  RESTORE_ACTIVE=""
  SUSPENDED=()
  [[ -e "$(restore_journal)" ]] || return 0
  log "the in-place restore was interrupted; settling it"
  restore_settle
  return 0
}

# recover_restore: the journal of a restore that died without settling.
recover_restore() {
  local rc=0 outcome
  journal_read || { log "error: the restore journal $(restore_journal) is unreadable; settle it by hand"; return 1; }
  JOB=$RJ_JOB
  local holder=$RJ_DATA
  if [[ "$RJ_LAYOUT" == dir ]]; then holder=$(dirname -- "$RJ_DATA"); fi
  if [[ ! -w "$holder" ]]; then
    # Such as the restore drill's unit, which may not write the data: touch nothing.
    log "an interrupted in-place restore (phase $RJ_PHASE) cannot be settled from here: $holder is read-only to this process; run: openwebui-backup recover"
    return 1
  fi
  if ! lock_data_for_recovery; then
    log "a backup run is copying the data; the interrupted restore is settled by the next invocation"
    return 1
  fi
  log "an in-place restore of $RJ_SNAPSHOT from $RJ_TARGET was interrupted (phase $RJ_PHASE); settling it"
  restore_settle || rc=$?
  case "$rc" in
    0) outcome="it was completed: the restored data is in place and the service runs on it" ;;
    1) outcome="it was rolled back: the previous data is in place and the service runs on it" ;;
    *) outcome="it could not be settled: the containers stay stopped (see the log)" ;;
  esac
  if [[ -z "$RJ_ALERTED" ]]; then
    notify_failure "an in-place restore of job $RJ_JOB was interrupted (phase $RJ_PHASE); $outcome" "$RJ_TARGET" "$EPOCHSECONDS" 0
    if ((rc == 2)); then
      RJ_ALERTED=1
      journal_write || true
    fi
  fi
  ((rc != 2))
}
