# Part: source gate. What a run checks before anything ships or prunes: a data directory that is
# there, a staging disk with room, and a copy that did not shrink sharply since the last
# successful backup. A refused run exits non-zero and alerts; it never reaches a prune.

# refuse <reason>: ends this (sub)shell with the reason kept where cmd_run reads it for the alert.
refuse() {
  log "refused: $*"
  if [[ -n "${REFUSAL_FILE:-}" ]]; then printf '%s\n' "$*" >"$REFUSAL_FILE"; fi
  exit 1
}

# failure_message <default>: the gate's reason when it refused this run, else the default.
failure_message() {
  if [[ -s "${REFUSAL_FILE:-}" ]]; then
    printf 'backup refused: %s' "$(head -n 1 -- "$REFUSAL_FILE")"
  else
    printf '%s' "$1"
  fi
}

# refused_or <default>: a short "refused" when the gate refused this run (its reason is logged).
refused_or() { if [[ -s "${REFUSAL_FILE:-}" ]]; then printf 'refused (see above)'; else printf '%s' "$1"; fi; }

# gate_source <data dir>: an empty data directory is a disk that did not mount or a volume
# recreated empty; one without webui.db holds no Open WebUI data. Neither is a backup, and
# --allow-shrink does not make it one.
gate_source() {
  local data=$1
  [[ -n "$(find "$data" -mindepth 1 -maxdepth 1 -print -quit)" ]] ||
    refuse "the data directory $data is empty (did its disk not mount, or was the volume recreated?)"
  # On PostgreSQL the database is gated where it is dumped (it must hold Open WebUI's tables).
  database_configured || [[ -f "$data/webui.db" ]] ||
    refuse "webui.db is missing from the data directory $data (is the right disk or volume mounted?)"
}

# The manifest of the last run whose targets all succeeded: what the shrink check compares with.
last_manifest() { printf '%s/manifests/%s.json' "$OWB_STATE_DIR" "$JOB"; }

# remember_manifest <manifest>: called only once every target of the run succeeded.
remember_manifest() {
  local dir tmp
  [[ -f "$1" ]] || { log "warning: no manifest $1 to keep for the next run's shrink check"; return 0; }
  dir=$(dirname -- "$(last_manifest)")
  mkdir -p -- "$dir"
  tmp=$(mktemp "$dir/.$JOB.XXXXXX")
  cp -- "$1" "$tmp"
  mv -f -- "$tmp" "$(last_manifest)"
}

# reset_shrink_references <manifest>: after an in-place restore the data is the backup's, so the
# restoring job's shrink check compares with that backup from now on (a rollback shrinks the
# data on purpose), and the other jobs' references, taken of data that is gone, are dropped.
reset_shrink_references() {
  rm -f -- "$OWB_STATE_DIR/manifests/"*.json
  JOB=${RJ_JOB:-$JOB} remember_manifest "$1"
}

# shipped_manifest <stage dir> <first target>: the manifest of what this run backed up: the
# staged one, or for a pull the newest snapshot it holds.
shipped_manifest() {
  local root newest
  if [[ "$(job_setting METHOD)" != pull ]]; then
    printf '%s/%s' "$1" "$MANIFEST"
    return 0
  fi
  target_location -v root "$2"
  newest=$(local_complete "$root" | tail -n 1)
  printf '%s/%s/%s' "$root" "$newest" "$MANIFEST"
}

human_bytes() { numfmt --to=iec-i --suffix=B -- "$1"; }

# percent_drop <before> <after>: how much smaller, in whole percent (0 when it grew).
percent_drop() {
  if (($1 > 0 && $2 < $1)); then printf '%d' $(((($1 - $2) * 100 + $1 / 2) / $1)); else printf 0; fi
}

# gate_shrink <manifest> <what>: refuses a copy whose file count or bytes fell by more than the
# job's shrink limit against the last successful backup, unless this run has --allow-shrink.
gate_shrink() {
  local manifest=$1 what=$2 last files bytes last_files last_bytes limit
  files=$(manifest_field "$manifest" files)
  bytes=$(manifest_field "$manifest" bytes)
  [[ "$files" =~ ^[0-9]+$ && "$bytes" =~ ^[0-9]+$ ]] || refuse "$what: its manifest records no file count and size"
  ((files > 0)) || refuse "$what holds no files"
  last=$(last_manifest)
  if [[ ! -f "$last" ]]; then
    log "source gate: $files files, $(human_bytes "$bytes"); no earlier successful run of job $JOB on this host to compare with"
    return 0
  fi
  last_files=$(manifest_field "$last" files)
  last_bytes=$(manifest_field "$last" bytes)
  [[ "$last_files" =~ ^[0-9]+$ && "$last_bytes" =~ ^[0-9]+$ ]] || { log "warning: $last records no file count and size; shrink check skipped"; return 0; }
  job_setting -v limit SHRINK_LIMIT
  local change
  change="$files files ($(human_bytes "$bytes")), down from $last_files files ($(human_bytes "$last_bytes")) at the last successful backup ($(manifest_field "$last" created)): $(percent_drop "$last_files" "$files")% fewer files, $(percent_drop "$last_bytes" "$bytes")% fewer bytes"
  # Exact integer comparison: a drop of more than limit percent of the last count.
  if (((last_files - files) * 100 > limit * last_files || (last_bytes - bytes) * 100 > limit * last_bytes)); then
    if [[ -n "${ALLOW_SHRINK:-}" ]]; then
      log "source gate: $what has $change; accepted because of --allow-shrink"
      return 0
    fi
    refuse "$what has $change, more than the job's shrink limit of $limit%. If the data was removed on purpose (or new excludes), run once: openwebui-backup run $JOB --allow-shrink"
  fi
  log "source gate: ok, $files files ($(human_bytes "$bytes")); the last successful backup had $last_files files ($(human_bytes "$last_bytes"))"
}

# staging_bytes_needed <data dir>: what staging will write, in bytes. The databases are copied
# (their WAL included, an upper bound of VACUUM INTO's output); the other files are copied too,
# but for uploads, which are hard links when staging shares the data's file system. Each file is
# rounded up to 4 KiB blocks, which is what small files really take.
staging_bytes_needed() {
  local src=$1 f db_bytes=0 linked=""
  sqlite_files
  for f in "${SQLITE_FILES[@]}"; do
    if [[ -f "$src/$f" ]]; then db_bytes=$((db_bytes + $(stat -c %s -- "$src/$f"))); fi
    if [[ -f "$src/$f-wal" ]]; then db_bytes=$((db_bytes + $(stat -c %s -- "$src/$f-wal"))); fi
  done
  if same_file_system "$src" "$OWB_STAGING_DIR"; then linked=1; fi
  stage_filters
  # A dry run lists exactly what the filters select; rsync prints unusual names escaped (\#ooo).
  rsync -a -n --out-format='%l %n' "${STAGE_FILTERS[@]}" -- "$src/" "$OWB_STAGING_DIR/.size-estimate-$JOB/" |
    awk -v linked="$linked" -v db="$db_bytes" '
      { name = substr($0, index($0, " ") + 1) }
      linked && (name == "uploads/" || index(name, "uploads/") == 1) { next }
      { total += int(($1 + 4095) / 4096) * 4096 }
      END { printf "%d", total + db }'
}

# check_staging_space <data dir>: fails before anything is copied (or paused) when the staging
# file system has not room for the copy, plus 5% and 16 MiB of headroom for databases that grow
# while they are copied.
check_staging_space() {
  local src=$1 needed avail headroom
  mkdir -p -- "$OWB_STAGING_DIR"
  needed=$(staging_bytes_needed "$src")
  headroom=$((needed / 20 + 16 * 1024 * 1024))
  avail=$(df -P -B1 -- "$OWB_STAGING_DIR" | awk 'NR == 2 { print $4 }')
  [[ "$avail" =~ ^[0-9]+$ ]] || refuse "could not read the free space of $OWB_STAGING_DIR"
  if ((avail < needed + headroom)); then
    refuse "not enough space to stage a copy: it needs about $(human_bytes "$needed") (+ $(human_bytes "$headroom") headroom) in $OWB_STAGING_DIR, which has $(human_bytes "$avail") free; free some space there or point hosts[].paths.stagingDir at a larger disk"
  fi
  log "staging space: about $(human_bytes "$needed") needed, $(human_bytes "$avail") free in $OWB_STAGING_DIR"
}
