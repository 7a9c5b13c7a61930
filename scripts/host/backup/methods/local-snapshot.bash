# Method local-snapshot: hard-linked point-in-time folders on a local disk or mount.

ship_local_snapshot() {
  local t=$1 stage_dir=$2 root folder
  target_location -v root "$t"
  folder=$(snapshot_folder_name)
  [[ ! -e "$root/$folder" ]] || die "$t: $folder already exists"
  write_linked_snapshot "$t" "$root" "$folder" "$stage_dir/"
}

# prune_local_snapshot <target>: the retention's deletions (prune.bash); prints the bytes freed.
prune_local_snapshot() { prune_local "$1" "$(target_location "$1")"; }

list_local_snapshot() { local_complete "$(target_location "$1")"; }

restore_local_snapshot() {
  local t=$1 snapshot=$2 dest=$3 root listing
  target_location -v root "$t"
  listing=$(local_complete "$root")
  if [[ "$snapshot" == latest ]]; then
    snapshot=$(tail -n 1 <<<"$listing")
    [[ -n "$snapshot" ]] || die "$t: no complete snapshot of job $JOB in $root"
  fi
  [[ "$snapshot" =~ $SNAPSHOT_FOLDER_PATTERN ]] || die "not a snapshot folder name: $snapshot"
  grep -qxF "$snapshot" <<<"$listing" || die "$t: no complete snapshot named $snapshot"
  log "$t: restoring $snapshot"
  rsync -a --numeric-ids -- "$root/$snapshot/data/" "$dest/"
  cp -- "$root/$snapshot/$MANIFEST" "$dest.manifest.json"
  [[ ! -f "$root/$snapshot/$HASHES" ]] || cp -- "$root/$snapshot/$HASHES" "$dest.$HASHES"
}

# manifest_local_snapshot <target> <snapshot> <dest file>: the snapshot's manifest only.
manifest_local_snapshot() {
  local t=$1 snapshot=$2 dest=$3 root listing
  target_location -v root "$t"
  listing=$(local_complete "$root")
  if [[ "$snapshot" == latest ]]; then snapshot=$(tail -n 1 <<<"$listing"); fi
  if [[ -z "$snapshot" ]] || ! grep -qxF -- "$snapshot" <<<"$listing"; then die "$t: no complete snapshot named ${snapshot:-latest} of job $JOB in $root"; fi
  cp -- "$root/$snapshot/$MANIFEST" "$dest"
}
