# Part: targets. A target's credentials, kept to one subshell, and the paths and repositories of a job on it.

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
          export RCLONE_CONFIG_OWB_REGION
          RCLONE_CONFIG_OWB_REGION=$(target_setting "$t" REGION)
        fi
        if [[ -n "$(target_setting "$t" ACCESS_KEY_ID)" ]]; then
          export RCLONE_CONFIG_OWB_ACCESS_KEY_ID RCLONE_CONFIG_OWB_SECRET_ACCESS_KEY
          RCLONE_CONFIG_OWB_ACCESS_KEY_ID=$(target_setting "$t" ACCESS_KEY_ID)
          RCLONE_CONFIG_OWB_SECRET_ACCESS_KEY=$(target_setting "$t" SECRET_ACCESS_KEY)
        else
          export RCLONE_CONFIG_OWB_ENV_AUTH=true
        fi
        ;;
      b2)
        # A delete on B2 is a hide: the file's versions stay until the bucket's lifecycle
        # rules remove them. Set here, this beats any RCLONE_B2_HARD_DELETE in the environment.
        export RCLONE_CONFIG_OWB_TYPE=b2 RCLONE_CONFIG_OWB_HARD_DELETE=false RCLONE_CONFIG_OWB_ACCOUNT RCLONE_CONFIG_OWB_KEY
        RCLONE_CONFIG_OWB_ACCOUNT=$(target_setting "$t" KEY_ID)
        RCLONE_CONFIG_OWB_KEY=$(target_setting "$t" APPLICATION_KEY)
        ;;
      local) ;;
      *) die "target $t has unknown type \"$type\"" ;;
    esac
    network_timeouts
    [[ "$type" == local ]] || target_answers "$t"
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
