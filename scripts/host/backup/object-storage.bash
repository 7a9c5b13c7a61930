# Part: object storage. Open WebUI's files when they live in S3 (STORAGE_PROVIDER=s3,
# OWB_STORAGE_*): copied into the staged tree after the database dump, put back by an in-place
# restore. Open WebUI writes each file once under a unique name, so files copied after the
# dump are a superset of those the dump names.

object_storage_configured() { [[ -n "${OWB_STORAGE_BUCKET:-}" ]]; }

# with_object_storage <command…>: runs the command with the storage key exported to it alone
# (function-local exports, gone on return); the rclone remote "owbfiles" is defined by these
# variables alone.
with_object_storage() {
  # The bucket exists (Open WebUI writes to it), and a key limited to a prefix may not ask.
  local -x RCLONE_CONFIG=/dev/null RCLONE_CONFIG_OWBFILES_TYPE=s3 RCLONE_CONFIG_OWBFILES_PROVIDER=AWS RCLONE_CONFIG_OWBFILES_NO_CHECK_BUCKET=true
  if [[ -n "${OWB_STORAGE_ENDPOINT:-}" ]]; then
    local -x RCLONE_CONFIG_OWBFILES_PROVIDER=Other RCLONE_CONFIG_OWBFILES_ENDPOINT=$OWB_STORAGE_ENDPOINT
  fi
  if [[ -n "${OWB_STORAGE_REGION:-}" ]]; then local -x RCLONE_CONFIG_OWBFILES_REGION=$OWB_STORAGE_REGION; fi
  if [[ -n "${OWB_STORAGE_ACCESS_KEY_ID:-}" ]]; then
    local -x RCLONE_CONFIG_OWBFILES_ACCESS_KEY_ID=$OWB_STORAGE_ACCESS_KEY_ID RCLONE_CONFIG_OWBFILES_SECRET_ACCESS_KEY=$OWB_STORAGE_SECRET_ACCESS_KEY
  else
    local -x RCLONE_CONFIG_OWBFILES_ENV_AUTH=true
  fi
  "$@"
}

storage_remote() { printf 'owbfiles:%s/%s' "$OWB_STORAGE_BUCKET" "$OWB_STORAGE_PREFIX"; }
storage_label() { printf 'bucket %s, prefix %s' "$OWB_STORAGE_BUCKET" "$OWB_STORAGE_PREFIX"; }
storage_copy_dir() { printf '%s/object-storage' "$(extras_dir "$1")"; }

# stage_object_storage <stage dir>: the prefix's files into the staged tree, after the dump.
# A mirror beside the stage (same file system) means each run downloads only new files; the
# staged copy is hard links into it.
stage_object_storage() {
  object_storage_configured || return 0
  local mirror="$OWB_STAGING_DIR/$JOB.object-storage" dest started
  dest=$(storage_copy_dir "$1/data")
  started=$EPOCHSECONDS
  mkdir -p -- "$mirror" "$(dirname -- "$dest")"
  with_object_storage rclone sync "$(storage_remote)" "$mirror" || die "could not copy Open WebUI's files from $(storage_label) (see rclone's message above)"
  cp -al -- "$mirror" "$dest"
  log "copied $(files_of "$dest") files, $(bytes_of "$dest") bytes of Open WebUI's files from $(storage_label) in $((EPOCHSECONDS - started)) s"
}

# check_object_storage_copy <restored tree>: the backup holds the files this host keeps in S3.
check_object_storage_copy() {
  local copy
  copy=$(storage_copy_dir "$1")
  if ! object_storage_configured; then
    [[ ! -e "$copy" ]] || log "warning: this backup holds Open WebUI's S3 files, but this host's env file names no storage; they are not restored"
    return 0
  fi
  [[ -d "$copy" ]] || die "this backup holds no copy of Open WebUI's S3 files (made before the move to S3?); nothing was restored"
}

# restore_object_storage <tree>: puts the backup's files back under the prefix. A copy, not a
# sync: a file uploaded since the backup stays (the restored database does not name it).
restore_object_storage() {
  object_storage_configured || return 0
  local copy
  copy=$(storage_copy_dir "$1")
  log "putting $(files_of "$copy") files back under $(storage_label)"
  with_object_storage rclone copy "$copy" "$(storage_remote)" ||
    die "could not put Open WebUI's files back under $(storage_label); the backup's copy is in $copy, to copy by hand"
}
