# Part: local folders. Point-in-time snapshot folders on a local disk, shared by methods local-snapshot and pull.

snapshot_folder_name() { printf 'open-webui-backup-%s' "$(date -u -d "@$(now_epoch)" +%Y%m%dT%H%M%SZ)"; }

# local_complete <root>: complete snapshot folders, oldest first. Complete: renamed from its
# .partial name, which happens only after the copy and its checks finished.
local_complete() {
  local root=$1 d
  [[ -d "$root" ]] || return 0
  for d in "$root"/open-webui-backup-*; do
    [[ -d "$d" && ! -L "$d" && -f "$d/$MANIFEST" ]] || continue
    d=${d##*/}
    if [[ "$d" =~ $SNAPSHOT_FOLDER_PATTERN ]]; then printf '%s\n' "$d"; fi
  done | sort
}

# database_filters <prefix>: rsync filters for the databases under <prefix> ("/data/" in a
# snapshot folder, "/" in a data tree): DB_EXCLUDES leaves them out, DB_INCLUDES takes them
# (and their folders; the caller adds --exclude '*').
database_filters() {
  local prefix=$1 f
  DB_EXCLUDES=() DB_INCLUDES=()
  sqlite_files
  for f in "${SQLITE_FILES[@]}"; do
    DB_EXCLUDES+=(--exclude "$prefix$f")
    if [[ "$f" == */* ]]; then DB_INCLUDES+=(--include "$prefix${f%/*}/"); fi
    DB_INCLUDES+=(--include "$prefix$f")
  done
}

# write_linked_snapshot <target> <root> <folder> <rsync source args…>: copies into
# <folder>.partial with unchanged files hard-linked to the newest complete snapshot, checks
# the copy, then renames it. Any .partial is left by a run that died (we hold the lock):
# it is removed, never linked against.
write_linked_snapshot() {
  local t=$1 root=$2 folder=$3 p newest started stats copied
  shift 3
  local partial="$root/$folder.partial"
  started=$EPOCHSECONDS
  mkdir -p -- "$root"
  for p in "$root"/open-webui-backup-*.partial; do
    [[ -e "$p" ]] || continue
    log "$t: removing ${p##*/}, left by an interrupted run"
    rm -rf -- "$p"
  done
  newest=$(local_complete "$root" | tail -n 1)
  # The databases are fresh copies each run; rsync's quick check (size and mtime) could take a
  # changed one made in the same second at the same size for unchanged and link the old one.
  # So they are never linked: the first pass leaves them out, the second copies them. The
  # same holds for the manifest and the hash list, written anew each run. Other files are
  # compared to the nanosecond (--modify-window=-1): a segment file rewritten at the same size
  # within the second of its last copy must not be linked to that copy.
  database_filters /data/
  local -a args=(-a --numeric-ids --stats --modify-window=-1 --exclude "/$MANIFEST" --exclude "/$HASHES" "${DB_EXCLUDES[@]}")
  local -a db_only=(-a --numeric-ids --include "/$MANIFEST" --include "/$HASHES" --include /data/ "${DB_INCLUDES[@]}" --exclude '*')
  if [[ -n "$newest" ]]; then args+=(--link-dest "$root/$newest"); fi
  stats=$(rsync "${args[@]}" "$@" "$partial/")
  rsync "${db_only[@]}" "$@" "$partial/"
  copied=$(sed -n 's/^Total transferred file size: \([0-9,]*\).*/\1/p' <<<"$stats" | tr -d ,)
  local db_bytes
  db_bytes=$(du -cb -- "${SQLITE_FILES[@]/#/$partial/data/}" 2>/dev/null | tail -n 1 | cut -f1) || db_bytes=0
  copied=$((${copied:-0} + ${db_bytes:-0}))
  [[ -f "$partial/$MANIFEST" && -d "$partial/data" ]] || die "$t: the copy holds no $MANIFEST and data/"
  # Files hard-linked to the newest snapshot keep their inode, so only new ones are read.
  check_tree "$partial/data" "$partial/$MANIFEST" "$(hash_cache "$JOB@$t")" || die "$t: the copy does not match its recorded sha256; kept as ${partial##*/} until the next run"
  check_databases "$partial/data" require || die "$t: the copy fails integrity_check; kept as ${partial##*/} until the next run"
  sync -f -- "$partial" # on disk before it takes its name: the target's file system, not every disk of the host
  mv -T -- "$partial" "$root/$folder"
  log "$t: $folder complete: ${copied:-0} bytes copied, unchanged files hard-linked to ${newest:-nothing (first snapshot)}, $((EPOCHSECONDS - started)) s"
}

# folder_time <folder> <date format>: the snapshot's time, formatted.
folder_time() {
  local f=${1#open-webui-backup-}
  date -u -d "${f:0:4}-${f:4:2}-${f:6:2} ${f:9:2}:${f:11:2}:${f:13:2}" "+$2"
}

# retained_folders <folder…> (oldest first): the folders the job's retention keeps, one a
# line. keep: the newest N. hourly/daily/weekly/monthly/yearly: the newest folder of each of
# the newest N hours/days/ISO weeks/months/years that have one (restic's rule). Times come
# from the folder names, which come from OPENWEBUI_BACKUP_NOW or the clock.
retained_folders() {
  local -a folders=("$@")
  local -A keep=()
  local n=${#folders[@]} i rule count format period last
  while read -r rule count format; do
    if [[ "$rule" == last ]]; then
      for ((i = n - 1; i >= 0 && i >= n - count; i--)); do keep[${folders[i]}]=1; done
      continue
    fi
    last=""
    for ((i = n - 1; i >= 0 && count > 0; i--)); do
      period=$(folder_time "${folders[i]}" "$format")
      if [[ "$period" != "$last" ]]; then
        keep[${folders[i]}]=1
        last=$period
        count=$((count - 1))
      fi
    done
  done < <(retention_rules)
  if ((${#keep[@]} > 0)); then printf '%s\n' "${!keep[@]}"; fi
}

# prune_local <target> <root>: removes the complete folders the retention does not keep (the
# newest is always kept); prints the bytes that frees. Only under the job lock (prune.bash),
# so no run is writing or linking against a folder here.
prune_local() {
  local t=$1 root=$2 f kept pruned=0 freed=0
  local -a complete
  mapfile -t complete < <(local_complete "$root")
  if ((${#complete[@]} == 0)); then
    log "$t: no complete snapshot in $root; nothing to prune"
    printf '0\n'
    return 0
  fi
  kept=$(retained_folders "${complete[@]}")
  for f in "${complete[@]}"; do
    if ! grep -qxF "$f" <<<"$kept"; then
      log "$t: pruning $f"
      # Files a kept folder links to stay; what only this folder holds is freed.
      freed=$((freed + $(unshared_bytes "$root/$f")))
      rm -rf -- "${root:?}/$f"
      pruned=$((pruned + 1))
    fi
  done
  log "$t: $((${#complete[@]} - pruned)) snapshots kept, $pruned pruned"
  printf '%s\n' "$freed"
}
