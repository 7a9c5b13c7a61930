# The body of the host command. The renderer puts a header above it (shebang, what
# generated it, the default env file path in DEFAULT_ENV_FILE); every setting, path and
# credential comes from that env file, so this text is the same on every host.
set -Eeuo pipefail
umask 077
export LC_ALL=C

readonly ENV_FILE="${OPENWEBUI_BACKUP_ENV:-$DEFAULT_ENV_FILE}"
readonly MANIFEST=manifest.json
readonly SNAPSHOT_FOLDER_PATTERN='^open-webui-backup-[0-9]{8}T[0-9]{6}Z$'

JOB=""
# Containers this run paused or stopped; the EXIT trap brings back exactly these.
SUSPENDED=()
SUSPEND_MODE=""
CLEANUP_DIRS=()

usage() {
  cat <<'USAGE'
usage: openwebui-backup run <job>
       openwebui-backup list <job> [--target <t>]
       openwebui-backup restore <job> [--target <t>] [--snapshot <id>|latest] (--to <dir> | --in-place)
       openwebui-backup verify <job> [--target <t>]
--target defaults to the job's first target. Settings come from $OPENWEBUI_BACKUP_ENV
or the env file named in this script's header.
USAGE
}

# One line per step on stderr: the journal (or cron's log file) keeps it, and
# start_log also copies it, with the tools' own messages, into the job's log file.
log() {
  printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${JOB:+[$JOB] }$*" >&2
}

start_log() {
  mkdir -p -- "$OWB_LOG_DIR"
  RUN_LOG="$OWB_LOG_DIR/$JOB.log"
  exec 2> >(tee -a -- "$RUN_LOG" >&2)
}

die() {
  log "error: $*"
  exit 1
}

# ------------------------------------------------------------------ settings

load_env() {
  [[ -r "$ENV_FILE" ]] || die "cannot read env file $ENV_FILE (set OPENWEBUI_BACKUP_ENV to use another)"
  # shellcheck source=/dev/null
  source "$ENV_FILE"
  case "$(stat -L -c %a -- "$ENV_FILE")" in
    600 | 400) ;;
    *) log "warning: $ENV_FILE holds credentials but is not mode 0600" ;;
  esac
  local required
  for required in OWB_HOST OWB_STAGING_DIR OWB_STATE_DIR OWB_LOCK_DIR OWB_LOG_DIR OWB_JOBS; do
    [[ -n "${!required:-}" ]] || die "env file $ENV_FILE does not set $required"
  done
}

# Config names are [a-z0-9-]; shell variable names use '_' instead.
ident() { printf '%s' "${1//-/_}"; }

# setting <name>: the value of OWB_<name>, or empty.
setting() {
  local var="OWB_$1"
  printf '%s' "${!var-}"
}

job_setting() { setting "JOB_$(ident "$JOB")_$1"; }
target_setting() { setting "TARGET_$(ident "$1")_$2"; }

select_job() {
  local name=$1 known
  read -r -a known <<<"$OWB_JOBS"
  local j
  for j in "${known[@]}"; do
    if [[ "$j" == "$name" ]]; then JOB=$name; return 0; fi
  done
  die "unknown job \"$name\"; jobs on this host: $OWB_JOBS"
}

job_targets() { job_setting TARGETS; }

# pick_target <requested or empty>: the job's first target unless one is named.
pick_target() {
  local wanted=$1 targets t
  read -r -a targets <<<"$(job_targets)"
  [[ -n "$wanted" ]] || { printf '%s' "${targets[0]}"; return 0; }
  for t in "${targets[@]}"; do
    [[ "$t" == "$wanted" ]] && { printf '%s' "$t"; return 0; }
  done
  die "job $JOB has no target \"$wanted\"; its targets: ${targets[*]}"
}

# Where this job's backups live on a target: <prefix or host>/<job>, or a local path.
target_location() { setting "LOC_$(ident "$JOB")__$(ident "$1")"; }

now_epoch() { printf '%s' "${OPENWEBUI_BACKUP_NOW:-$(date -u +%s)}"; }

# ------------------------------------------------------------------ data directory

data_dir() {
  if [[ -n "${OWB_DATA_DIR:-}" ]]; then
    [[ -d "$OWB_DATA_DIR" ]] || die "data directory $OWB_DATA_DIR does not exist"
    printf '%s' "$OWB_DATA_DIR"
    return 0
  fi
  [[ -n "${OWB_DATA_VOLUME:-}" ]] || die "env file sets neither OWB_DATA_DIR nor OWB_DATA_VOLUME"
  local mountpoint
  if ! mountpoint=$(docker volume inspect --format '{{ .Mountpoint }}' "$OWB_DATA_VOLUME" 2>/dev/null) || [[ -z "$mountpoint" ]]; then
    die "Docker volume \"$OWB_DATA_VOLUME\" not found on this host (docker volume inspect failed); is Open WebUI deployed?"
  fi
  [[ -d "$mountpoint" ]] || die "Docker volume \"$OWB_DATA_VOLUME\" has mountpoint $mountpoint, which is not a directory here"
  printf '%s' "$mountpoint"
}

# ------------------------------------------------------------------ containers

# suspend_containers pause|stop: only containers that are running, so a container
# someone stopped on purpose is not started by us afterwards.
suspend_containers() {
  local mode=$1 c state containers
  read -r -a containers <<<"${OWB_CONTAINERS:-}"
  SUSPEND_MODE=$mode
  for c in "${containers[@]}"; do
    state=$(docker inspect --format '{{ .State.Status }}' "$c" 2>/dev/null || true)
    if [[ "$state" != "running" ]]; then
      log "container $c is ${state:-absent}; leaving it as it is"
      continue
    fi
    log "${mode}ping container $c"
    SUSPENDED+=("$c")
    if [[ "$mode" == pause ]]; then docker pause "$c" >/dev/null; else docker stop "$c" >/dev/null; fi
  done
}

resume_containers() {
  local c failed=0
  for c in "${SUSPENDED[@]}"; do
    if [[ "$SUSPEND_MODE" == pause ]]; then
      docker unpause "$c" >/dev/null || failed=1
    else
      docker start "$c" >/dev/null || failed=1
    fi
    log "resumed container $c"
  done
  SUSPENDED=()
  return "$failed"
}

on_exit() {
  local status=$?
  set +e
  if ((${#SUSPENDED[@]} > 0)); then
    resume_containers || { log "error: could not resume every container; check: docker ps -a"; status=1; }
  fi
  local d
  for d in "${CLEANUP_DIRS[@]}"; do rm -rf -- "$d"; done
  exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ sqlite

sqlite_files() { read -r -a SQLITE_FILES <<<"${OWB_SQLITE_FILES:-webui.db vector_db/chroma.sqlite3}"; }

sql_string() { printf "'%s'" "${1//\'/\'\'}"; }

# snapshot_sqlite <src> <dest>: a consistent copy taken inside one read transaction while
# Open WebUI keeps writing. `.backup` restarts whenever another connection writes, so a
# busy instance may never let it finish; VACUUM INTO reads once. The timeout rides out
# the moments a WAL reader still meets "database is locked".
snapshot_sqlite() {
  local src=$1 dest=$2
  mkdir -p -- "$(dirname -- "$dest")"
  sqlite3 -bail -cmd ".timeout ${OWB_SQLITE_TIMEOUT_MS:-60000}" "$src" "VACUUM INTO $(sql_string "$dest")" >/dev/null
}

integrity_of() {
  sqlite3 -readonly -bail -cmd ".timeout ${OWB_SQLITE_TIMEOUT_MS:-60000}" "$1" 'PRAGMA integrity_check;' 2>&1 | head -n 5 | tr '\n' ' ' | sed 's/ *$//'
}

# check_databases <dir> [require]: PRAGMA integrity_check on each database; prints what it finds.
check_databases() {
  local dir=$1 require=${2:-} f result bad=0
  sqlite_files
  for f in "${SQLITE_FILES[@]}"; do
    if [[ ! -f "$dir/$f" ]]; then
      if [[ "$f" == webui.db && -n "$require" ]]; then log "integrity: $f missing"; bad=1; fi
      continue
    fi
    result=$(integrity_of "$dir/$f")
    log "integrity: $f: $result"
    [[ "$result" == ok ]] || bad=1
  done
  return "$bad"
}

# ------------------------------------------------------------------ staging

bytes_of() { du -sb -- "$1" | cut -f1; }
files_of() { find "$1" -type f | wc -l | tr -d ' '; }

# stage <data dir> <stage dir>: databases first, then the files, so every upload the
# copied database names is present in the copy.
stage() {
  local src=$1 dest=$2 f pattern
  local -a rsync_args=(-a --numeric-ids)
  [[ -n "$src" && -d "$src" && -n "$dest" ]] || die "staging needs an existing data directory (got \"$src\")"
  rm -rf -- "$dest"
  mkdir -p -- "$dest/data"
  sqlite_files
  for f in "${SQLITE_FILES[@]}"; do
    rsync_args+=(--exclude "/$f" --exclude "/$f-wal" --exclude "/$f-shm" --exclude "/$f-journal")
    if [[ -f "$src/$f" ]]; then
      snapshot_sqlite "$src/$f" "$dest/data/$f"
      check_databases_one "$dest/data/$f" || die "the copy of $f fails integrity_check; the live database may be damaged"
    fi
  done
  local -a excludes
  read -r -a excludes <<<"$(job_setting EXCLUDE)"
  for pattern in "${excludes[@]}"; do rsync_args+=(--exclude "/$pattern"); done
  # Uploads and Chroma segments are written once and replaced, not edited in place, so
  # hard links to them are a safe, free copy when staging shares the file system.
  if [[ "$(stat -c %d -- "$src")" == "$(stat -c %d -- "$dest")" ]]; then rsync_args+=(--link-dest "$src"); fi
  rsync "${rsync_args[@]}" -- "$src/" "$dest/data/"
}

check_databases_one() {
  local result
  result=$(integrity_of "$1")
  [[ "$result" == ok ]]
}

# schema_revision <webui.db>: the Alembic revision Open WebUI migrated to, or for older
# releases the last peewee migration (prefixed "peewee:"); empty when neither is there.
schema_revision() {
  local db=$1 rev=""
  [[ -f "$db" ]] || return 0
  rev=$(sqlite3 -readonly "$db" 'SELECT version_num FROM alembic_version LIMIT 1;' 2>/dev/null) || rev=""
  if [[ -z "$rev" ]]; then
    rev=$(sqlite3 -readonly "$db" 'SELECT name FROM migratehistory ORDER BY id DESC LIMIT 1;' 2>/dev/null) || rev=""
    [[ -z "$rev" ]] || rev="peewee:$rev"
  fi
  printf '%s' "$rev"
}

# chroma_version <chroma.sqlite3>: Chroma records no release, but its migrations table
# says which schema each part is at ("embeddings_queue:2 metadb:3 sysdb:6").
chroma_version() {
  [[ -f "$1" ]] || return 0
  sqlite3 -readonly "$1" "SELECT dir || ':' || MAX(version) FROM migrations GROUP BY dir ORDER BY dir;" 2>/dev/null | tr '\n' ' ' | sed 's/ *$//' || true
}

# openwebui_image: "<image>\t<digest>" of the running Open WebUI container, where docker is there.
openwebui_image() {
  local c=${OWB_OPENWEBUI_CONTAINER:-open-webui} image id digest=""
  command -v docker >/dev/null 2>&1 || return 0
  image=$(docker inspect --format '{{ .Config.Image }}' "$c" 2>/dev/null) || return 0
  [[ -n "$image" ]] || return 0
  id=$(docker inspect --format '{{ .Image }}' "$c" 2>/dev/null) || id=""
  if [[ -n "$id" ]]; then
    digest=$(docker image inspect --format '{{ join .RepoDigests " " }}' "$id" 2>/dev/null) || digest=""
    digest=${digest%% *}
    digest=${digest:-$id}
  fi
  printf '%s\t%s' "$image" "$digest"
}

write_manifest() {
  local stage_dir=$1 started=$2 image_line image="" digest=""
  image_line=$(openwebui_image)
  if [[ -n "$image_line" ]]; then image=${image_line%%$'\t'*}; digest=${image_line#*$'\t'}; fi
  {
    printf '{\n'
    printf '  "format": 1,\n'
    printf '  "host": %s,\n' "$(json_string "$OWB_HOST")"
    printf '  "job": %s,\n' "$(json_string "$JOB")"
    printf '  "created": %s,\n' "$(json_string "$(date -u -d "@$started" +%Y-%m-%dT%H:%M:%SZ)")"
    printf '  "files": %s,\n' "$(files_of "$stage_dir/data")"
    printf '  "bytes": %s,\n' "$(bytes_of "$stage_dir/data")"
    printf '  "schemaRevision": %s,\n' "$(json_string "$(schema_revision "$stage_dir/data/webui.db")")"
    printf '  "chromaVersion": %s,\n' "$(json_string "$(chroma_version "$stage_dir/data/vector_db/chroma.sqlite3")")"
    printf '  "image": %s,\n' "$(json_string "$image")"
    printf '  "imageDigest": %s\n' "$(json_string "$digest")"
    printf '}\n'
  } >"$stage_dir/$MANIFEST"
}

# manifest_field <file> <key>: a string or number field of a manifest, without jq.
manifest_field() {
  [[ -f "$1" ]] || return 0
  sed -n -e "s/^ *\"$2\": \"\(.*\)\",\{0,1\}\$/\1/p" -e "s/^ *\"$2\": \([0-9][0-9]*\),\{0,1\}\$/\1/p" "$1" | head -n 1
}

# ------------------------------------------------------------------ targets

# with_target <target> <command…>: runs the command with the target's credentials exported
# in a subshell only, so they never appear on a command line or in another target's tools.
with_target() {
  local t=$1
  shift
  (
    local type
    type=$(target_setting "$t" TYPE)
    # No rclone.conf: the remote "owb" is defined by these variables alone.
    export RCLONE_CONFIG=/dev/null
    case "$type" in
      s3)
        export RCLONE_CONFIG_OWB_TYPE=s3
        if [[ -n "$(target_setting "$t" ENDPOINT)" ]]; then
          export RCLONE_CONFIG_OWB_PROVIDER=Other RCLONE_CONFIG_OWB_ENDPOINT
          RCLONE_CONFIG_OWB_ENDPOINT=$(target_setting "$t" ENDPOINT)
        else
          export RCLONE_CONFIG_OWB_PROVIDER=AWS
        fi
        if [[ -n "$(target_setting "$t" REGION)" ]]; then
          export AWS_DEFAULT_REGION RCLONE_CONFIG_OWB_REGION
          AWS_DEFAULT_REGION=$(target_setting "$t" REGION)
          RCLONE_CONFIG_OWB_REGION=$AWS_DEFAULT_REGION
        fi
        if [[ -n "$(target_setting "$t" ACCESS_KEY_ID)" ]]; then
          export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY RCLONE_CONFIG_OWB_ACCESS_KEY_ID RCLONE_CONFIG_OWB_SECRET_ACCESS_KEY
          AWS_ACCESS_KEY_ID=$(target_setting "$t" ACCESS_KEY_ID)
          AWS_SECRET_ACCESS_KEY=$(target_setting "$t" SECRET_ACCESS_KEY)
          RCLONE_CONFIG_OWB_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID
          RCLONE_CONFIG_OWB_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
        else
          export RCLONE_CONFIG_OWB_ENV_AUTH=true
        fi
        ;;
      b2)
        export RCLONE_CONFIG_OWB_TYPE=b2 B2_ACCOUNT_ID B2_ACCOUNT_KEY RCLONE_CONFIG_OWB_ACCOUNT RCLONE_CONFIG_OWB_KEY
        B2_ACCOUNT_ID=$(target_setting "$t" KEY_ID)
        B2_ACCOUNT_KEY=$(target_setting "$t" APPLICATION_KEY)
        RCLONE_CONFIG_OWB_ACCOUNT=$B2_ACCOUNT_ID
        RCLONE_CONFIG_OWB_KEY=$B2_ACCOUNT_KEY
        ;;
      local) ;;
      *) die "target $t has unknown type \"$type\"" ;;
    esac
    "$@"
  )
}

# The rclone path of this job's folder on a target (inside with_target).
rclone_root() {
  local t=$1 loc type
  loc=$(target_location "$t")
  type=$(target_setting "$t" TYPE)
  case "$type" in
    s3 | b2) printf 'owb:%s/%s' "$(target_setting "$t" BUCKET)" "$loc" ;;
    local) printf '%s' "$loc" ;;
  esac
}

restic_repository() {
  local t=$1 loc type endpoint
  loc=$(target_location "$t")
  type=$(target_setting "$t" TYPE)
  case "$type" in
    s3)
      endpoint=$(target_setting "$t" ENDPOINT)
      [[ -n "$endpoint" ]] || endpoint="https://s3.$(target_setting "$t" REGION).amazonaws.com"
      printf 's3:%s/%s/%s' "${endpoint%/}" "$(target_setting "$t" BUCKET)" "$loc"
      ;;
    b2) printf 'b2:%s:%s' "$(target_setting "$t" BUCKET)" "$loc" ;;
    local) printf '%s' "$loc" ;;
  esac
}

# ------------------------------------------------------------------ method: restic

restic_env() {
  export RESTIC_REPOSITORY RESTIC_PASSWORD
  RESTIC_REPOSITORY=$(restic_repository "$1")
  RESTIC_PASSWORD=${OWB_RESTIC_PASSWORD:-}
  [[ -n "$RESTIC_PASSWORD" ]] || die "env file sets no OWB_RESTIC_PASSWORD, which method restic needs"
}

restic_tag() { printf 'openwebui-job:%s' "$JOB"; }

restic_retention_args() {
  local key flag value
  for key in KEEP:last HOURLY:hourly DAILY:daily WEEKLY:weekly MONTHLY:monthly YEARLY:yearly; do
    value=$(job_setting "KEEP_${key%%:*}")
    flag=${key#*:}
    [[ -z "$value" ]] || printf -- '--keep-%s\n%s\n' "$flag" "$value"
  done
}

ship_restic() {
  local t=$1 stage_dir=$2
  restic_env "$t"
  # A run that died (power cut, server gone) leaves its lock; unlock removes only stale ones.
  # It also opens the repository, so it tells whether one exists: one open instead of two
  # (each pays restic's key derivation). If it failed for another reason, init fails loudly.
  if ! restic unlock >/dev/null 2>&1; then
    log "$t: initialising restic repository"
    restic init >/dev/null
  fi
  local summary added
  # Backing up "." from inside the stage keeps snapshot paths short (/data, /manifest.json)
  # and the same every run, so restic finds its parent snapshot and skips unchanged files.
  # Staged files are hard links whose ctime moves with each link; inode, size and mtime still say "unchanged".
  cd -- "$stage_dir"
  summary=$(restic backup --json --ignore-ctime --host "$OWB_HOST" --tag "$(restic_tag)" . | grep '"message_type":"summary"') ||
    die "$t: restic backup failed"
  added=$(printf '%s' "$summary" | sed -n 's/.*"data_added":\([0-9]*\).*/\1/p')
  log "$t: restic snapshot $(printf '%s' "$summary" | sed -n 's/.*"snapshot_id":"\([0-9a-f]\{8\}\).*/\1/p') saved, ${added:-0} bytes added"
  local -a keep
  mapfile -t keep < <(restic_retention_args)
  restic forget --host "$OWB_HOST" --tag "$(restic_tag)" --group-by host,tags "${keep[@]}" --prune >/dev/null
  log "$t: pruned to retention ${keep[*]}"
}

list_restic() {
  restic_env "$1"
  restic snapshots --host "$OWB_HOST" --tag "$(restic_tag)"
}

restore_restic() {
  local t=$1 snapshot=$2 dest=$3 work
  restic_env "$t"
  work=$(mktemp -d "$dest.restic.XXXXXX")
  # This runs in with_target's subshell: its own EXIT trap, not the main one, cleans up.
  # shellcheck disable=SC2064
  trap "rm -rf -- $(printf '%q' "$work")" EXIT
  restic restore "$snapshot" --host "$OWB_HOST" --tag "$(restic_tag)" --target "$work" >/dev/null
  [[ -d "$work/data" ]] || die "$t: snapshot $snapshot holds no data/ folder"
  mv -T -- "$work/data" "$dest"
  [[ ! -f "$work/$MANIFEST" ]] || cp -- "$work/$MANIFEST" "$dest.manifest.json"
}

# ------------------------------------------------------------------ method: snapshot (dated folders)

# Folders of complete snapshots, oldest first: complete means the manifest was uploaded,
# which happens only after the data was copied and checked.
# rclone_list <args…>: rclone lsf, where a folder that does not exist yet (exit 3, first run
# on a local target) lists as empty; any other failure is a failure.
rclone_list() {
  local rc=0 errors
  errors=$(mktemp)
  rclone lsf "$@" 2>"$errors" || rc=$?
  # Exit 3 is rclone's "directory not found"; anything else is shown, not swallowed.
  if ((rc != 0 && rc != 3)); then
    log "rclone lsf failed (exit $rc): $(tail -n 3 "$errors" | tr '\n' ' ')"
  fi
  rm -f -- "$errors"
  ((rc == 0 || rc == 3))
}

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
  rclone copyto "$stage_dir/$MANIFEST" "$root/$folder/$MANIFEST"
  log "$t: $folder uploaded and checked"

  # Prune only now that this run's copy is complete: keep the newest `keep` complete
  # folders; drop older ones and leftovers of failed runs older than the newest complete.
  keep=$(job_setting KEEP_KEEP)
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
    rclone purge "$root/${complete[i]}"
  done
  for f in "${all[@]}"; do
    if [[ "$f" < "$newest" ]] && ! printf '%s\n' "${complete[@]}" | grep -qxF "$f"; then
      log "$t: removing incomplete $f"
      rclone purge "$root/$f"
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
}

# ------------------------------------------------------------------ method: sync (one mirror)

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
}

# ------------------------------------------------------------------ point-in-time folders on a local disk
# (methods local-snapshot and pull)

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

# write_linked_snapshot <target> <root> <folder> <rsync source args…>: copies into
# <folder>.partial with unchanged files hard-linked to the newest complete snapshot, checks
# the copy, then renames it. Any .partial is left by a run that died (we hold the lock):
# it is removed, never linked against.
write_linked_snapshot() {
  local t=$1 root=$2 folder=$3 p newest started stats copied
  shift 3
  local partial="$root/$folder.partial"
  started=$(date -u +%s)
  mkdir -p -- "$root"
  for p in "$root"/open-webui-backup-*.partial; do
    [[ -e "$p" ]] || continue
    log "$t: removing ${p##*/}, left by an interrupted run"
    rm -rf -- "$p"
  done
  newest=$(local_complete "$root" | tail -n 1)
  # The databases are fresh copies each run; rsync's quick check (size and mtime) could take a
  # changed one made in the same second at the same size for unchanged and link the old one.
  # So they are never linked: the first pass leaves them out, the second copies them.
  local -a args=(-a --numeric-ids --stats) db_only=(-a --numeric-ids --include /data/) f
  sqlite_files
  for f in "${SQLITE_FILES[@]}"; do
    args+=(--exclude "/data/$f")
    if [[ "$f" == */* ]]; then db_only+=(--include "/data/${f%/*}/"); fi
    db_only+=(--include "/data/$f")
  done
  db_only+=(--exclude '*')
  if [[ -n "$newest" ]]; then args+=(--link-dest "$root/$newest"); fi
  stats=$(rsync "${args[@]}" "$@" "$partial/")
  rsync "${db_only[@]}" "$@" "$partial/"
  copied=$(sed -n 's/^Total transferred file size: \([0-9,]*\).*/\1/p' <<<"$stats" | tr -d ,)
  local db_bytes
  db_bytes=$(du -cb -- "${SQLITE_FILES[@]/#/$partial/data/}" 2>/dev/null | tail -n 1 | cut -f1) || db_bytes=0
  copied=$((${copied:-0} + ${db_bytes:-0}))
  [[ -f "$partial/$MANIFEST" && -d "$partial/data" ]] || die "$t: the copy holds no $MANIFEST and data/"
  check_databases "$partial/data" require || die "$t: the copy fails integrity_check; kept as ${partial##*/} until the next run"
  sync
  mv -T -- "$partial" "$root/$folder"
  log "$t: $folder complete: ${copied:-0} bytes copied, unchanged files hard-linked to ${newest:-nothing (first snapshot)}, $(($(date -u +%s) - started)) s"
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
  local n=${#folders[@]} i rule count period last
  count=$(job_setting KEEP_KEEP)
  if [[ -n "$count" ]]; then
    for ((i = n - 1; i >= 0 && i >= n - count; i--)); do keep[${folders[i]}]=1; done
  fi
  for rule in HOURLY:%Y%m%d%H DAILY:%Y%m%d WEEKLY:%G%V MONTHLY:%Y%m YEARLY:%Y; do
    count=$(job_setting "KEEP_${rule%%:*}")
    [[ -n "$count" ]] || continue
    last=""
    for ((i = n - 1; i >= 0 && count > 0; i--)); do
      period=$(folder_time "${folders[i]}" "${rule#*:}")
      if [[ "$period" != "$last" ]]; then
        keep[${folders[i]}]=1
        last=$period
        count=$((count - 1))
      fi
    done
  done
  if ((${#keep[@]} > 0)); then printf '%s\n' "${!keep[@]}"; fi
}

# prune_local <target> <root>: only after a successful run.
prune_local() {
  local t=$1 root=$2 f kept pruned=0
  local -a complete
  mapfile -t complete < <(local_complete "$root")
  ((${#complete[@]} > 0)) || die "$t: no complete snapshot after this run; nothing pruned"
  kept=$(retained_folders "${complete[@]}")
  for f in "${complete[@]}"; do
    if ! grep -qxF "$f" <<<"$kept"; then
      log "$t: pruning $f"
      rm -rf -- "${root:?}/$f"
      pruned=$((pruned + 1))
    fi
  done
  log "$t: $((${#complete[@]} - pruned)) snapshots kept, $pruned pruned"
}

ship_local_snapshot() {
  local t=$1 stage_dir=$2 root folder
  root=$(target_location "$t")
  folder=$(snapshot_folder_name)
  [[ ! -e "$root/$folder" ]] || die "$t: $folder already exists"
  write_linked_snapshot "$t" "$root" "$folder" "$stage_dir/"
  prune_local "$t" "$root"
}

list_local_snapshot() { local_complete "$(target_location "$1")"; }

restore_local_snapshot() {
  local t=$1 snapshot=$2 dest=$3 root listing
  root=$(target_location "$t")
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
}

# ------------------------------------------------------------------ method: pull (over SSH)

# pull_ssh_setup: writes this job's ssh config and known_hosts under the state directory and
# sets PULL_RSH, the -e value rsync runs. The source host is "owb-source" in that config.
pull_ssh_setup() {
  local dir="$OWB_STATE_DIR/ssh" host port user key hostkey strict=accept-new
  host=$(job_setting FROM_HOST)
  port=$(job_setting FROM_PORT)
  user=$(job_setting FROM_USER)
  key=$(job_setting FROM_KEY)
  hostkey=$(job_setting FROM_HOSTKEY)
  [[ -n "$host" && -n "$key" ]] || die "env file has no OWB_JOB_*_FROM_HOST/_FROM_KEY for pull job $JOB"
  [[ -r "$key" ]] || die "cannot read the SSH key $key"
  [[ "$dir$key" != *[\'\"]* ]] || die "the SSH key path and state directory must not contain quotes"
  mkdir -p -- "$dir"
  if [[ -n "$hostkey" ]]; then
    strict=yes
    if [[ "$port" == 22 ]]; then printf '%s %s\n' "$host" "$hostkey"; else printf '[%s]:%s %s\n' "$host" "$port" "$hostkey"; fi >"$dir/$JOB.known_hosts"
  fi
  cat >"$dir/$JOB.config" <<EOF
Host owb-source
  HostName $host
  Port $port
  User $user
  IdentityFile "$key"
  IdentitiesOnly yes
  BatchMode yes
  UserKnownHostsFile "$dir/$JOB.known_hosts"
  StrictHostKeyChecking $strict
  ConnectTimeout 20
  ServerAliveInterval 15
  ServerAliveCountMax 4
EOF
  PULL_RSH="ssh -F '$dir/$JOB.config'"
}

# remote_complete <remote dir>: complete snapshots on the source, oldest first (a folder still
# named .partial is not one, even when its manifest is already there).
remote_complete() {
  local listing
  listing=$(rsync -e "$PULL_RSH" --list-only -r --include '/open-webui-backup-*/' --include "/open-webui-backup-*/$MANIFEST" --exclude '*' "owb-source:$1") || return 1
  sed -n "s|.* \(open-webui-backup-[0-9]\{8\}T[0-9]\{6\}Z\)/$MANIFEST\$|\1|p" <<<"$listing" | sort
}

ship_pull() {
  local t=$1 root path listing newest
  root=$(target_location "$t")
  path=$(job_setting FROM_PATH)
  path="${path%/}/"
  pull_ssh_setup
  log "$t: listing snapshots on $(job_setting FROM_HOST):$path"
  listing=$(remote_complete "$path") || die "$t: could not list $(job_setting FROM_HOST):$path over SSH"
  newest=$(tail -n 1 <<<"$listing")
  [[ -n "$newest" ]] || die "$t: no complete snapshot on $(job_setting FROM_HOST):$path"
  if [[ -d "$root/$newest" ]]; then
    log "$t: $newest is already here; nothing newer on the source"
  else
    write_linked_snapshot "$t" "$root" "$newest" -e "$PULL_RSH" "owb-source:$path$newest/"
  fi
  prune_local "$t" "$root"
}

list_pull() { list_local_snapshot "$@"; }
restore_pull() { restore_local_snapshot "$@"; }

# ------------------------------------------------------------------ results

json_string() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  printf '"%s"' "$(printf '%s' "$s" | tr -d '\000-\037')"
}

write_state() {
  local started=$1 finished=$2 outcome=$3 bytes=$4 failed_targets=$5 tmp
  mkdir -p -- "$OWB_STATE_DIR"
  tmp=$(mktemp "$OWB_STATE_DIR/.$JOB.json.XXXXXX")
  {
    printf '{"host":%s,"job":%s,"method":%s,' "$(json_string "$OWB_HOST")" "$(json_string "$JOB")" "$(json_string "$(job_setting METHOD)")"
    printf '"started":%s,"finished":%s,"outcome":%s,"bytes":%s,"failedTargets":%s}\n' \
      "$started" "$finished" "$(json_string "$outcome")" "$bytes" "$(json_string "$failed_targets")"
  } >"$tmp"
  mv -f -- "$tmp" "$OWB_STATE_DIR/$JOB.json"
}

# post_url <url> [body file]: a POST, retried a few times; the URL may hold a token, so it
# goes to curl on stdin, not on the command line. Never fails the caller.
post_url() {
  local url=$1 body=${2:-/dev/null}
  printf 'url = "%s"\n' "$url" |
    curl --config - --silent --show-error --fail --max-time 10 --retry 3 --retry-delay 1 --retry-connrefused \
      --header 'Content-Type: application/json' --data-binary "@$body" >/dev/null
}

healthcheck_url() {
  local url
  url=$(job_setting HEALTHCHECK_URL)
  printf '%s' "${url:-${OWB_HEALTHCHECK_URL:-}}"
}

# ping_healthcheck /start|""|/fail [body file]: the healthchecks.io convention.
ping_healthcheck() {
  local url
  url=$(healthcheck_url)
  [[ -n "$url" ]] || return 0
  post_url "${url%/}$1" "${2:-/dev/null}" || log "warning: could not ping the health check${1:+ ($1)}"
}

log_tail() { tail -n 20 "${RUN_LOG:-/dev/null}" 2>/dev/null || true; }

# notify_failure <message> <targets> <started> <bytes>: webhook JSON and the /fail ping. Records
# that this systemd invocation has alerted, so the OnFailure= handler does not alert again.
notify_failure() {
  local message=$1 failed_targets=${2:-} started=${3:-$(date -u +%s)} bytes=${4:-0} payload now
  now=$(date -u +%s)
  payload=$(mktemp)
  printf '{"host":%s,"job":%s,"method":%s,"target":%s,"outcome":"failure","started":%s,"finished":%s,"duration":%s,"bytes":%s,"message":%s,"log":%s}\n' \
    "$(json_string "$OWB_HOST")" "$(json_string "$JOB")" "$(json_string "$(job_setting METHOD)")" "$(json_string "$failed_targets")" \
    "$started" "$now" "$((now - started))" "$bytes" "$(json_string "$message")" "$(json_string "$(log_tail)")" >"$payload"
  if [[ -n "${OWB_WEBHOOK_URL:-}" ]]; then
    post_url "$OWB_WEBHOOK_URL" "$payload" || log "warning: could not post the failure to the webhook"
  fi
  log_tail >"$payload"
  ping_healthcheck /fail "$payload"
  rm -f -- "$payload"
  if [[ -n "${INVOCATION_ID:-}" ]]; then
    mkdir -p -- "$OWB_STATE_DIR/alerted"
    : >"$OWB_STATE_DIR/alerted/$INVOCATION_ID"
    find "$OWB_STATE_DIR/alerted" -type f -mtime +7 -delete 2>/dev/null || true
  fi
}

readonly METRICS=(
  "last_run_timestamp_seconds:Unix time the last run of the job to the target finished."
  "last_success_timestamp_seconds:Unix time of the last successful run to the target (0: none yet)."
  "duration_seconds:Duration of the last run, staging included."
  "bytes:Bytes of the data directory the last run backed up."
  "exit_status:0 when the last run to the target succeeded, 1 when it failed."
)

# record_metrics <target> <started> <finished> <bytes> <status>: this job's and target's lines,
# kept under the state directory so the file always covers every job of the host.
record_metrics() {
  local t=$1 started=$2 finished=$3 bytes=$4 status=$5 file last_success=0 labels
  [[ -n "${OWB_METRICS_FILE:-}" ]] || return 0
  mkdir -p -- "$OWB_STATE_DIR/metrics"
  file="$OWB_STATE_DIR/metrics/$JOB@$t.prom"
  if [[ -f "$file" ]]; then
    last_success=$(sed -n 's/^openwebui_backup_last_success_timestamp_seconds{[^}]*} \([0-9]*\)$/\1/p' "$file")
  fi
  if ((status == 0)); then last_success=$finished; fi
  labels=$(printf 'host="%s",job="%s",target="%s"' "$OWB_HOST" "$JOB" "$t")
  {
    printf 'openwebui_backup_last_run_timestamp_seconds{%s} %s\n' "$labels" "$finished"
    printf 'openwebui_backup_last_success_timestamp_seconds{%s} %s\n' "$labels" "${last_success:-0}"
    printf 'openwebui_backup_duration_seconds{%s} %s\n' "$labels" "$((finished - started))"
    printf 'openwebui_backup_bytes{%s} %s\n' "$labels" "$bytes"
    printf 'openwebui_backup_exit_status{%s} %s\n' "$labels" "$status"
  } >"$file.tmp"
  mv -f -- "$file.tmp" "$file"
}

# write_metrics_file: the textfile collector's file, from every job's lines, renamed into place.
write_metrics_file() {
  [[ -n "${OWB_METRICS_FILE:-}" ]] || return 0
  local dir tmp m name
  dir=$(dirname -- "$OWB_METRICS_FILE")
  mkdir -p -- "$dir"
  tmp=$(mktemp "$dir/.openwebui-backup-metrics.XXXXXX")
  {
    for m in "${METRICS[@]}"; do
      name="openwebui_backup_${m%%:*}"
      printf '# HELP %s %s\n# TYPE %s gauge\n' "$name" "${m#*:}" "$name"
      cat -- "$OWB_STATE_DIR"/metrics/*.prom 2>/dev/null | grep -F "$name{" || true
    done
  } >"$tmp"
  chmod 0644 "$tmp"
  mv -f -- "$tmp" "$OWB_METRICS_FILE"
}

# ------------------------------------------------------------------ commands

take_lock() {
  mkdir -p -- "$OWB_LOCK_DIR"
  exec 9>"$OWB_LOCK_DIR/$JOB.lock"
  flock -n 9 || die "another run of job $JOB holds $OWB_LOCK_DIR/$JOB.lock; not waiting"
}

cmd_run() {
  take_lock
  start_log
  local started method consistency data stage_dir t rc bytes=0 failed=()
  started=$(date -u +%s)
  method=$(job_setting METHOD)
  consistency=$(job_setting CONSISTENCY)
  local -a targets
  read -r -a targets <<<"$(job_targets)"
  log "start: method $method, targets ${targets[*]}, consistency $consistency"
  ping_healthcheck /start

  # Each step runs in a subshell so its failure can be handled here. `set +e` lets this shell
  # see the status; the subshell turns errexit back on, since it inherits the +e.
  stage_dir="$OWB_STAGING_DIR/$JOB"
  if [[ "$method" != pull ]]; then # a pull copies another host's snapshots: nothing to stage
    set +e
    (
      set -e
      trap on_exit EXIT # traps are not inherited: this subshell must bring back what it suspends
      data=$(data_dir)
      if [[ "$consistency" == pause || "$consistency" == stop ]]; then suspend_containers "$consistency"; fi
      stage "$data" "$stage_dir"
      # Containers come back as soon as the local copy exists, not after the upload.
      if ((${#SUSPENDED[@]} > 0)); then resume_containers; fi
      write_manifest "$stage_dir" "$started"
      log "staged $(files_of "$stage_dir/data") files, $(bytes_of "$stage_dir/data") bytes in $(($(date -u +%s) - started)) s"
    )
    rc=$?
    set -e
    if ((rc != 0)); then
      local finished
      finished=$(date -u +%s)
      write_state "$started" "$finished" failure 0 ""
      for t in "${targets[@]}"; do record_metrics "$t" "$started" "$finished" 0 1; done
      write_metrics_file || log "warning: could not write the metrics file"
      notify_failure "staging the data directory failed" "${targets[*]}" "$started" 0
      die "staging failed; nothing was shipped or pruned"
    fi
    bytes=$(bytes_of "$stage_dir/data")
  fi

  for t in "${targets[@]}"; do
    local t_started t_bytes=$bytes
    t_started=$(date -u +%s)
    set +e
    (
      set -e
      with_target "$t" "ship_$(ident "$method")" "$t" "$stage_dir"
    )
    rc=$?
    set -e
    if [[ "$method" == pull ]]; then
      local newest_pulled
      newest_pulled=$(local_complete "$(target_location "$t")" | tail -n 1)
      t_bytes=0
      if [[ -n "$newest_pulled" ]]; then t_bytes=$(bytes_of "$(target_location "$t")/$newest_pulled/data"); fi
      if ((t_bytes > bytes)); then bytes=$t_bytes; fi
    fi
    if ((rc == 0)); then
      log "$t: done in $(($(date -u +%s) - t_started)) s"
      record_metrics "$t" "$started" "$(date -u +%s)" "$t_bytes" 0
    else
      log "$t: FAILED (exit $rc) after $(($(date -u +%s) - t_started)) s; its old backups were left untouched"
      record_metrics "$t" "$started" "$(date -u +%s)" "$t_bytes" 1
      failed+=("$t")
    fi
  done
  rm -rf -- "$stage_dir"
  write_metrics_file || log "warning: could not write the metrics file"

  if ((${#failed[@]} > 0)); then
    write_state "$started" "$(date -u +%s)" failure "$bytes" "${failed[*]}"
    notify_failure "backup failed for target(s): ${failed[*]}" "${failed[*]}" "$started" "$bytes"
    die "finished with failures: ${failed[*]}"
  fi
  write_state "$started" "$(date -u +%s)" success "$bytes" ""
  log "success: $bytes bytes, $(($(date -u +%s) - started)) s"
  ping_healthcheck ""
}

cmd_list() {
  local t
  t=$(pick_target "$TARGET_ARG")
  with_target "$t" "list_$(ident "$(job_setting METHOD)")" "$t"
}

# restore_into <target> <snapshot> <new dir>
restore_into() {
  local t=$1 snapshot=$2 dest=$3 started
  [[ ! -e "$dest" ]] || die "$dest already exists; restore needs a new directory"
  started=$(date -u +%s)
  mkdir -p -- "$(dirname -- "$dest")"
  with_target "$t" "restore_$(ident "$(job_setting METHOD)")" "$t" "$snapshot" "$dest"
  [[ -d "$dest" ]] || die "restore produced no directory"
  log "fetched $(files_of "$dest") files, $(bytes_of "$dest") bytes from $t in $(($(date -u +%s) - started)) s"
}

show_manifest() {
  [[ -f "$1" ]] || return 0
  log "manifest: $(tr -d '\n' <"$1" | tr -s ' ')"
  warn_version "$1"
}

# warn_version <manifest>: the backup's Open WebUI image against the running container's.
# Open WebUI migrates its database forward when it starts and never back.
warn_version() {
  local backed backed_digest running_line running="" running_digest=""
  backed=$(manifest_field "$1" image)
  backed_digest=$(manifest_field "$1" imageDigest)
  [[ -n "$backed" ]] || return 0
  running_line=$(openwebui_image)
  if [[ -n "$running_line" ]]; then running=${running_line%%$'\t'*}; running_digest=${running_line#*$'\t'}; fi
  [[ -n "$running" ]] || return 0
  if [[ "$running" != "$backed" || (-n "$backed_digest" && -n "$running_digest" && "$running_digest" != "$backed_digest") ]]; then
    log "warning: this backup was made by Open WebUI $backed${backed_digest:+ ($backed_digest)}, schema $(manifest_field "$1" schemaRevision); the running container is $running${running_digest:+ ($running_digest)}. Open WebUI cannot migrate a database back: run the backup's version (or a newer one) with this data."
  fi
}

cmd_restore() {
  local t snapshot=${SNAPSHOT_ARG:-latest}
  t=$(pick_target "$TARGET_ARG")
  [[ "$snapshot" =~ ^(latest|current|[0-9a-f]{8,64}|open-webui-backup-[0-9]{8}T[0-9]{6}Z)$ ]] || die "--snapshot takes latest, current (sync), a restic snapshot id or a snapshot folder name"
  [[ -n "$TO_ARG" || -n "$IN_PLACE" ]] || die "restore needs --to <dir> or --in-place"
  [[ -z "$TO_ARG" || -z "$IN_PLACE" ]] || die "give either --to or --in-place, not both"
  take_lock
  if [[ -n "$TO_ARG" ]]; then
    restore_into "$t" "$snapshot" "$TO_ARG"
    show_manifest "$TO_ARG.manifest.json"
    rm -f -- "$TO_ARG.manifest.json"
    check_databases "$TO_ARG" require || die "restored into $TO_ARG, but integrity_check failed (see above)"
    log "restored $snapshot from $t into $TO_ARG ($(files_of "$TO_ARG") files)"
    return 0
  fi

  # In place: fetch and check while the service still runs, then stop it only for the swap.
  local data incoming safety stamp
  data=$(data_dir)
  data=${data%/}
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  incoming="$data.restore-$stamp"
  safety="$data.before-restore-$stamp"
  CLEANUP_DIRS+=("$incoming" "$incoming.manifest.json")
  restore_into "$t" "$snapshot" "$incoming"
  show_manifest "$incoming.manifest.json"
  check_databases "$incoming" require || die "the restored copy fails integrity_check; the live data was not touched"
  suspend_containers stop
  mkdir -- "$safety"
  find "$data" -mindepth 1 -maxdepth 1 -exec mv -t "$safety" -- {} +
  find "$incoming" -mindepth 1 -maxdepth 1 -exec mv -t "$data" -- {} +
  log "swapped in $snapshot from $t; the previous data is kept in $safety"
  check_databases "$data" require || die "integrity_check failed after the swap; the previous data is in $safety"
  resume_containers
  log "restore in place done"
}

cmd_verify() {
  local t scratch started status=0
  t=$(pick_target "$TARGET_ARG")
  started=$(date -u +%s)
  start_log
  ping_healthcheck /start
  mkdir -p -- "$OWB_STAGING_DIR"
  scratch=$(mktemp -d "$OWB_STAGING_DIR/verify-$JOB.XXXXXX")
  CLEANUP_DIRS+=("$scratch")
  log "verify: restoring the latest snapshot from $t into scratch"
  set +e
  (
    set -e
    restore_into "$t" latest "$scratch/data"
    show_manifest "$scratch/data.manifest.json"
    check_databases "$scratch/data" require
  )
  status=$?
  set -e
  if ((status != 0)); then
    notify_failure "restore drill failed on target $t" "$t" "$started" 0
    die "verify FAILED for target $t"
  fi
  log "verify ok: $(files_of "$scratch/data") files restored from $t in $(($(date -u +%s) - started)) s"
  ping_healthcheck ""
}

main() {
  local command=${1:-}
  [[ -n "$command" ]] || { usage >&2; exit 2; }
  shift
  case "$command" in
    -h | --help | help) usage; exit 0 ;;
    run | list | restore | verify) ;;
    *) usage >&2; exit 2 ;;
  esac
  [[ $# -ge 1 && "$1" != -* ]] || { usage >&2; exit 2; }
  local job=$1
  shift
  TARGET_ARG="" SNAPSHOT_ARG="" TO_ARG="" IN_PLACE=""
  while (($# > 0)); do
    case "$1" in
      --target) TARGET_ARG=${2:?--target needs a value}; shift 2 ;;
      --snapshot) SNAPSHOT_ARG=${2:?--snapshot needs a value}; shift 2 ;;
      --to) TO_ARG=${2:?--to needs a directory}; shift 2 ;;
      --in-place) IN_PLACE=1; shift ;;
      *) usage >&2; exit 2 ;;
    esac
  done
  load_env
  select_job "$job"
  "cmd_$command"
}

main "$@"
