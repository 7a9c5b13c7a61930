# Method sync: a mirror of the data in a bucket; the bucket's versioning keeps the history.
#
# The job's location holds two copies, each complete once its manifest is there (uploaded
# last): current/, the mirror, and next/, which a run fills first. A run
#  1. finishes a promotion an interrupted run left half done (current/ incomplete, next/ complete);
#  2. marks next/ incomplete and syncs the staged copy into it: only what changed is uploaded,
#     and a file still equal in current/ is copied from there on the server;
#  3. marks current/ incomplete, syncs next/ into it on the server, then writes its manifest.
# So at every moment one of them is complete, whatever stops a run: list, restore and verify
# read current/, or next/ while a promotion is under way. The price is storage: the bucket
# holds the data twice, and an overwritten file leaves a noncurrent version in each copy.

# sync_folder <target> current|next: the rclone path of that copy.
sync_folder() { printf '%s/%s' "$(rclone_root "$1")" "$2"; }

# sync_copies <target>: the complete copies, one a line: "current" and/or "next". A listing
# that fails is a failure, never "none".
sync_copies() {
  local listing
  listing=$(rclone_list --max-depth 2 --files-only --include "/current/$MANIFEST" --include "/next/$MANIFEST" "$(rclone_root "$1")") || return 1
  sed -n -e "s#^current/$MANIFEST\$#current#p" -e "s#^next/$MANIFEST\$#next#p" <<<"$listing" | sort
}

# sync_complete <target>: the copy list and restore read: current, or next while a promotion
# is under way; nothing when neither is complete.
sync_complete() {
  local copies
  copies=$(sync_copies "$1") || return 1
  head -n 1 <<<"$copies"
}

# sync_promote <target> <whether current/ has its manifest: yes|no>: current/ becomes a copy of
# the complete next/, on the server. current/ is incomplete from the first step to the last.
sync_promote() {
  local t=$1 next current
  next=$(sync_folder "$t" next)
  current=$(sync_folder "$t" current)
  if [[ "$2" == yes ]]; then rclone deletefile "$current/$MANIFEST"; fi
  rclone sync "$next/data" "$current/data"
  rclone check --one-way "$next/data" "$current/data" 2>/dev/null || die "$t: current/ differs from next/ after the copy; next/ stays the complete mirror"
  rclone copyto "$next/$HASHES" "$current/$HASHES"
  rclone copyto "$next/$MANIFEST" "$current/$MANIFEST"
}

ship_sync() {
  local t=$1 stage_dir=$2 copies next
  next=$(sync_folder "$t" next)
  copies=$(sync_copies "$t") || die "$t: could not list the mirror; nothing was changed"
  if [[ "$copies" == next ]]; then
    log "$t: finishing the promotion of next/ that an interrupted run left"
    sync_promote "$t" no
    copies=$'current\nnext'
  fi
  # From here until its manifest is back, next/ is incomplete and current/ is the mirror.
  if grep -qxF next <<<"$copies"; then rclone deletefile "$next/$MANIFEST"; fi
  log "$t: uploading the changes to $next"
  rclone sync --copy-dest "$(sync_folder "$t" current)/data" "$stage_dir/data" "$next/data"
  rclone check --one-way "$stage_dir/data" "$next/data" 2>/dev/null || die "$t: next/ differs from the staged copy; current/ is untouched"
  rclone copyto "$stage_dir/$HASHES" "$next/$HASHES"
  rclone copyto "$stage_dir/$MANIFEST" "$next/$MANIFEST"
  log "$t: next/ complete; copying it to current/ on the server"
  if grep -qxF current <<<"$copies"; then sync_promote "$t" yes; else sync_promote "$t" no; fi
  log "$t: mirror synced and checked"
}

list_sync() {
  local t=$1 complete tmp
  complete=$(sync_complete "$t") || die "$t: could not list the mirror of job $JOB"
  if [[ -z "$complete" ]]; then
    printf 'no complete mirror at %s (never synced, or no sync finished)\n' "$(rclone_root "$t")"
    return 0
  fi
  tmp=$(mktemp)
  rclone copyto "$(sync_folder "$t" "$complete")/$MANIFEST" "$tmp" || { rm -f -- "$tmp"; die "$t: could not read the mirror's manifest"; }
  printf 'current  %s  %s files  %s bytes%s\n' "$(manifest_field "$tmp" created)" "$(manifest_field "$tmp" files)" "$(manifest_field "$tmp" bytes)" \
    "$([[ "$complete" == current ]] || printf '  (in next/: a promotion to current/ did not finish; the next run completes it)')"
  rm -f -- "$tmp"
}

restore_sync() {
  local t=$1 snapshot=$2 dest=$3 complete folder
  [[ "$snapshot" == latest || "$snapshot" == current ]] || die "method sync keeps one mirror: --snapshot takes latest or current"
  complete=$(sync_complete "$t") || die "$t: could not list the mirror"
  [[ -n "$complete" ]] || die "$t: the mirror has no manifest: no sync has finished yet"
  folder=$(sync_folder "$t" "$complete")
  log "$t: restoring the mirror from $complete/"
  rclone copyto "$folder/$MANIFEST" "$dest.manifest.json"
  rclone copy "$folder/data" "$dest"
  fetch_hash_list "$folder" "$dest"
}

# manifest_sync <target> <snapshot> <dest file>: the complete mirror's manifest only.
manifest_sync() {
  local complete
  complete=$(sync_complete "$1") || die "$1: could not list the mirror"
  [[ -n "$complete" ]] || die "$1: the mirror has no manifest: no sync has finished yet"
  rclone copyto "$(sync_folder "$1" "$complete")/$MANIFEST" "$3"
}
