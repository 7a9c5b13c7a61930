# Method pull: copies another host's local snapshots here over SSH, hard-linked like local-snapshot.

# pull_ssh_setup: writes this job's ssh config and known_hosts under the state directory and
# sets PULL_RSH, the -e value rsync runs. The source host is "owb-source" in that config.
pull_ssh_setup() {
  local dir="$OWB_STATE_DIR/ssh" host port user key hostkey strict=accept-new
  job_setting -v host FROM_HOST
  job_setting -v port FROM_PORT
  job_setting -v user FROM_USER
  job_setting -v key FROM_KEY
  job_setting -v hostkey FROM_HOSTKEY
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

# gate_pulled <target> <remote snapshot folder>: the source gate for what a pull would copy: the
# source's snapshot has its manifest and its database (data/webui.db, or the PostgreSQL dump of a
# source on PostgreSQL), and did not shrink sharply against the
# last snapshot this job pulled.
gate_pulled() {
  local t=$1 folder=$2 work="$OWB_STAGING_DIR/$JOB.work"
  mkdir -p -- "$work"
  rsync -e "$PULL_RSH" -q "owb-source:$folder/$MANIFEST" "$work/$MANIFEST" 2>/dev/null ||
    refuse "$t: could not fetch the manifest of ${folder##*/} from the source"
  rsync -e "$PULL_RSH" --list-only "owb-source:$folder/data/webui.db" >/dev/null 2>&1 ||
    rsync -e "$PULL_RSH" --list-only "owb-source:$folder/data/$(extras_name)/$(pg_dump_name)" >/dev/null 2>&1 ||
    refuse "$t: ${folder##*/} on the source has no database (data/webui.db, or a PostgreSQL dump)"
  gate_shrink "$work/$MANIFEST" "$t: ${folder##*/} on the source"
}

ship_pull() {
  local t=$1 root path listing newest
  target_location -v root "$t"
  job_setting -v path FROM_PATH
  path="${path%/}/"
  pull_ssh_setup
  log "$t: listing snapshots on $(job_setting FROM_HOST):$path"
  listing=$(remote_complete "$path") || die "$t: could not list $(job_setting FROM_HOST):$path over SSH"
  newest=$(tail -n 1 <<<"$listing")
  [[ -n "$newest" ]] || die "$t: no complete snapshot on $(job_setting FROM_HOST):$path"
  if [[ -d "$root/$newest" ]]; then
    log "$t: $newest is already here; nothing newer on the source"
  else
    gate_pulled "$t" "$path$newest"
    write_linked_snapshot "$t" "$root" "$newest" -e "$PULL_RSH" "owb-source:$path$newest/"
  fi
}

# prune_pull <target>: this host's own retention over what it pulled (prune.bash).
prune_pull() { prune_local_snapshot "$@"; }

list_pull() { list_local_snapshot "$@"; }
restore_pull() { restore_local_snapshot "$@"; }
manifest_pull() { manifest_local_snapshot "$@"; }
