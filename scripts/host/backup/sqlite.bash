# Part: SQLite. Consistent copies and integrity checks of Open WebUI's databases.

sqlite_files() { read -r -a SQLITE_FILES <<<"$OWB_SQLITE_FILES"; }

sql_string() { printf "'%s'" "${1//\'/\'\'}"; }

# snapshot_sqlite <src> <dest>: a consistent copy taken inside one read transaction while
# Open WebUI keeps writing. `.backup` restarts whenever another connection writes, so a
# busy instance may never let it finish; VACUUM INTO reads once. The timeout rides out
# the moments a WAL reader still meets "database is locked".
snapshot_sqlite() {
  local src=$1 dest=$2
  mkdir -p -- "${dest%/*}" # dest: a path in the stage
  sqlite3 -bail -cmd ".timeout $OWB_SQLITE_TIMEOUT_MS" "$src" "VACUUM INTO $(sql_string "$dest")" >/dev/null
}

# integrity_of <database>: what PRAGMA integrity_check says ("ok"), or sqlite3's error, on one
# line: at most its first five lines.
integrity_of() {
  local -a said
  mapfile -t -n 5 said < <(sqlite3 -readonly -bail -cmd ".timeout $OWB_SQLITE_TIMEOUT_MS" "$1" 'PRAGMA integrity_check;' 2>&1)
  printf '%s' "${said[*]}"
}

# check_databases <dir> [require]: PRAGMA integrity_check on each database; prints what it finds.
check_databases() {
  local dir=$1 require=${2:-} f result bad=0
  sqlite_files
  for f in "${SQLITE_FILES[@]}"; do
    if [[ ! -f "$dir/$f" ]]; then
      # Open WebUI's main database is webui.db, unless it lives in PostgreSQL (this host's, or
      # the source's of a pulled snapshot, which holds the dump).
      if [[ "$f" == webui.db && -n "$require" ]] && ! database_configured && [[ ! -f "$(pg_dump_file "$dir")" ]]; then log "integrity: $f missing"; bad=1; fi
      continue
    fi
    result=$(integrity_of "$dir/$f")
    log "integrity: $f: $result"
    [[ "$result" == ok ]] || bad=1
  done
  return "$bad"
}
