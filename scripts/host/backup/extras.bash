# Part: backup extras. What a backup holds beside the data directory's own files when Open
# WebUI keeps data elsewhere: the PostgreSQL dump and the files of its S3 storage. They travel
# in one folder inside the staged data/, so every method ships, lists and restores them as it
# does the data directory. `restore --to` leaves them there; an in-place restore puts them
# back where they belong and then removes the folder from the live data directory.

extras_name() { printf 'openwebui-backup'; }

# extras_dir <tree>: the folder in a staged or restored data tree.
extras_dir() { printf '%s/%s' "$1" "$(extras_name)"; }

# check_backup_extras <restored tree>: what this host keeps outside the data directory is in
# the backup, and readable, before anything live is touched.
check_backup_extras() {
  check_database_dump "$1"
  check_object_storage_copy "$1"
}

# drop_extras <tree>: removes the folder once its contents are back in place.
drop_extras() { rm -rf -- "$(extras_dir "$1")"; }
