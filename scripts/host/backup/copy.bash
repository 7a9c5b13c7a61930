# Part: copy. The data directory's files into the stage: uploads hard-linked, everything else
# copied, and in online mode copied again until each folder was still while it was copied.

# Open WebUI writes an upload once, under a new name, and deletes it whole; it never edits one in
# place, so a hard link to it is a copy that cannot change. Chroma rewrites its HNSW segment
# files (vector_db/<uuid>/data_level0.bin, header.bin, length.bin, link_lists.bin) and
# index_metadata.pickle in place whenever it persists: a link to those would be the live file.
# They, and whatever else the data directory holds, are copied.
readonly WRITE_ONCE_DIR=uploads
# How long folders that never settle must have been still before the containers are paused for
# them: a pause inside one of Chroma's bursts of writes would freeze a torn file.
readonly PAUSE_GAP=0.2

# rsync_copy <rsync args…>: rsync, where files that vanished while it ran (exit 24: Open WebUI
# deleted them meanwhile) are left out as if they had been deleted just before.
rsync_copy() {
  local rc=0
  rsync "$@" || rc=$?
  if ((rc == 24)); then
    log "some files vanished while they were copied (deleted meanwhile); the copy leaves them out"
    rc=0
  fi
  return "$rc"
}

# link_write_once <data dir> <dest>: uploads, hard-linked when the stage shares their file system.
link_write_once() {
  local src=$1 dest=$2
  [[ -d "$src/$WRITE_ONCE_DIR" ]] || return 0
  local -a args=(-a --numeric-ids "${STAGE_FILTERS[@]}" --include "/$WRITE_ONCE_DIR/***" --exclude '*')
  if same_file_system "$src" "$dest"; then args+=(--link-dest "$src"); fi
  rsync_copy "${args[@]}" -- "$src/" "$dest/"
}

# copy_files <data dir> <dest>: every other file, copied.
copy_files() {
  rsync_copy -a --numeric-ids "${STAGE_FILTERS[@]}" --exclude "/$WRITE_ONCE_DIR/" -- "$1/" "$2/"
}

# copy_folder <data dir> <dest> <folder>: one folder's own files again. --dirs without recursion
# stops at its subfolders (folders of their own); --relative keeps the filters anchored at the
# data directory; --delete drops files deleted since. --ignore-times: rsync's quick check
# compares whole seconds, so a file torn in the first copy whose last write landed in the same
# second, at the same size, would look copied already; every file is copied again.
copy_folder() {
  rsync_copy -a --numeric-ids --ignore-times --no-recursive --dirs --relative --delete "${STAGE_FILTERS[@]}" --exclude "/$WRITE_ONCE_DIR/" -- "$1/./$3/" "$2/"
}

# forget_folder <dest> <folder>: a folder deleted from the data directory while it was copied
# (a Chroma collection deleted) is left out of the copy rather than shipped half-copied.
forget_folder() {
  log "online copy: $2 was deleted while it was copied; the copy leaves it out"
  rm -rf -- "${1:?}/$2"
}

# file_stats <dir>: NUL-separated pairs of path and "inode size mtime ctime" for the regular
# files under <dir>, uploads excepted.
file_stats() {
  (cd -- "$1" && find . -path "./$WRITE_ONCE_DIR" -prune -o -type f -printf '%P\0%i %s %T@ %C@\0')
}

# folder_stats <data dir> <folder…>: "inode size mtime ctime" of each folder and its own files.
# Any write, truncation, rename, creation or deletion in a folder changes this text.
folder_stats() {
  local src=$1 u
  shift
  for u in "$@"; do
    printf '%s\n' "$u"
    if [[ -d "$src/$u" ]]; then
      (cd -- "$src/$u" && find . -maxdepth 1 \( -name . -o -type f \) -printf '%i %s %T@ %C@\n' | sort)
    else
      printf 'gone\n'
    fi
  done
}

# still_for <folder_stats text> <seconds>: nothing in it changed for that long.
still_for() {
  awk -v now="$EPOCHREALTIME" -v quiet="$2" 'NF == 4 && $4 + 0 > newest { newest = $4 + 0 } END { exit !(now - newest >= quiet) }' <<<"$1"
}

# unsettled_folders <work dir> <since>: the folders (NUL-separated, "." for the top) holding a
# copied file that changed between the stats taken before and after the copy, or that changed
# after <since>, a moment before the copy began: a burst of writes may have been under way.
unsettled_folders() {
  local work=$1 since=$2
  awk -v since="$since" '
    BEGIN { RS = "\0"; ORS = "\0" }
    FILENAME == ARGV[1] { db[$0] = 1; next }
    FILENAME == ARGV[2] { if (FNR % 2) p = $0; else before[p] = $0; next }
    FILENAME == ARGV[3] { if (FNR % 2) p = $0; else after[p] = $0; next }
    $0 in db { next }
    {
      split(before[$0], b, " ")
      if (!($0 in before) || !($0 in after) || before[$0] != after[$0] || b[4] + 0 > since + 0) {
        d = $0
        if (!sub(/\/[^\/]*$/, "", d)) d = "."
        if (!(d in seen)) { seen[d] = 1; print d }
      }
    }' "$work/databases" "$work/before" "$work/after" "$work/copied"
}

folder_list() {
  if (($# <= 3)); then printf '%s' "$*"; else printf '%s %s %s and %d more' "$1" "$2" "$3" $(($# - 3)); fi
}

# copy_online <data dir> <dest> <work dir>: the files copied while Open WebUI runs. A file that
# changed while it was copied may be torn, so the folders holding one are copied again.
copy_online() {
  local src=$1 dest=$2 work=$3 began since
  local -a folders
  began=$EPOCHREALTIME
  file_stats "$src" >"$work/before"
  copy_files "$src" "$dest"
  test_hold online-copied
  file_stats "$src" >"$work/after"
  # The extras folder (a database dump) is staged on its own, not copied from the data directory.
  (cd -- "$dest" && find . \( -path "./$WRITE_ONCE_DIR" -o -path "./$(extras_name)" \) -prune -o -type f -printf '%P\0') >"$work/copied"
  sqlite_files
  printf '%s\0' "${SQLITE_FILES[@]}" >"$work/databases"
  since=$(awk -v began="$began" -v quiet="$OWB_STILL_SECONDS" 'BEGIN { printf "%.9f", began - quiet }')
  unsettled_folders "$work" "$since" >"$work/folders"
  mapfile -d '' folders <"$work/folders"
  ((${#folders[@]} == 0)) || settle_folders "$src" "$dest" "${folders[@]}"
}

# settle_folders <data dir> <dest> <folder…>: copies each folder again once it has been still for
# OWB_STILL_SECONDS, and keeps the copy only if nothing changed while it was made. Chroma persists
# in bursts; a quiet moment between them gives a consistent copy without pausing anything.
# Folders still changing when the job's settle timeout ends are copied with the containers paused.
settle_folders() {
  local src=$1 dest=$2 u before timeout deadline
  shift 2
  local -a pending=("$@") changing
  job_setting -v timeout SETTLE_TIMEOUT
  deadline=$((EPOCHSECONDS + timeout))
  log "online copy: $(folder_list "${pending[@]}") changed while copied or just before; copying again once still for $OWB_STILL_SECONDS s (waiting at most $timeout s)"
  while :; do
    changing=()
    for u in "${pending[@]}"; do
      if [[ ! -d "$src/$u" ]]; then
        forget_folder "$dest" "$u"
        continue
      fi
      before=$(folder_stats "$src" "$u")
      if ! still_for "$before" "$OWB_STILL_SECONDS"; then
        changing+=("$u")
        continue
      fi
      copy_folder "$src" "$dest" "$u"
      [[ "$(folder_stats "$src" "$u")" == "$before" ]] || changing+=("$u")
    done
    if ((${#changing[@]} == 0)); then
      log "online copy: every folder settled and was copied while still"
      return 0
    fi
    pending=("${changing[@]}")
    ((EPOCHSECONDS < deadline)) || break
    sleep 0.2
  done
  copy_paused "$src" "$dest" "${pending[@]}"
}

# wait_for_gap <data dir> <folder…>: waits until nothing in the folders changed for PAUSE_GAP
# seconds (a burst has just ended), for at most 10 s, and prints the folder_stats that showed
# it. Those very stats are what the freeze is compared with: stats read again after the look
# could already hold the start of the next burst, and a write in the same clock tick as that
# start would not change them.
wait_for_gap() {
  local src=$1 end stats
  shift
  end=$((EPOCHSECONDS + 10))
  stats=$(folder_stats "$src" "$@")
  until still_for "$stats" "$PAUSE_GAP" || ((EPOCHSECONDS >= end)); do
    sleep 0.02
    stats=$(folder_stats "$src" "$@")
  done
  printf '%s\n' "$stats"
}

# copy_paused <data dir> <dest> <folder…>: the folders that never settled, copied with the
# containers paused (through suspend_containers, so the exit trap unpauses them whatever
# happens). The pause starts in a gap between bursts: right after the folders were still for
# PAUSE_GAP, and it counts only if nothing changed between that look and the freeze.
copy_paused() {
  local src=$1 dest=$2 u seen frozen attempt t0 paused_ns=0
  shift 2
  local -a folders=("$@")
  log "online copy: $(folder_list "${folders[@]}") still changing after $(job_setting SETTLE_TIMEOUT) s; pausing the containers to copy them"
  for ((attempt = 1; ; attempt++)); do
    seen=$(wait_for_gap "$src" "${folders[@]}")
    t0=$(date +%s%N)
    suspend_containers pause
    frozen=$(folder_stats "$src" "${folders[@]}")
    [[ "$frozen" != "$seen" ]] || break
    if ((attempt == 5)); then
      log "warning: a write landed just before each of 5 pauses; copying what the pause froze, which may hold a write in progress"
      break
    fi
    resume_containers
    paused_ns=$((paused_ns + $(date +%s%N) - t0))
  done
  for u in "${folders[@]}"; do
    if [[ -d "$src/$u" ]]; then copy_folder "$src" "$dest" "$u"; else forget_folder "$dest" "$u"; fi
  done
  seen=$(folder_stats "$src" "${folders[@]}")
  resume_containers
  paused_ns=$((paused_ns + $(date +%s%N) - t0))
  log "paused the containers for $(record_pause "$paused_ns") s to copy ${#folders[@]} folder(s) that never settled"
  [[ "$seen" == "$frozen" ]] || die "$(folder_list "${folders[@]}") changed while the containers were paused: a process outside them writes there; nothing was shipped"
}

# record_pause <nanoseconds>: prints the time the containers were suspended, in seconds, and keeps
# it for cmd_run, which puts it into the state file and the metrics.
record_pause() {
  local seconds
  seconds=$(printf '%d.%03d' $(($1 / 1000000000)) $(($1 / 1000000 % 1000)))
  if [[ -n "${PAUSE_FILE:-}" ]]; then printf '%s\n' "$seconds" >"$PAUSE_FILE"; fi
  printf '%s' "$seconds"
}

# staged_pause_seconds: what record_pause wrote in this run's staging subshell, or 0.
staged_pause_seconds() {
  if [[ -s "${PAUSE_FILE:-}" ]]; then head -n 1 -- "$PAUSE_FILE"; else printf 0; fi
}
