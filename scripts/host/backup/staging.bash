# Part: staging. Where the data directory is, and a consistent local copy of it to ship.

data_dir() {
  if [[ -n "${OWB_DATA_DIR:-}" ]]; then
    [[ -d "$OWB_DATA_DIR" ]] || die "data directory $OWB_DATA_DIR does not exist"
    printf '%s' "$OWB_DATA_DIR"
    return 0
  fi
  [[ -n "${OWB_DATA_VOLUME:-}" ]] || die "env file sets neither OWB_DATA_DIR nor OWB_DATA_VOLUME"
  local mountpoint
  if ! mountpoint=$(docker volume inspect --format '{{ .Mountpoint }}' "$OWB_DATA_VOLUME" 2>/dev/null) || [[ -z "$mountpoint" ]]; then
    die "Docker volume \"$OWB_DATA_VOLUME\" not found on this host (docker volume inspect failed); is Open WebUI deployed?"
  fi
  [[ -d "$mountpoint" ]] || die "Docker volume \"$OWB_DATA_VOLUME\" has mountpoint $mountpoint, which is not a directory here"
  printf '%s' "$mountpoint"
}

# A run counts files and bytes several times over, so each count is one process.
bytes_of() {
  local usage
  usage=$(du -sb -- "$1") || return
  printf '%s' "${usage%%$'\t'*}"
}
files_of() {
  local dots
  dots=$(find "$1" -type f -printf .) || return
  printf '%s' "${#dots}"
}

same_file_system() {
  local devices
  devices=$(stat -c %d -- "$1" "$2") || return
  [[ "${devices%$'\n'*}" == "${devices#*$'\n'}" ]]
}

# prepare_staging <stage dir>: removes what a killed run of this job left in staging (we hold
# the job's lock, so no live run owns it) and makes sure every exit of this run removes its own.
# The files next to the stage carry the gate's reason and the pause time out of stage_job.
prepare_staging() {
  local stage_dir=$1 p
  for p in "$stage_dir" "$stage_dir".*; do
    [[ -e "$p" ]] || continue
    log "removing ${p##*/} from staging, left by an interrupted run"
    rm -rf -- "$p"
  done
  REFUSAL_FILE="$stage_dir.refusal"
  PAUSE_FILE="$stage_dir.pause"
  CLEANUP_DIRS+=("$stage_dir" "$stage_dir.work" "$REFUSAL_FILE" "$PAUSE_FILE")
}

# stage_job <stage dir> <started>: the staging step of a run, in its own subshell: the source
# gate, the space check, the copy (containers suspended around it when the job says so), the
# manifest and the shrink check.
stage_job() {
  local stage_dir=$1 started=$2 consistency data work suspended_at
  # Traps are not inherited: this subshell brings back what it suspends, also on a signal.
  trap on_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  # The stage belongs to cmd_run, which removes it when the run ends; this shell removes only its work files.
  CLEANUP_DIRS=()
  job_setting -v consistency CONSISTENCY
  # Shared with other runs, exclusive to an in-place restore: no copy of a half-swapped directory.
  lock_data_for_copy
  data=$(data_dir)
  gate_source "$data"
  check_staging_space "$data"
  work="$stage_dir.work"
  mkdir -p -- "$work"
  CLEANUP_DIRS+=("$work")
  if [[ "$consistency" == pause || "$consistency" == stop ]]; then
    suspended_at=$(date +%s%N)
    suspend_containers "$consistency"
  fi
  stage "$data" "$stage_dir" "$work" "$consistency"
  # Containers come back as soon as the local copy exists, not after the upload.
  if ((${#SUSPENDED[@]} > 0)); then
    resume_containers
    local how=paused
    if [[ "$consistency" == stop ]]; then how=stopped; fi
    log "the containers were $how for $(record_pause $(($(date +%s%N) - suspended_at))) s while the copy was taken"
  fi
  record_hashes "$data" "$stage_dir"
  write_manifest "$stage_dir" "$started"
  gate_shrink "$stage_dir/$MANIFEST" "the staged copy"
  log "staged $(files_of "$stage_dir/data") files, $(bytes_of "$stage_dir/data") bytes in $((EPOCHSECONDS - started)) s"
}

# stage_filters: sets STAGE_FILTERS, rsync's filters for the files staging copies: everything
# but the databases (copied by SQLite) and the job's excludes.
stage_filters() {
  local f pattern
  local -a excludes
  STAGE_FILTERS=()
  sqlite_files
  for f in "${SQLITE_FILES[@]}"; do
    STAGE_FILTERS+=(--exclude "/$f" --exclude "/$f-wal" --exclude "/$f-shm" --exclude "/$f-journal")
  done
  # The extras folder (a database dump, object storage) is staged on its own, and the copies an
  # in-place restore keeps inside a data directory that is a mountpoint are never backed up.
  STAGE_FILTERS+=(--exclude "/$(extras_name)" --exclude '/.openwebui-restore-*' --exclude '/.openwebui-before-restore-*')
  read -r -a excludes <<<"$(job_setting EXCLUDE)"
  for pattern in "${excludes[@]}"; do STAGE_FILTERS+=(--exclude "/$pattern"); done
}

# stage <data dir> <stage dir> <work dir> <consistency>: databases first, then the files, so every
# upload the copied database names is present in the copy.
stage() {
  local src=$1 dest=$2 work=$3 consistency=$4 f
  [[ -n "$src" && -d "$src" && -n "$dest" ]] || die "staging needs an existing data directory (got \"$src\")"
  rm -rf -- "$dest"
  mkdir -p -- "$dest/data"
  sqlite_files
  for f in "${SQLITE_FILES[@]}"; do
    if [[ -f "$src/$f" ]]; then
      snapshot_sqlite "$src/$f" "$dest/data/$f"
      check_databases_one "$dest/data/$f" || die "the copy of $f fails integrity_check; the live database may be damaged"
    fi
  done
  stage_database "$dest" # a PostgreSQL database is dumped before the files, like SQLite's
  stage_filters
  link_write_once "$src" "$dest/data"
  if [[ "$consistency" == online ]]; then
    copy_online "$src" "$dest/data" "$work"
  else
    copy_files "$src" "$dest/data"
  fi
  stage_object_storage "$dest"
}

check_databases_one() {
  local result
  result=$(integrity_of "$1")
  [[ "$result" == ok ]]
}
