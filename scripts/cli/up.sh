#!/usr/bin/env bash
# npm run up: deploy the dev stack (this machine, no cloud account) with the project's own
# Pulumi CLI and a state backend inside the project.
#
#   PULUMI_CONFIG_PASSPHRASE='…' npm run up [-- <extra pulumi up flags, e.g. --yes>]
#
# - The CLI is the one the `pulumi` npm package (a devDependency) provides: node_modules/.bin/pulumi.
# - State lives in ./.pulumi-state (git-ignored), through PULUMI_BACKEND_URL=file://…; nothing
#   goes to Pulumi Cloud. OPENWEBUI_STACK picks another stack (default dev).
# - The passphrase encrypts the stack's secrets (the generated WEBUI_SECRET_KEY, the restic
#   password, keys) in Pulumi.<stack>.yaml and in the state. Choose it once and keep it: without
#   it the stack's secrets cannot be decrypted, and a restore needs WEBUI_SECRET_KEY.
set -Eeuo pipefail

cd "$(dirname "$0")/../.."
readonly STACK=${OPENWEBUI_STACK:-dev}
readonly PULUMI=${PULUMI_BIN:-node_modules/.bin/pulumi}

die() {
  printf 'npm run up: %s\n' "$*" >&2
  exit 1
}

if [[ -z "${PULUMI_CONFIG_PASSPHRASE:-}" && -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]]; then
  die "PULUMI_CONFIG_PASSPHRASE is not set.
  It encrypts this stack's secrets (the generated WEBUI_SECRET_KEY, the restic password, keys)
  in Pulumi.${STACK}.yaml and in the local state under .pulumi-state/. Choose one and keep it
  somewhere safe (a password manager): every later 'npm run up' needs the same one, and
  without it the secrets, and so your restores, are lost. For example:
    export PULUMI_CONFIG_PASSPHRASE='a long phrase you will keep'
    npm run up
  (or put it in a file and set PULUMI_CONFIG_PASSPHRASE_FILE=/path/to/file)"
fi

[[ -x "$PULUMI" ]] || die "no Pulumi CLI at $PULUMI; run 'npm ci' (the 'pulumi' npm package is a devDependency and provides it)"

export PULUMI_BACKEND_URL="file://$PWD/.pulumi-state"
mkdir -p .pulumi-state

if ! "$PULUMI" stack select "$STACK" 2>/dev/null; then
  printf 'npm run up: creating stack %s in %s\n' "$STACK" "$PULUMI_BACKEND_URL" >&2
  "$PULUMI" stack init "$STACK" --secrets-provider passphrase
fi

exec "$PULUMI" up --stack "$STACK" "$@"
