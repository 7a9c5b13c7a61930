# Part: PostgreSQL. Open WebUI's main database when it lives in PostgreSQL (OWB_DATABASE_*):
# a dump of one consistent snapshot, taken while Open WebUI keeps writing, staged with its row
# counts; the source gate; the in-place restore in one transaction; the verify drill in a
# scratch database on the same server.
#
# The client tools run inside the database container (docker exec: the server's own version)
# when the stack runs it, else on this host against OWB_DATABASE_URL. Passwords reach them as
# PGPASSWORD in the environment (`docker exec -e PGPASSWORD` passes the name, not the value),
# never on a command line.

database_configured() { [[ -n "${OWB_DATABASE_CONTAINER:-}${OWB_DATABASE_URL:-}" ]]; }

# What a backup holds for the database, in its extras folder.
pg_dump_name() { printf 'postgres.dump'; }
pg_dump_file() { printf '%s/%s' "$(extras_dir "$1")" "$(pg_dump_name)"; }
pg_rows_file() { printf '%s/postgres-rows.txt' "$(extras_dir "$1")"; }
pg_info_file() { printf '%s/postgres-info.txt' "$(extras_dir "$1")"; }

# pg_info <tree> <key>: a fact the dump recorded (server_version, schema_revision).
pg_info() { sed -n "s/^$2=//p" "$(pg_info_file "$1")" 2>/dev/null | head -n 1; }

# url_decode <text>: a URL component with its %XX escapes decoded (nothing else: no '+').
url_decode() {
  local s=$1 out="" ch
  while [[ "$s" =~ ^([^%]*)%([0-9A-Fa-f]{2})(.*)$ ]]; do
    printf -v ch '%b' "\\x${BASH_REMATCH[2]}"
    out+=${BASH_REMATCH[1]}$ch
    s=${BASH_REMATCH[3]}
  done
  printf '%s' "$out$s"
}

# pg_url_environment: libpq's variables from OWB_DATABASE_URL
# (postgresql://user:password@host:port/database?sslmode=…, as the renderer checked it), exported.
pg_url_environment() {
  local rest auth="" param
  local -a params=()
  [[ "$OWB_DATABASE_URL" =~ ^postgres(ql)?://(.*)$ ]] || die "OWB_DATABASE_URL is not a postgresql:// URL"
  rest=${BASH_REMATCH[2]}
  if [[ "$rest" == *\?* ]]; then IFS='&' read -r -a params <<<"${rest#*\?}"; rest=${rest%%\?*}; fi
  [[ "$rest" == */?* ]] || die "OWB_DATABASE_URL names no database"
  export PGDATABASE PGUSER PGHOST PGPORT
  PGDATABASE=$(url_decode "${rest#*/}")
  rest=${rest%%/*}
  if [[ "$rest" == *@* ]]; then auth=${rest%@*}; rest=${rest##*@}; fi
  PGUSER=$(url_decode "${auth%%:*}")
  if [[ "$auth" == *:* ]]; then
    export PGPASSWORD
    PGPASSWORD=$(url_decode "${auth#*:}")
  fi
  if [[ "$rest" =~ ^\[([^]]*)\](:([0-9]+))?$ || "$rest" =~ ^([^:]+)(:([0-9]+))?$ ]]; then
    PGHOST=${BASH_REMATCH[1]}
    PGPORT=${BASH_REMATCH[3]:-5432}
  else
    die "OWB_DATABASE_URL names no host"
  fi
  for param in "${params[@]}"; do
    case "$param" in
      sslmode=*) export PGSSLMODE=${param#sslmode=} ;;
      *) die "OWB_DATABASE_URL: parameter ${param%%=*} is not supported (only sslmode)" ;;
    esac
  done
}

# pg_environment [database]: exports libpq's PG* variables for the configured server and
# database, or another database on it.
pg_environment() {
  if [[ -n "${OWB_DATABASE_URL:-}" ]]; then
    pg_url_environment
  else
    export PGUSER=$OWB_DATABASE_USER PGDATABASE=$OWB_DATABASE_NAME
    if [[ -n "${OWB_DATABASE_PASSWORD:-}" ]]; then export PGPASSWORD=$OWB_DATABASE_PASSWORD; fi
  fi
  if [[ -n "${1:-}" ]]; then PGDATABASE=$1; fi
}

# pg_run <database or ""> <tool> <args…>: a client tool against the configured server, connected
# to the given database (empty: the configured one).
pg_run() {
  local db=$1 tool=$2
  shift 2
  (
    pg_environment "$db"
    if [[ -z "${OWB_DATABASE_CONTAINER:-}" ]]; then exec "$tool" "$@"; fi
    local -a pass=()
    if [[ -n "${PGPASSWORD:-}" ]]; then pass=(-e PGPASSWORD); fi
    exec docker exec -i -e PGUSER -e PGDATABASE "${pass[@]}" "$OWB_DATABASE_CONTAINER" "$tool" "$@"
  )
}

# database_name: the configured database's name (pg_restore needs it as -d).
database_name() { (pg_environment && printf '%s' "$PGDATABASE"); }

# database_label: the database for messages, without credentials.
database_label() {
  if [[ -n "${OWB_DATABASE_CONTAINER:-}" ]]; then
    printf '"%s" in container %s' "$OWB_DATABASE_NAME" "$OWB_DATABASE_CONTAINER"
  else
    (pg_environment && printf '"%s" on %s:%s' "$PGDATABASE" "$PGHOST" "$PGPORT")
  fi
}

# ------------------------------------------------------------------ SQL

# Open WebUI's tables the source gate requires; prints those missing (empty: none).
pg_gate_sql() {
  printf '%s\n' "SELECT coalesce(string_agg(t, ' '), '') FROM unnest(ARRAY['user', 'chat']) AS t WHERE to_regclass(quote_ident(t)) IS NULL;"
}

# The server's version, its number, and the schema revision Open WebUI migrated to (Alembic's,
# or for older releases the last peewee migration, prefixed "peewee:"), separated by '|'.
pg_facts_sql() {
  cat <<'SQL'
SELECT current_setting('server_version'), current_setting('server_version_num'),
       coalesce(CASE
         WHEN to_regclass('alembic_version') IS NOT NULL
           THEN (xpath('/row/v/text()', query_to_xml('SELECT version_num AS v FROM alembic_version LIMIT 1', false, true, '')))[1]::text
         WHEN to_regclass('migratehistory') IS NOT NULL
           THEN 'peewee:' || (xpath('/row/v/text()', query_to_xml('SELECT name AS v FROM migratehistory ORDER BY id DESC LIMIT 1', false, true, '')))[1]::text
       END, '');
SQL
}

# Every table's row count, "<table>|<count>" (schema-qualified outside public). query_to_xml
# counts inside the caller's transaction: in the snapshot session, exactly what pg_dump dumps.
pg_row_counts_sql() {
  cat <<'SQL'
SELECT CASE WHEN n.nspname = 'public' THEN c.relname ELSE n.nspname || '.' || c.relname END,
       (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)';
SQL
}

# pg_rows_json: "<table>|<count>" lines on stdin as one JSON object, in table order.
pg_rows_json() {
  local line out="" sep=""
  while IFS= read -r line; do
    [[ -n "$line" ]] || continue
    out+="$sep$(json_string "${line%|*}"): ${line##*|}"
    sep=", "
  done < <(sort)
  printf '{%s}' "$out"
}

# ------------------------------------------------------------------ the snapshot session

# A psql coprocess holding one read-only REPEATABLE READ transaction for the whole dump.
# psql's messages go to the run's log; ON_ERROR_STOP makes it end at the first error.
pg_session_open() {
  coproc PG_SESSION { pg_run "" psql -X -q -w -A -t -v ON_ERROR_STOP=1; }
}

# pg_query <sql>: sends SQL to the session and prints the rows of its answer. Fails when the
# session has ended (an error, a lost connection).
pg_query() {
  local line
  # A session that died makes the write fail instead of killing this shell with SIGPIPE.
  trap '' PIPE
  if ! printf '%s\n' "$1" "SELECT 'owb-end-of-answer';" >&"${PG_SESSION[1]}"; then
    trap - PIPE
    return 1
  fi
  trap - PIPE
  while IFS= read -r line <&"${PG_SESSION[0]}"; do
    [[ "$line" != owb-end-of-answer ]] || return 0
    printf '%s\n' "$line"
  done
  return 1
}

pg_session_close() {
  local fd=${PG_SESSION[1]:-}
  # End of input: psql ends the read-only transaction and exits.
  if [[ -n "$fd" ]]; then exec {fd}>&-; fi
  wait "${PG_SESSION_PID:-}" 2>/dev/null || true
}

# pg_client_fits <server_version_num>: pg_dump on this host must be at least the server's major version.
pg_client_fits() {
  local server=$(($1 / 10000)) client
  client=$(pg_dump --version 2>/dev/null | sed -n 's/.*(PostgreSQL) \([0-9][0-9]*\).*/\1/p')
  [[ -n "$client" ]] || die "cannot tell the version of pg_dump on this host (is postgresql-client installed?)"
  ((client >= server)) || die "pg_dump $client on this host cannot dump a PostgreSQL $server server; install client tools of version $server or newer (postgresql-client-$server from apt.postgresql.org)"
}

# ------------------------------------------------------------------ backup

# micros_now, seconds_since <micros>: a wall clock in microseconds, and the seconds since, to the millisecond.
micros_now() { printf '%s' "${EPOCHREALTIME/./}"; }
seconds_since() {
  local us=$(($(micros_now) - $1))
  printf '%d.%03d' $((us / 1000000)) $((us / 1000 % 1000))
}

# stage_database <stage dir>: the dump, its row counts and the server's facts into the staged
# tree's extras folder. One snapshot: the session exports it, the source gate and the counts
# read it, pg_dump dumps it. pg_dump takes no lock that blocks Open WebUI's writes.
stage_database() {
  database_configured || return 0
  local tree="$1/data" snapshot missing facts version version_num revision counts started
  started=$(micros_now)
  mkdir -p -- "$(extras_dir "$tree")"
  pg_session_open
  if ! snapshot=$(pg_query 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT pg_export_snapshot();') || [[ -z "$snapshot" ]]; then
    die "could not open a snapshot of PostgreSQL database $(database_label) (see psql's message above)"
  fi
  missing=$(pg_query "$(pg_gate_sql)") || die "the PostgreSQL session ended while checking for Open WebUI's tables"
  [[ -z "$missing" ]] ||
    die "source gate: PostgreSQL database $(database_label) has no Open WebUI tables (missing: $missing); refusing to back it up. Is it the database Open WebUI uses, and has Open WebUI started against it?"
  facts=$(pg_query "$(pg_facts_sql)") || die "the PostgreSQL session ended while reading the server's version"
  IFS='|' read -r version version_num revision <<<"$facts"
  if [[ -z "${OWB_DATABASE_CONTAINER:-}" ]]; then pg_client_fits "$version_num"; fi
  counts=$(pg_query "$(pg_row_counts_sql)") || die "the PostgreSQL session ended while counting rows"
  printf '%s\n' "$counts" >"$(pg_rows_file "$tree")"
  printf 'server_version=%s\nschema_revision=%s\n' "$version" "$revision" >"$(pg_info_file "$tree")"
  pg_run "" pg_dump --format=custom --no-password --snapshot="$snapshot" </dev/null >"$(pg_dump_file "$tree")" ||
    die "pg_dump of PostgreSQL database $(database_label) failed (see its message above)"
  pg_session_close
  log "dumped PostgreSQL $version database $(database_label): $(bytes_of "$(pg_dump_file "$tree")") bytes, $(grep -c . "$(pg_rows_file "$tree")") tables, schema ${revision:-unknown}, in $(seconds_since "$started") s"
}

# database_manifest_line <stage dir>: the manifest's "database" member on one line (so
# manifest_row_counts finds it), or nothing while the database is SQLite.
database_manifest_line() {
  database_configured || return 0
  local tree="$1/data"
  printf '  "database": {"engine": "postgresql", "serverVersion": %s, "schemaRevision": %s, "dump": %s, "rowCounts": %s},\n' \
    "$(json_string "$(pg_info "$tree" server_version)")" "$(json_string "$(pg_info "$tree" schema_revision)")" \
    "$(json_string "$(extras_name)/$(pg_dump_name)")" "$(pg_rows_json <"$(pg_rows_file "$tree")")"
}

# manifest_row_counts <manifest>: the rowCounts object the backup recorded.
manifest_row_counts() {
  [[ -f "$1" ]] || return 0
  sed -n 's/^ *"database": .*"rowCounts": \({[^}]*}\).*$/\1/p' "$1" | head -n 1
}

# ------------------------------------------------------------------ restore and verify

# check_database_dump <restored tree>: the dump is there and its table of contents reads.
check_database_dump() {
  local dump
  dump=$(pg_dump_file "$1")
  if ! database_configured; then
    [[ ! -e "$dump" ]] || log "warning: this backup holds a PostgreSQL dump, but this host's env file names no database; the dump is not restored"
    return 0
  fi
  [[ -f "$dump" ]] || die "this backup holds no PostgreSQL dump (made before Open WebUI moved to PostgreSQL?); nothing was restored"
  pg_run "" pg_restore --list <"$dump" >/dev/null || die "the backup's PostgreSQL dump is unreadable; nothing was restored"
  log "PostgreSQL dump: $dump ($(bytes_of "$dump") bytes)"
}

# restore_database <restored tree> <safety path>: with Open WebUI stopped, keeps the current
# database as <safety path>.pgdump, then restores the backup's dump over it. pg_restore runs in
# one transaction: a restore that fails or is interrupted leaves the old database as it was.
restore_database() {
  database_configured || return 0
  local dump safety="$2.pgdump" db
  dump=$(pg_dump_file "$1")
  db=$(database_name)
  log "dumping the current database to $safety before replacing it"
  pg_run "" pg_dump --format=custom --no-password </dev/null >"$safety" || die "could not dump the current database first; nothing was restored"
  log "restoring PostgreSQL database $(database_label) from the backup, in one transaction"
  pg_run "" pg_restore --clean --if-exists --single-transaction --no-owner --no-privileges --no-password -d "$db" <"$dump" ||
    die "pg_restore failed; the database is as it was (one transaction), and a copy of it is in $safety"
  log "database restored; the previous one is kept in $safety"
}

# scratch_database: a name for verify's scratch database, the same for a host's job on every
# run (so a run that was killed leaves nothing the next one does not drop first).
scratch_database() { printf 'owb_verify_%s' "$(printf '%s/%s' "$OWB_HOST" "$JOB" | sha256sum | cut -c1-16)"; }

# pg_drop_scratch <name>: FORCE ends sessions a killed restore may have left.
pg_drop_scratch() { pg_run "" psql -X -q -w -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" </dev/null; }

# pg_row_counts_in <database>: its row counts as JSON.
pg_row_counts_in() {
  local rows
  rows=$(pg_run "$1" psql -X -q -w -A -t -v ON_ERROR_STOP=1 -c "$(pg_row_counts_sql)" </dev/null) || return 1
  pg_rows_json <<<"$rows"
}

# verify_database <restored tree> <manifest>: restores the dump into a scratch database on the
# same server (created here and dropped afterwards, whatever happened) and compares every
# table's row count with the manifest's.
verify_database() {
  database_configured || return 0
  local dump expected scratch actual status=0
  dump=$(pg_dump_file "$1")
  [[ -f "$dump" ]] || { log "verify: the backup holds no PostgreSQL dump"; return 1; }
  expected=$(manifest_row_counts "$2")
  [[ -n "$expected" ]] || { log "verify: the manifest records no row counts for the database"; return 1; }
  scratch=$(scratch_database)
  log "verify: restoring the PostgreSQL dump into scratch database $scratch"
  if ! pg_drop_scratch "$scratch" || ! pg_run "" psql -X -q -w -v ON_ERROR_STOP=1 -c "CREATE DATABASE $scratch" </dev/null; then
    log "verify: could not create scratch database $scratch (the role needs CREATEDB)"
    return 1
  fi
  actual=$(pg_run "$scratch" pg_restore --no-owner --no-privileges --exit-on-error --no-password -d "$scratch" <"$dump" && pg_row_counts_in "$scratch") || status=$?
  pg_drop_scratch "$scratch" || log "warning: could not drop scratch database $scratch"
  if ((status != 0)); then
    log "verify: the PostgreSQL dump does not restore (see pg_restore's message above)"
    return 1
  fi
  if [[ "$actual" != "$expected" ]]; then
    log "verify: row counts differ: the manifest says $expected, the restored dump has $actual"
    return 1
  fi
  log "verify: PostgreSQL dump restored; row counts match the manifest"
}
