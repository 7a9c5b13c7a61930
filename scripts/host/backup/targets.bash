# Part: targets. A target's credentials, kept to one subshell, and the paths and repositories of a job on it.

# with_target <target> <command…>: runs the command with the target's credentials exported
# in a subshell only, so they never appear on a command line or in another target's tools.
with_target() {
  local t=$1
  shift
  (
    local type endpoint region key_id
    target_setting -v type "$t" TYPE
    # No rclone.conf: the remote "owb" is defined by these variables alone.
    export RCLONE_CONFIG=/dev/null
    case "$type" in
      s3)
        export RCLONE_CONFIG_OWB_TYPE=s3
        target_setting -v endpoint "$t" ENDPOINT
        if [[ -n "$endpoint" ]]; then
          export RCLONE_CONFIG_OWB_PROVIDER=Other RCLONE_CONFIG_OWB_ENDPOINT=$endpoint
        else
          export RCLONE_CONFIG_OWB_PROVIDER=AWS
        fi
        target_setting -v region "$t" REGION
        if [[ -n "$region" ]]; then export RCLONE_CONFIG_OWB_REGION=$region; fi
        target_setting -v key_id "$t" ACCESS_KEY_ID
        if [[ -n "$key_id" ]]; then
          export RCLONE_CONFIG_OWB_ACCESS_KEY_ID RCLONE_CONFIG_OWB_SECRET_ACCESS_KEY
          RCLONE_CONFIG_OWB_ACCESS_KEY_ID=$key_id
          target_setting -v RCLONE_CONFIG_OWB_SECRET_ACCESS_KEY "$t" SECRET_ACCESS_KEY
        else
          export RCLONE_CONFIG_OWB_ENV_AUTH=true
        fi
        ;;
      b2)
        # A delete on B2 is a hide: the file's versions stay until the bucket's lifecycle
        # rules remove them. Set here, this beats any RCLONE_B2_HARD_DELETE in the environment.
        export RCLONE_CONFIG_OWB_TYPE=b2 RCLONE_CONFIG_OWB_HARD_DELETE=false RCLONE_CONFIG_OWB_ACCOUNT RCLONE_CONFIG_OWB_KEY
        target_setting -v RCLONE_CONFIG_OWB_ACCOUNT "$t" KEY_ID
        target_setting -v RCLONE_CONFIG_OWB_KEY "$t" APPLICATION_KEY
        ;;
      local) ;;
      *) die "target $t has unknown type \"$type\"" ;;
    esac
    network_timeouts
    [[ "$type" == local ]] || target_answers "$t"
    "$@"
  )
}

# rclone_root [-v <var>] <target>: the rclone path of this job's folder on a target (inside
# with_target).
rclone_root() {
  local _into="" _t _loc _type _bucket _root=""
  if [[ "$1" == -v ]]; then _into=$2; shift 2; fi
  _t=$1
  target_location -v _loc "$_t"
  target_setting -v _type "$_t" TYPE
  case "$_type" in
    s3 | b2) target_setting -v _bucket "$_t" BUCKET; _root="owb:$_bucket/$_loc" ;;
    local) _root=$_loc ;;
  esac
  if [[ -n "$_into" ]]; then printf -v "$_into" '%s' "$_root"; else printf '%s' "$_root"; fi
}

# restic reaches S3 and B2 through rclone (the remote "owb" of with_target), never through its
# own S3 or B2 backends: restic's B2 backend deletes every version of a file, which a host key
# must not be able to do. Through rclone a delete is a hide on B2 and a delete marker on a
# versioned S3 bucket, so history goes only by the bucket's lifecycle rules. One path for both
# also gives restic the same credentials, timeouts and retries as every other method.
restic_repository() {
  local t=$1
  case "$(target_setting "$t" TYPE)" in
    s3 | b2) printf 'rclone:%s' "$(rclone_root "$t")" ;;
    local) target_location "$t" ;;
  esac
}

# Folders of complete snapshots, oldest first: complete means the manifest was uploaded,
# which happens only after the data was copied and checked.
# rclone_list <args…>: rclone lsf, where a folder that does not exist yet (exit 3, first run
# on a local target) lists as empty; any other failure is a failure.
rclone_list() {
  local rc=0 errors
  # The listing goes out on stdout (through fd 3); only rclone's messages are kept.
  { errors=$(rclone lsf "$@" 2>&1 >&3 3>&-) || rc=$?; } 3>&1
  # Exit 3 is rclone's "directory not found"; anything else is shown, not swallowed.
  if ((rc != 0 && rc != 3)); then
    log "rclone lsf failed (exit $rc): $(tail -n 3 <<<"$errors" | tr '\n' ' ')"
  fi
  ((rc == 0 || rc == 3))
}
