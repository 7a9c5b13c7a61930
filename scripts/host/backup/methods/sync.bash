# Method sync: one mirror of the data; the bucket's versioning keeps the history.

# The mirror lives at <location>/current. Its manifest goes up last and is removed first, so
# a sync that dies half way leaves a mirror without manifest, which list and restore call
# incomplete (the bucket's versions still hold the previous state).
sync_root() { printf '%s/current' "$(rclone_root "$1")"; }

ship_sync() {
  local t=$1 stage_dir=$2 root
  root=$(sync_root "$t")
  rclone deletefile "$root/$MANIFEST" 2>/dev/null || true
  log "$t: syncing the mirror at $root"
  rclone sync "$stage_dir/data" "$root/data"
  rclone check --one-way "$stage_dir/data" "$root/data" 2>/dev/null || die "$t: the mirror differs from the staged copy"
  rclone copyto "$stage_dir/$HASHES" "$root/$HASHES"
  rclone copyto "$stage_dir/$MANIFEST" "$root/$MANIFEST"
  log "$t: mirror synced and checked"
}

list_sync() {
  local root manifest tmp
  root=$(sync_root "$1")
  tmp=$(mktemp)
  if rclone copyto "$root/$MANIFEST" "$tmp" 2>/dev/null && [[ -s "$tmp" ]]; then
    manifest=$tmp
    printf 'current  %s  %s files  %s bytes\n' "$(manifest_field "$manifest" created)" "$(manifest_field "$manifest" files)" "$(manifest_field "$manifest" bytes)"
    rm -f -- "$tmp"
  else
    rm -f -- "$tmp"
    printf 'no complete mirror at %s (never synced, or the last sync did not finish)\n' "$root"
  fi
}

restore_sync() {
  local t=$1 snapshot=$2 dest=$3 root
  [[ "$snapshot" == latest || "$snapshot" == current ]] || die "method sync keeps one mirror: --snapshot takes latest or current"
  root=$(sync_root "$t")
  rclone copyto "$root/$MANIFEST" "$dest.manifest.json" 2>/dev/null || die "$t: the mirror has no manifest: it was never completed, or the last sync did not finish"
  log "$t: restoring the mirror"
  rclone copy "$root/data" "$dest"
  fetch_hash_list "$root" "$dest"
}

# manifest_sync <target> <snapshot> <dest file>: the mirror's manifest only.
manifest_sync() {
  rclone copyto "$(sync_root "$1")/$MANIFEST" "$3" 2>/dev/null || die "$1: the mirror has no manifest: it was never completed, or the last sync did not finish"
}
