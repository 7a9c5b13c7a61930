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
  local t=$1 stage_dir=$2 root folder keep
  root=$(rclone_root "$t")
  folder="open-webui-backup-$(date -u -d "@$(now_epoch)" +%Y%m%dT%H%M%SZ)"
  local listing
  listing=$(complete_folders "$root")
  if grep -qxF "$folder" <<<"$listing"; then die "$t: $folder already exists"; fi
  log "$t: uploading to $folder"
  rclone copy --no-traverse "$stage_dir/data" "$root/$folder/data"
  # rclone copy already compared each file's hash after its transfer; this pass proves every
  # staged file arrived, at its size, without reading all of them a second time.
  rclone check --one-way --size-only "$stage_dir/data" "$root/$folder/data" 2>/dev/null || die "$t: uploaded files differ from the staged copy"
  rclone copyto "$stage_dir/$HASHES" "$root/$folder/$HASHES"
  rclone copyto "$stage_dir/$MANIFEST" "$root/$folder/$MANIFEST"
  log "$t: $folder uploaded and checked"

  # Prune only now that this run's copy is complete: keep the newest `keep` complete
  # folders; drop older ones and leftovers of failed runs older than the newest complete.
  keep=$(job_setting KEEP_LAST)
  # A failed listing must stop the prune: a folder missing from it would look incomplete.
  local -a complete all
  listing=$(complete_folders "$root") || die "$t: could not list snapshots; nothing pruned"
  mapfile -t complete <<<"$listing"
  grep -qxF "$folder" <<<"$listing" || die "$t: $folder is missing from the listing; nothing pruned"
  listing=$(all_folders "$root") || die "$t: could not list folders; nothing pruned"
  mapfile -t all <<<"$listing"
  local newest=$folder f i
  for ((i = 0; i < ${#complete[@]} - keep; i++)); do
    log "$t: pruning ${complete[i]}"
    remove_folder "$root/${complete[i]}"
  done
  for f in "${all[@]}"; do
    if [[ "$f" < "$newest" ]] && ! printf '%s\n' "${complete[@]}" | grep -qxF "$f"; then
      log "$t: removing incomplete $f"
      remove_folder "$root/$f"
    fi
  done
}

list_snapshot() {
  local root
  root=$(rclone_root "$1")
  complete_folders "$root" || die "$1: could not list the snapshots of job $JOB"
}

restore_snapshot() {
  local t=$1 snapshot=$2 dest=$3 root
  root=$(rclone_root "$t")
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
  root=$(rclone_root "$t")
  listing=$(complete_folders "$root") || die "$t: could not list snapshots"
  if [[ "$snapshot" == latest ]]; then snapshot=$(tail -n 1 <<<"$listing"); fi
  if [[ -z "$snapshot" ]] || ! grep -qxF -- "$snapshot" <<<"$listing"; then die "$t: no complete snapshot named ${snapshot:-latest} of job $JOB"; fi
  rclone copyto "$root/$snapshot/$MANIFEST" "$dest"
}
