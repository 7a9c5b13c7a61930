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
