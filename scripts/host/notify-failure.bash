# Reports a failed systemd unit (the OnFailure= handler of every openwebui-backup unit).
# openwebui-backup posts its own failures while it runs; this catches the rest: a crash
# before it could, a kill, a timeout. Usage: notify-failure <unit name>

unit=${1:?usage: notify-failure <unit>}
env_file=${OPENWEBUI_BACKUP_ENV:-$DEFAULT_ENV_FILE}

json_string() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\t'/\\t}
  s=${s//$'\r'/}
  printf '"%s"' "$s"
}

if [[ ! -r "$env_file" ]]; then
  echo "notify-failure: cannot read $env_file; $unit failed and nobody was told" >&2
  exit 1
fi
# shellcheck source=/dev/null
source "$env_file"
# openwebui-backup alerts for its own failures and then records the systemd invocation it
# alerted for; this handler reports only what it could not (a crash, a kill, a timeout).
invocation=$(systemctl show --property=InvocationID --value "$unit" 2>/dev/null || true)
if [[ -n "$invocation" && -n "${OWB_STATE_DIR:-}" && -f "$OWB_STATE_DIR/alerted/$invocation" ]]; then
  echo "notify-failure: $unit failed; openwebui-backup already reported it" >&2
  exit 0
fi

# The job's own health check when the unit is a job's, else the host-wide one.
job=""
case "$unit" in
  openwebui-backup-*.service) job=${unit#openwebui-backup-} job=${job%.service} ;;
  openwebui-prune-*.service) job=${unit#openwebui-prune-} job=${job%.service} ;; # a job's prune
esac
hc_var="OWB_JOB_${job//-/_}_HEALTHCHECK_URL"
healthcheck_url=""
if [[ -n "$job" && -n "${!hc_var:-}" ]]; then healthcheck_url=${!hc_var}; else healthcheck_url=${OWB_HEALTHCHECK_URL:-}; fi

if [[ -z "${OWB_WEBHOOK_URL:-}" && -z "$healthcheck_url" ]]; then
  echo "notify-failure: $unit failed; no webhook or health check configured (notify.webhookUrl, notify.healthcheckUrl)" >&2
  exit 0
fi

journal=$(journalctl --unit "$unit" --lines 20 --no-pager --output cat 2>/dev/null || true)
payload=$(mktemp)
trap 'rm -f -- "$payload"' EXIT
status=0
# post <url> <body file>: the URL may hold a token, so it goes to curl on stdin, not on the command line.
post() {
  printf 'url = "%s"\n' "$1" |
    curl --config - --silent --show-error --fail --max-time 10 --retry 3 --retry-delay 1 --retry-connrefused \
      --header 'Content-Type: application/json' --data-binary "@$2" >/dev/null
}
if [[ -n "${OWB_WEBHOOK_URL:-}" ]]; then
  printf '{"host":%s,"job":%s,"unit":%s,"outcome":"failure","message":%s,"log":%s}\n' \
    "$(json_string "${OWB_HOST:-$(hostname)}")" "$(json_string "$job")" "$(json_string "$unit")" \
    "$(json_string "systemd unit $unit failed")" "$(json_string "$journal")" >"$payload"
  post "$OWB_WEBHOOK_URL" "$payload" || status=1
fi
if [[ -n "$healthcheck_url" ]]; then
  printf '%s\n' "$journal" >"$payload"
  post "${healthcheck_url%/}/fail" "$payload" || status=1
fi
exit "$status"
