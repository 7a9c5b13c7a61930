# Part: manifest. What a backup records about itself (counts, schema revision, image), written last to mark it complete.

# schema_revision <webui.db>: the Alembic revision Open WebUI migrated to, or for older
# releases the last peewee migration (prefixed "peewee:"); empty when neither is there.
schema_revision() {
  [[ -f "$1" ]] || return 0
  schema_revision_of "$1"
}

# schema_revision_of <sqlite3 file name or URI>
schema_revision_of() {
  local db=$1 rev=""
  rev=$(sqlite3 -readonly "$db" 'SELECT version_num FROM alembic_version LIMIT 1;' 2>/dev/null) || rev=""
  if [[ -z "$rev" ]]; then
    rev=$(sqlite3 -readonly "$db" 'SELECT name FROM migratehistory ORDER BY id DESC LIMIT 1;' 2>/dev/null) || rev=""
    [[ -z "$rev" ]] || rev="peewee:$rev"
  fi
  printf '%s' "$rev"
}

# live_schema_revision <webui.db>: schema_revision of a database Open WebUI may have open,
# without leaving a -wal or -shm file beside it. With no -wal file everything is in the database
# file, and an immutable read sees it all; with one, a normal reader creates nothing new.
live_schema_revision() {
  local db=$1 uri
  [[ -f "$db" ]] || return 0
  if [[ -e "$db-wal" ]]; then
    schema_revision_of "$db"
    return 0
  fi
  uri=${db//%/%25}
  uri=${uri//\?/%3f}
  uri=${uri//#/%23}
  schema_revision_of "file:$uri?immutable=1"
}

# chroma_version <chroma.sqlite3>: Chroma records no release, but its migrations table
# says which schema each part is at ("embeddings_queue:2 metadb:3 sysdb:6").
chroma_version() {
  [[ -f "$1" ]] || return 0
  local -a versions
  mapfile -t versions < <(sqlite3 -readonly "$1" "SELECT dir || ':' || MAX(version) FROM migrations GROUP BY dir ORDER BY dir;" 2>/dev/null || true)
  printf '%s' "${versions[*]}"
}

# openwebui_image: "<image>\t<digest>" of the Open WebUI the live data belongs to, where docker is
# there: the container's image, as the stack labelled it (Pulumi creates the container from an
# image id) or else as the container was created; right after a rollback, the backup's.
openwebui_image() {
  local c=$OWB_OPENWEBUI_CONTAINER image id digest="" rolled
  command -v docker >/dev/null 2>&1 || return 0
  rolled=$(rolled_back_image)
  if [[ -n "$rolled" ]]; then printf '%s' "$rolled"; return 0; fi
  image=$(docker inspect --format '{{ index .Config.Labels "openwebui.image" }}' "$c" 2>/dev/null) || return 0
  if [[ -z "$image" || "$image" == "<no value>" ]]; then
    image=$(docker inspect --format '{{ .Config.Image }}' "$c" 2>/dev/null) || return 0
  fi
  [[ -n "$image" ]] || return 0
  id=$(docker inspect --format '{{ .Image }}' "$c" 2>/dev/null) || id=""
  if [[ -n "$id" ]]; then
    digest=$(docker image inspect --format '{{ join .RepoDigests " " }}' "$id" 2>/dev/null) || digest=""
    digest=${digest%% *}
    digest=${digest:-$id}
  fi
  printf '%s\t%s' "$image" "$digest"
}

# manifest_schema_revision <stage dir>: PostgreSQL's when Open WebUI's database lives there, else webui.db's.
manifest_schema_revision() {
  if database_configured; then pg_info "$1/data" schema_revision; else schema_revision "$1/data/webui.db"; fi
}

write_manifest() {
  local stage_dir=$1 started=$2 image_line image="" digest="" created list_sha="" digest_json
  image_line=$(openwebui_image)
  if [[ -n "$image_line" ]]; then image=${image_line%%$'\t'*}; digest=${image_line#*$'\t'}; fi
  TZ=UTC0 printf -v created '%(%Y-%m-%dT%H:%M:%SZ)T' "$started"
  # The sha256 of the hash list beside the manifest (see hashes.bash); empty when there is none.
  if [[ -f "$stage_dir/$HASHES" ]]; then list_sha=$(sha256_of "$stage_dir/$HASHES"); fi
  json_string -v digest_json "$digest"
  {
    printf '{\n'
    printf '  "format": 1,\n'
    manifest_string host "$OWB_HOST"
    manifest_string stack "$OWB_STACK"
    manifest_string job "$JOB"
    manifest_string created "$created"
    printf '  "files": %s,\n' "$(files_of "$stage_dir/data")"
    printf '  "bytes": %s,\n' "$(bytes_of "$stage_dir/data")"
    manifest_string filesSha256 "$list_sha"
    manifest_string schemaRevision "$(manifest_schema_revision "$stage_dir")"
    database_manifest_line "$stage_dir"
    manifest_string chromaVersion "$(chroma_version "$stage_dir/data/vector_db/chroma.sqlite3")"
    manifest_string upgradeTo "${PRE_UPGRADE_TO_IMAGE:-}"
    manifest_string image "$image"
    printf '  "imageDigest": %s\n' "$digest_json"
    printf '}\n'
  } >"$stage_dir/$MANIFEST"
}

# manifest_string <key> <text>: one string field of the manifest, on a line of its own.
manifest_string() {
  local value
  json_string -v value "$2"
  printf '  "%s": %s,\n' "$1" "$value"
}

# manifest_field <file> <key>: a string or number field of a manifest, without jq: the first
# line that holds the key (a manifest has one field a line; see write_manifest).
manifest_field() {
  [[ -f "$1" ]] || return 0
  local line string="^ *\"$2\": \"(.*)\",?\$" number="^ *\"$2\": ([0-9]+),?\$"
  while IFS= read -r line; do
    if [[ "$line" =~ $string || "$line" =~ $number ]]; then
      printf '%s\n' "${BASH_REMATCH[1]}"
      return 0
    fi
  done <"$1"
}
