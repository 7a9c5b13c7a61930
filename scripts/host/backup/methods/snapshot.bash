# Method snapshot: a dated folder per run on S3, B2 or a local path; a manifest uploaded last marks it complete.

complete_folders() {
  local listing
  listing=$(rclone_list --max-depth 2 --files-only --include "/open-webui-backup-*/$MANIFEST" "$1") || return 1
  sed -n "s|^\(open-webui-backup-[0-9]\{8\}T[0-9]\{6\}Z\)/$MANIFEST\$|\1|p" <<<"$listing" | sort
}

all_folders() {
  local listing
  listing=$(rclone_list --dirs-only "$1") || return 1
  sed -n 's|/$||p' <<<"$listing" | { grep -E "$SNAPSHOT_FOLDER_PATTERN" || true; } | sort
}

# remove_folder <rclone path>: deletes the files of a snapshot folder, then its empty folders.
# Never `rclone purge`: on B2 that deletes every version of every file, past the lifecycle
# rules. A delete is a hide on B2 and a delete marker on a versioned S3 bucket, so the old
# versions stay until the bucket's lifecycle removes them. rmdirs matters on local targets;
# on buckets folders are only names and vanish with their files.
remove_folder() {
  rclone delete "$1" && rclone rmdirs "$1"
}

ship_snapshot() {
  local t=$1 stage_dir=$2 root folder listing newest
  rclone_root -v root "$t"
  folder="open-webui-backup-$(date -u -d "@$(now_epoch)" +%Y%m%dT%H%M%SZ)"
  # The newest complete folder is the source of every unchanged file; an incomplete one
  # (no manifest) never is.
  listing=$(complete_folders "$root") || die "$t: could not list the snapshots of job $JOB"
  if grep -qxF "$folder" <<<"$listing"; then die "$t: $folder already exists"; fi
  newest=$(tail -n 1 <<<"$listing")
  log "$t: uploading to $folder${newest:+, unchanged files copied from $newest}"
  upload_snapshot_data "$t" "$stage_dir/data" "$root/$folder/data" "${newest:+$root/$newest/data}"
  # rclone copy already compared each file's hash after its transfer; this pass proves every
  # staged file arrived, at its size, without reading all of them a second time.
  rclone check --one-way --size-only "$stage_dir/data" "$root/$folder/data" 2>/dev/null || die "$t: uploaded files differ from the staged copy"
  rclone copyto "$stage_dir/$HASHES" "$root/$folder/$HASHES"
  rclone copyto "$stage_dir/$MANIFEST" "$root/$folder/$MANIFEST"
  log "$t: $folder uploaded and checked"
}

# upload_snapshot_data <target> <staged data> <folder's data> [<previous data>]: the new
# folder's files, sending only what changed since the previous complete folder. On a bucket,
# rclone's --copy-dest compares each staged file with the previous folder's (size and mtime,
# as a copy does) and copies the unchanged ones server-side; only new and changed files are
# uploaded. rclone's local backend has no server-side copy, so there --copy-dest would write
# every byte again: a local target hard-links unchanged files to the previous folder instead.
upload_snapshot_data() {
  local t=$1 data=$2 dest=$3 previous=${4:-}
  if [[ "$(target_setting "$t" TYPE)" == local ]]; then
    link_snapshot_data "$t" "$data" "$dest" "$previous"
    return
  fi
  local -a copy_from=()
  if [[ -n "$previous" ]]; then copy_from=(--copy-dest "$previous"); fi
  rclone copy "${copy_from[@]}" "$data" "$dest"
}

# link_snapshot_data <target> <staged data> <dest> [<previous data>]: rsync with unchanged files
# hard-linked to the previous folder's, compared to the nanosecond; the databases, fresh
# copies each run, are always copied (see write_linked_snapshot).
link_snapshot_data() {
  local t=$1 data=$2 dest=$3 previous=${4:-} stats copied
  database_filters /
  local -a args=(-a --numeric-ids --stats --modify-window=-1 "${DB_EXCLUDES[@]}")
  if [[ -n "$previous" ]]; then args+=(--link-dest "$previous"); fi
  mkdir -p -- "$dest"
  stats=$(rsync "${args[@]}" -- "$data/" "$dest/")
  rsync -a --numeric-ids "${DB_INCLUDES[@]}" --exclude '*' -- "$data/" "$dest/"
  copied=$(sed -n 's/^Total transferred file size: \([0-9,]*\).*/\1/p' <<<"$stats" | tr -d ,)
  log "$t: ${copied:-0} bytes copied besides the databases, unchanged files hard-linked to ${previous:-nothing (first snapshot)}"
}

# folder_bytes <target> <folder>: what removing a folder frees (inside with_target). On a
# local target only the files no other folder links to; on a bucket every object is its own.
folder_bytes() {
  if [[ "$(target_setting "$1" TYPE)" == local ]]; then unshared_bytes "$2"; else stored_bytes "$1" "$2"; fi
}

# prune_snapshot <target>: keeps the newest `keep` complete folders; removes older ones and
# the leftovers of failed runs older than the newest complete folder. Prints the bytes freed.
# Only under the job lock (prune.bash), so no run is writing a folder or copying from one.
prune_snapshot() {
  local t=$1 root keep listing newest f i bytes freed=0 removed=0
  rclone_root -v root "$t"
  job_setting -v keep KEEP_LAST
  # A failed listing must stop the prune: a folder missing from it would look incomplete.
  local -a complete all doomed=()
  listing=$(complete_folders "$root") || die "$t: could not list snapshots; nothing pruned"
  if [[ -z "$listing" ]]; then
    log "$t: no complete snapshot; nothing to prune"
    printf '0\n'
    return 0
  fi
  mapfile -t complete <<<"$listing"
  newest=${complete[-1]}
  listing=$(all_folders "$root") || die "$t: could not list folders; nothing pruned"
  mapfile -t all <<<"$listing"
  for ((i = 0; i < ${#complete[@]} - keep; i++)); do doomed+=("${complete[i]}"); done
  for f in "${all[@]}"; do
    if [[ -n "$f" && "$f" < "$newest" ]] && ! printf '%s\n' "${complete[@]}" | grep -qxF "$f"; then
      log "$t: $f is incomplete (a failed run's leftover)"
      doomed+=("$f")
    fi
  done
  for f in "${doomed[@]}"; do
    log "$t: pruning $f"
    bytes=$(folder_bytes "$t" "$root/$f") || bytes=0
    remove_folder "$root/$f"
    freed=$((freed + ${bytes:-0}))
    removed=$((removed + 1))
  done
  log "$t: $((${#complete[@]} < keep ? ${#complete[@]} : keep)) snapshots kept, $removed folders removed"
  printf '%s\n' "$freed"
}

list_snapshot() {
  local root
  rclone_root -v root "$1"
  complete_folders "$root" || die "$1: could not list the snapshots of job $JOB"
}

restore_snapshot() {
  local t=$1 snapshot=$2 dest=$3 root
  rclone_root -v root "$t"
  local listing
  listing=$(complete_folders "$root") || die "$t: could not list snapshots"
  if [[ "$snapshot" == latest ]]; then
    snapshot=$(tail -n 1 <<<"$listing")
    [[ -n "$snapshot" ]] || die "$t: no complete snapshot of job $JOB"
  fi
  [[ "$snapshot" =~ $SNAPSHOT_FOLDER_PATTERN ]] || die "not a snapshot folder name: $snapshot"
  grep -qxF "$snapshot" <<<"$listing" || die "$t: no complete snapshot named $snapshot"
  log "$t: restoring $snapshot"
  rclone copy "$root/$snapshot/data" "$dest"
  rclone copyto "$root/$snapshot/$MANIFEST" "$dest.manifest.json"
  fetch_hash_list "$root/$snapshot" "$dest"
}

# manifest_snapshot <target> <snapshot> <dest file>: the snapshot's manifest only.
manifest_snapshot() {
  local t=$1 snapshot=$2 dest=$3 root listing
  rclone_root -v root "$t"
  listing=$(complete_folders "$root") || die "$t: could not list snapshots"
  if [[ "$snapshot" == latest ]]; then snapshot=$(tail -n 1 <<<"$listing"); fi
  if [[ -z "$snapshot" ]] || ! grep -qxF -- "$snapshot" <<<"$listing"; then die "$t: no complete snapshot named ${snapshot:-latest} of job $JOB"; fi
  rclone copyto "$root/$snapshot/$MANIFEST" "$dest"
}
