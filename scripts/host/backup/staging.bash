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

bytes_of() { du -sb -- "$1" | cut -f1; }
files_of() { find "$1" -type f | wc -l | tr -d ' '; }

# stage <data dir> <stage dir>: databases first, then the files, so every upload the
# copied database names is present in the copy.
stage() {
  local src=$1 dest=$2 f pattern
  local -a rsync_args=(-a --numeric-ids)
  [[ -n "$src" && -d "$src" && -n "$dest" ]] || die "staging needs an existing data directory (got \"$src\")"
  rm -rf -- "$dest"
  mkdir -p -- "$dest/data"
  sqlite_files
  for f in "${SQLITE_FILES[@]}"; do
    rsync_args+=(--exclude "/$f" --exclude "/$f-wal" --exclude "/$f-shm" --exclude "/$f-journal")
    if [[ -f "$src/$f" ]]; then
      snapshot_sqlite "$src/$f" "$dest/data/$f"
      check_databases_one "$dest/data/$f" || die "the copy of $f fails integrity_check; the live database may be damaged"
    fi
  done
  stage_database "$dest" # a PostgreSQL database is dumped before the files, like SQLite's
  rsync_args+=(--exclude "/$(extras_name)")
  local -a excludes
  # The copies an in-place restore keeps inside a data directory that is a mountpoint.
  rsync_args+=(--exclude '/.openwebui-restore-*' --exclude '/.openwebui-before-restore-*')
  read -r -a excludes <<<"$(job_setting EXCLUDE)"
  for pattern in "${excludes[@]}"; do rsync_args+=(--exclude "/$pattern"); done
  # Uploads and Chroma segments are written once and replaced, not edited in place, so
  # hard links to them are a safe, free copy when staging shares the file system.
  if [[ "$(stat -c %d -- "$src")" == "$(stat -c %d -- "$dest")" ]]; then rsync_args+=(--link-dest "$src"); fi
  rsync "${rsync_args[@]}" -- "$src/" "$dest/data/"
  stage_object_storage "$dest"
}

check_databases_one() {
  local result
  result=$(integrity_of "$1")
  [[ "$result" == ok ]]
}
