#!/usr/bin/env bash
# npm run up: deploy a stack (default dev: this machine, no cloud account) with the project's
# Pulumi CLI and a state backend inside the project.
#
#   PULUMI_CONFIG_PASSPHRASE='…' npm run up [-- <extra pulumi up flags, e.g. --yes>]
#
# - OPENWEBUI_STACK picks the stack (default dev; the file is Pulumi.<stack>.yaml).
# - PULUMI_BIN picks the CLI. The default, node_modules/.bin/pulumi, comes from the `pulumi`
#   npm package, which downloads the real CLI on first use: that needs the internet once.
# - State lives in ./.pulumi-state (git-ignored) unless PULUMI_BACKEND_URL says otherwise;
#   nothing goes to Pulumi Cloud.
# - The passphrase encrypts the stack's secrets (the generated WEBUI_SECRET_KEY, the restic
#   password, keys) in Pulumi.<stack>.yaml and in the state. Choose it once and keep it.
#
# Everything that can be checked before the deploy is checked first, and each failure says
# what is wrong and what to do; no state is created until all checks pass.
set -Eeuo pipefail

cd "$(dirname "$0")/../.."
readonly STACK=${OPENWEBUI_STACK:-dev}
readonly STACK_FILE="Pulumi.$STACK.yaml"
readonly PULUMI=${PULUMI_BIN:-node_modules/.bin/pulumi}

die() {
  printf 'npm run up: %s\n' "$*" >&2
  exit 1
}

check_passphrase() {
  [[ -z "${PULUMI_CONFIG_PASSPHRASE:-}" && -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]] || return 0
  die "PULUMI_CONFIG_PASSPHRASE is not set.
  It encrypts this stack's secrets (the generated WEBUI_SECRET_KEY, the restic password, keys)
  in $STACK_FILE and in the state. Choose one and keep it somewhere safe (a password
  manager): every later 'npm run up' needs the same one, and without it the secrets, and so
  your restores, are lost. For example:
    export PULUMI_CONFIG_PASSPHRASE='a long phrase you will keep'
    npm run up
  (or put it in a file and set PULUMI_CONFIG_PASSPHRASE_FILE=/path/to/file)"
}

# The stack file is valid, and LOCAL_HOSTS lists the hosts this machine deploys to itself.
check_stack_file() {
  [[ -f "$STACK_FILE" ]] || die "no stack file $STACK_FILE (OPENWEBUI_STACK=$STACK); copy Pulumi.prod.example.yaml or pick another stack"
  local out
  out=$(node_modules/.bin/ts-node --transpile-only scripts/cli/up-preflight.ts "$STACK_FILE") || die "fix $STACK_FILE first (see above); nothing was deployed"
  mapfile -t LOCAL_HOSTS <<<"$out"
  [[ -n "${LOCAL_HOSTS[0]:-}" ]] || LOCAL_HOSTS=()
}

check_cli() {
  [[ -x "$PULUMI" ]] || die "no Pulumi CLI at $PULUMI. Run 'npm ci' (the 'pulumi' npm package provides one), or point PULUMI_BIN at an installed CLI"
  local out
  if ! out=$(timeout 120 "$PULUMI" version 2>&1); then
    die "the Pulumi CLI at $PULUMI does not start:
  $(tail -n 3 <<<"$out" | sed 's/^/  /')
  The 'pulumi' npm package downloads the real CLI on first use, which needs the internet.
  Offline, install the Pulumi CLI another way (your distribution, or the official install
  script on a connected machine) and point PULUMI_BIN at it:
    export PULUMI_BIN=/usr/local/bin/pulumi"
  fi
}

# Hosts deployed to this machine need its Docker daemon and a root install of the backup files.
check_local_host() {
  ((${#LOCAL_HOSTS[@]} > 0)) || return 0
  local out
  if ! out=$(timeout 20 docker info --format '{{ .ServerVersion }}' 2>&1); then
    die "host ${LOCAL_HOSTS[*]} runs on this machine, but the Docker daemon does not answer:
  $(tail -n 2 <<<"$out" | sed 's/^/  /')
  Start Docker (systemctl start docker) and make sure this user can reach
  /var/run/docker.sock (root, or the docker group)."
  fi
  if ((EUID != 0)) && ! sudo -n true 2>/dev/null; then
    die "host ${LOCAL_HOSTS[*]} runs on this machine: installing the backup command and its timers needs root.
  Run as root, or allow this user 'sudo' without a password prompt (sudo -n)."
  fi
}

select_or_create_stack() {
  local out
  if out=$("$PULUMI" stack select "$STACK" 2>&1); then return 0; fi
  grep -qi "no stack named" <<<"$out" || die "could not select stack $STACK: $out"
  printf 'npm run up: creating stack %s in %s\n' "$STACK" "$PULUMI_BACKEND_URL" >&2
  "$PULUMI" stack init "$STACK" --secrets-provider passphrase
}

check_passphrase
check_stack_file
check_cli
check_local_host

export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$PWD/.pulumi-state}
if [[ "$PULUMI_BACKEND_URL" == file://* ]]; then mkdir -p -- "${PULUMI_BACKEND_URL#file://}"; fi
select_or_create_stack
exec "$PULUMI" up --stack "$STACK" "$@"
