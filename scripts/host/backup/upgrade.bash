# Part: upgrade. A backup tied to an Open WebUI image change (pre-upgrade), the rollback that
# undoes a bad upgrade with it, and the guard that keeps a restore from handing an older
# release a newer schema. Open WebUI migrates its database when it starts and never back.

# Restic tag of a pre-upgrade snapshot, beside the job's own tag. Folder methods keep their
# folder names (list, restore and retention read those) and say it in the manifest (upgradeTo).
readonly PRE_UPGRADE_TAG=openwebui-pre-upgrade
# A scheduled run holding the job's lock makes a deploy wait for it this long, not fail.
readonly PRE_UPGRADE_LOCK_WAIT_SECONDS=1800
# Set by pre-upgrade to the image the deploy is about to run: write_manifest records it and
# ship_restic adds PRE_UPGRADE_TAG. Empty for every other run.
PRE_UPGRADE_TO_IMAGE=""

# upgrade_method_check: pre-upgrade and rollback need a job that keeps this host's data under
# a name a later rollback can find: a sync mirror is overwritten by its next run, a pull job
# holds another host's data.
upgrade_method_check() {
  local method
  job_setting -v method METHOD
  case "$method" in
    restic | snapshot | local-snapshot) ;;
    sync) die "job $JOB is a sync mirror: its next run overwrites the copy a rollback needs; use a restic, snapshot or local-snapshot job" ;;
    *) die "job $JOB (method $method) does not back up this host's data; use a restic, snapshot or local-snapshot job" ;;
  esac
}

# live_data_state: "data:<dir>" when the data directory holds Open WebUI's database, else
# "none:<why>" (a first deploy: nothing to protect yet). A Docker that cannot answer is an
# error, never "no data": the upgrade must not go ahead unprotected on a guess.
live_data_state() {
  local dir=${OWB_DATA_DIR:-} errors
  if [[ -z "$dir" ]]; then
    errors=$(mktemp)
    if ! dir=$(docker volume inspect --format '{{ .Mountpoint }}' "$OWB_DATA_VOLUME" 2>"$errors"); then
      if grep -qi 'no such volume' "$errors"; then
        rm -f -- "$errors"
        printf 'none:Docker volume %s does not exist yet' "$OWB_DATA_VOLUME"
        return 0
      fi
      log "docker volume inspect $OWB_DATA_VOLUME failed: $(head -n 3 "$errors" | tr '\n' ' ')"
      rm -f -- "$errors"
      die "cannot tell whether Open WebUI has data on this host; not letting an upgrade go ahead without a backup"
    fi
    rm -f -- "$errors"
    [[ -d "$dir" ]] || die "Docker volume $OWB_DATA_VOLUME has mountpoint $dir, which is not a directory here"
  fi
  if [[ ! -d "$dir" ]]; then
    printf 'none:data directory %s does not exist yet' "$dir"
  elif [[ ! -f "$dir/webui.db" ]]; then
    printf 'none:data directory %s holds no webui.db (Open WebUI has not started on it yet)' "$dir"
  else
    printf 'data:%s' "$dir"
  fi
}

cmd_pre_upgrade() {
  local state running
  [[ -n "$TO_IMAGE_ARG" ]] || die "pre-upgrade needs --to-image <the Open WebUI image the deploy will run>"
  [[ "$TO_IMAGE_ARG" =~ ^[A-Za-z0-9][A-Za-z0-9._/:@-]*$ ]] || die "--to-image takes an image reference such as ghcr.io/open-webui/open-webui:v0.11.4"
  upgrade_method_check
  state=$(live_data_state) || exit 1
  if [[ "$state" == none:* ]]; then
    log "pre-upgrade: nothing to back up before $TO_IMAGE_ARG starts: ${state#none:}"
    printf 'pre-upgrade backup of job %s: not needed, no Open WebUI data on this host yet (%s)\n' "$JOB" "${state#none:}"
    return 0
  fi
  running=$(openwebui_image)
  running=${running%%$'\t'*}
  refuse_downgrade "$running" "$TO_IMAGE_ARG"
  log "pre-upgrade: backing up before ${running:-Open WebUI (image unknown)} gives way to $TO_IMAGE_ARG"
  PRE_UPGRADE_TO_IMAGE=$TO_IMAGE_ARG
  LOCK_WAIT_SECONDS=$PRE_UPGRADE_LOCK_WAIT_SECONDS
  cmd_run
  printf 'pre-upgrade backup of job %s done: taken under %s, before the upgrade to %s\n' "$JOB" "${running:-an unknown image}" "$TO_IMAGE_ARG"
}

# refuse_downgrade <running image> <image to run>: an older release started on this data would
# meet a schema it cannot read. The way back is a rollback (the data from before the upgrade),
# after which the data counts as the older release's and the same deploy goes through.
refuse_downgrade() {
  local rv tv
  rv=$(image_version "$1")
  tv=$(image_version "$2")
  [[ -n "$rv" && -n "$tv" ]] && version_newer "$rv" "$tv" || return 0
  die "refusing: the deploy would start $2 (release $tv) on data that $1 (release $rv) has migrated; an older release cannot read a newer schema. To go back, run \`openwebui-backup rollback $JOB\` on this host first (it restores the data from before the upgrade), then pulumi up again"
}

# ---------------------------------------------------------------- finding pre-upgrade backups

# pre_upgrade_backups <target> <dir>: the job's pre-upgrade backups on the target, oldest first,
# one name a line (a restic snapshot id or a snapshot folder); each one's manifest is copied to
# <dir>/<name>.json.
pre_upgrade_backups() {
  local t=$1 dir=$2
  case "$(job_setting METHOD)" in
    restic) with_target "$t" pre_upgrade_restic "$t" "$dir" ;;
    snapshot) with_target "$t" pre_upgrade_remote_folders "$t" "$dir" ;;
    local-snapshot | pull) pre_upgrade_local_folders "$t" "$dir" ;;
  esac
}

pre_upgrade_restic() {
  local t=$1 dir=$2 listing id
  restic_env "$t"
  listing=$(restic snapshots --json --host "$OWB_HOST" --tag "$(restic_tag),$PRE_UPGRADE_TAG") || die "$t: could not list the restic snapshots"
  # restic lists snapshots oldest first.
  while read -r id; do
    [[ -n "$id" ]] || continue
    restic dump "$id" "/$MANIFEST" >"$dir/$id.json" || die "$t: could not read the manifest of restic snapshot $id"
    printf '%s\n' "$id"
  done < <(grep -o '"short_id":"[0-9a-f]*"' <<<"$listing" | cut -d'"' -f4)
}

# Every folder's manifest in one transfer; the ones that name an upgrade are pre-upgrade backups.
pre_upgrade_remote_folders() {
  local t=$1 dir=$2 root listing f
  rclone_root -v root "$t"
  listing=$(complete_folders "$root") || die "$t: could not list the snapshots of job $JOB"
  [[ -n "$listing" ]] || return 0
  rclone copy --max-depth 2 --include "/open-webui-backup-*/$MANIFEST" "$root" "$dir/folders" || die "$t: could not fetch the snapshots' manifests"
  while read -r f; do
    pick_pre_upgrade "$dir" "$f" "$dir/folders/$f/$MANIFEST"
  done <<<"$listing"
}

pre_upgrade_local_folders() {
  local t=$1 dir=$2 root f
  target_location -v root "$t"
  while read -r f; do
    [[ -z "$f" ]] || pick_pre_upgrade "$dir" "$f" "$root/$f/$MANIFEST"
  done < <(local_complete "$root")
}

# pick_pre_upgrade <dir> <folder> <its manifest>
pick_pre_upgrade() {
  [[ -f "$3" && -n "$(manifest_field "$3" upgradeTo)" ]] || return 0
  cp -- "$3" "$1/$2.json"
  printf '%s\n' "$2"
}

# list_pre_upgrade <target>: which of the job's backups were taken before an upgrade, and under
# which image each was (the image is what a rollback asks you to pin again). Nothing when there
# are none, so the listing above stays as it was.
list_pre_upgrade() {
  local t=$1 dir listing name m
  case "$(job_setting METHOD)" in
    restic | snapshot | local-snapshot | pull) ;;
    *) return 0 ;;
  esac
  mkdir -p -- "$OWB_STAGING_DIR"
  dir=$(mktemp -d "$OWB_STAGING_DIR/list-$JOB.XXXXXX")
  CLEANUP_DIRS+=("$dir")
  # The backups are listed above already: not knowing which are pre-upgrade ones is a warning.
  if ! listing=$(pre_upgrade_backups "$t" "$dir"); then
    log "warning: $t: could not tell which backups are pre-upgrade ones (see above)"
    return 0
  fi
  [[ -n "$listing" ]] || return 0
  printf '\npre-upgrade backups on %s (rollback restores the newest):\n' "$t"
  while read -r name; do
    m="$dir/$name.json"
    printf '  %s  %s  taken under %s (schema %s), before the upgrade to %s\n' "$name" "$(manifest_field "$m" created)" \
      "$(image_or_unknown "$(manifest_field "$m" image)")" "$(manifest_field "$m" schemaRevision)" "$(manifest_field "$m" upgradeTo)"
  done <<<"$listing"
}

image_or_unknown() { printf '%s' "${1:-an unrecorded image}"; }

# ---------------------------------------------------------------- rollback

cmd_rollback() {
  local t scratch listing snapshot manifest image digest upgrade_to revision c=$OWB_OPENWEBUI_CONTAINER state rc
  upgrade_method_check
  t=$(pick_target "$TARGET_ARG")
  take_lock
  mkdir -p -- "$OWB_STAGING_DIR"
  scratch=$(mktemp -d "$OWB_STAGING_DIR/rollback-$JOB.XXXXXX")
  CLEANUP_DIRS+=("$scratch")
  listing=$(pre_upgrade_backups "$t" "$scratch") || die "$t: could not list the pre-upgrade backups of job $JOB"
  snapshot=$(tail -n 1 <<<"$listing")
  [[ -n "$snapshot" ]] || die "$t: job $JOB has no pre-upgrade backup to roll back to; \`openwebui-backup list $JOB --target $t\` shows its backups, \`restore --in-place\` restores one"
  manifest="$scratch/$snapshot.json"
  image=$(manifest_field "$manifest" image)
  digest=$(manifest_field "$manifest" imageDigest)
  upgrade_to=$(manifest_field "$manifest" upgradeTo)
  revision=$(manifest_field "$manifest" schemaRevision)
  log "rollback: $snapshot from $t, taken $(manifest_field "$manifest" created) under $(image_or_unknown "$image") before the upgrade to $upgrade_to"

  # Open WebUI stops first and stays stopped: what it writes from now on would be lost with the
  # swap anyway, and started again, the upgraded release would migrate the restored data again.
  state=$(docker inspect --format '{{ .State.Status }}' "$c" 2>/dev/null || true)
  if [[ "$state" == running || "$state" == paused ]]; then
    log "stopping container $c; it stays stopped after the rollback"
    docker stop "$c" >/dev/null || die "could not stop container $c; nothing was restored"
  fi
  set +e
  (
    set -e
    trap on_exit EXIT # its own trap: containers it stops for the swap (Ollama) come back
    restore_in_place "$t" "$snapshot"
  )
  rc=$?
  set -e
  if ((rc != 0)); then
    log "rollback FAILED (exit $rc); container $c is left stopped. The lines above say whether the data was swapped (then the upgraded data is in the .before-restore- folder beside it) or left as it was (then \`docker start $c\` runs the upgraded release again)."
    exit "$rc"
  fi
  mark_rolled_back "$image" "$digest"
  rollback_next_steps "$snapshot" "$image" "$digest" "$upgrade_to" "$revision"
}

# image_pin <image> <digest>: the value for hosts[].openwebui.image: the tag, with the digest
# when the backup recorded the repository's one.
image_pin() {
  local image=$1 digest=$2
  if [[ "$image" != *@* && "$digest" == *@sha256:* && "${digest%%@*}" == "${image%:*}" ]]; then
    printf '%s@%s' "$image" "${digest#*@}"
  else
    printf '%s' "$image"
  fi
}

# rollback_next_steps <snapshot> <image> <digest> <upgraded to> <schema revision>
rollback_next_steps() {
  local snapshot=$1 image=$2 digest=$3 upgrade_to=$4 revision=$5 pin data safety
  data=$(data_dir)
  safety=$(newest_safety_copy "$data")
  printf 'Rolled back job %s on host %s: %s is the data from before the upgrade to %s.\n' "$JOB" "$OWB_HOST" "$snapshot" "$upgrade_to"
  printf 'Open WebUI (container %s) is STOPPED on purpose: started again, the upgraded release would migrate this data again.\n' "$OWB_OPENWEBUI_CONTAINER"
  printf 'Next:\n'
  if [[ -n "$image" ]]; then
    pin=$(image_pin "$image" "$digest")
    printf '  1. In Pulumi.%s.yaml set hosts[%s].openwebui.image (the host named "%s") back to the image this backup was taken under:\n' "$OWB_STACK" "$OWB_HOST" "$OWB_HOST"
    printf '       image: %s\n' "$pin"
  else
    printf '  1. In Pulumi.%s.yaml set hosts[%s].openwebui.image (the host named "%s") back to the release you ran before the upgrade;\n' "$OWB_STACK" "$OWB_HOST" "$OWB_HOST"
    printf '     this backup does not record its image (docker did not answer); its schema revision is %s.\n' "$revision"
  fi
  printf '  2. Run "pulumi up": it recreates the %s container from that image, on the restored data.\n' "$OWB_OPENWEBUI_CONTAINER"
  if [[ -n "$safety" ]]; then printf 'The upgraded data is kept in %s; delete it once the old release works.\n' "$safety"; fi
}

# After a rollback the stopped container still carries the upgraded image, but the data is the
# backup's. Until that container runs again or is replaced, the image the data belongs to is
# the backup's: rolled_back_image says so to openwebui_image (manifests, warnings, the guard).
rollback_marker() { printf '%s/rolled-back' "$OWB_STATE_DIR"; }

mark_rolled_back() {
  local id
  id=$(docker inspect --format '{{ .Image }}' "$OWB_OPENWEBUI_CONTAINER" 2>/dev/null) || id=""
  mkdir -p -- "$OWB_STATE_DIR"
  printf '%s\n%s\n%s\n' "$1" "$2" "$id" >"$(rollback_marker)"
}

rolled_back_image() {
  local marker state id
  marker=$(rollback_marker)
  [[ -f "$marker" ]] || return 0
  state=$(docker inspect --format '{{ .State.Status }}' "$OWB_OPENWEBUI_CONTAINER" 2>/dev/null) || state=""
  id=$(docker inspect --format '{{ .Image }}' "$OWB_OPENWEBUI_CONTAINER" 2>/dev/null) || id=""
  if [[ "$state" != running && -n "$id" && "$id" == "$(sed -n 3p "$marker")" ]]; then
    printf '%s\t%s' "$(sed -n 1p "$marker")" "$(sed -n 2p "$marker")"
  else
    rm -f -- "$marker" # the container ran again or was replaced: its own image tells the truth now
  fi
}

# ---------------------------------------------------------------- the restore guard

# image_version <image reference>: the release its tag names ("v0.6.10" → 0.6.10, "0.6.5-cuda"
# → 0.6.5), or nothing for a tag that names none (main, latest, a commit, an image id).
image_version() {
  local ref=${1%%@*} tag
  [[ "$ref" != sha256:* ]] || return 0 # an image id
  tag=${ref##*/}
  [[ "$tag" == *:* ]] || return 0
  tag=${tag##*:}
  if [[ "$tag" =~ ^v?([0-9]+(\.[0-9]+)*)([-+][A-Za-z0-9._-]*)?$ ]]; then printf '%s' "${BASH_REMATCH[1]}"; fi
}

# version_newer <a> <b>: release a is newer than release b, by version order (0.6.10 > 0.6.5).
version_newer() {
  [[ "$1" != "$2" && "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -n 1)" == "$1" ]]
}

# schema_order <backup revision> <live revision>: "newer", "same-or-older" or "unknown".
# Alembic revisions are random ids with no order of their own; peewee's (older releases) are
# numbered, and every Alembic revision came after the last peewee one.
schema_order() {
  local b=$1 l=$2
  if [[ "$b" == "$l" ]]; then
    echo same-or-older
  elif [[ "$b" == peewee:* && "$l" != peewee:* ]]; then
    echo same-or-older
  elif [[ "$b" != peewee:* && "$l" == peewee:* ]]; then
    echo newer
  elif [[ "$b" == peewee:* && "${b#peewee:}" =~ ^([0-9]+) ]]; then
    local bn=$((10#${BASH_REMATCH[1]}))
    if [[ "${l#peewee:}" =~ ^([0-9]+) ]] && ((bn > 10#${BASH_REMATCH[1]})); then echo newer; else echo same-or-older; fi
  else
    echo unknown
  fi
}

# guard_backup_version <manifest> <live data dir>: refuses, unless --force, to put a backup made
# by a newer Open WebUI under the one here. Image tags decide when both name a release; else
# the schema revisions, where their order is known; else it warns and lets the restore go on.
guard_backup_version() {
  local manifest=$1 live=$2 backed backed_rev running live_rev bv rv verdict=unknown why=""
  backed=$(manifest_field "$manifest" image)
  backed_rev=$(manifest_field "$manifest" schemaRevision)
  running=$(openwebui_image)
  running=${running%%$'\t'*}
  live_rev=$(live_schema_revision "$live/webui.db")
  bv=$(image_version "$backed")
  rv=$(image_version "$running")
  if [[ -n "$bv" && -n "$rv" ]]; then
    verdict=same-or-older
    if version_newer "$bv" "$rv"; then verdict=newer; fi
    why="it was taken under $backed (release $bv); this host runs $running (release $rv)"
  elif [[ -n "$backed_rev" && -n "$live_rev" ]]; then
    verdict=$(schema_order "$backed_rev" "$live_rev")
    why="its schema revision is $backed_rev; the live database's is $live_rev"
  fi
  case "$verdict" in
    same-or-older) return 0 ;;
    newer)
      if [[ -n "$FORCE" ]]; then
        log "warning: --force: restoring a backup of a newer Open WebUI ($why); run a release at least that new on this data"
        return 0
      fi
      die "refusing to restore in place: this backup was made by a newer Open WebUI than the one here ($why). An older release cannot read a newer schema, and Open WebUI never migrates a database back. Pin hosts[].openwebui.image to $(image_or_unknown "$backed") or newer and run pulumi up first, or pass --force to restore anyway"
      ;;
    *) log "warning: cannot tell whether this backup is newer than the Open WebUI here (backup: $(image_or_unknown "$backed"), schema ${backed_rev:-unknown}; here: ${running:-no container}, schema ${live_rev:-none}); restoring anyway" ;;
  esac
}
