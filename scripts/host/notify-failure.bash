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
if [[ -z "${OWB_WEBHOOK_URL:-}" ]]; then
  echo "notify-failure: $unit failed; no webhook configured (notify.webhookUrl)" >&2
  exit 0
fi

journal=$(journalctl --unit "$unit" --lines 20 --no-pager --output cat 2>/dev/null || true)
payload=$(mktemp)
trap 'rm -f -- "$payload"' EXIT
printf '{"host":%s,"unit":%s,"outcome":"failure","message":%s,"log":%s}\n' \
  "$(json_string "${OWB_HOST:-$(hostname)}")" "$(json_string "$unit")" \
  "$(json_string "systemd unit $unit failed")" "$(json_string "$journal")" >"$payload"
# The URL may hold a token: it goes to curl on stdin, not on the command line.
printf 'url = "%s"\n' "$OWB_WEBHOOK_URL" |
  curl --config - --silent --show-error --fail --max-time 10 --retry 3 --retry-delay 2 \
    --header 'Content-Type: application/json' --data-binary "@$payload" >/dev/null
