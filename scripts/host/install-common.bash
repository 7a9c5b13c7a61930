# ------------------------------------------------------------------ shared by install and uninstall
# Everything lives under $OPENWEBUI_ROOT (default /), so tests install into a temporary
# directory. systemctl runs only when that root is / and systemd is running, or through the
# command named by $OPENWEBUI_SYSTEMCTL (tests use a stub that records its arguments).

ROOT=${OPENWEBUI_ROOT:-/}
[[ "$ROOT" == /* ]] || { echo "OPENWEBUI_ROOT must be an absolute path, not $ROOT" >&2; exit 2; }
ROOT=${ROOT%/}
CHANGES=()
TEMP_FILES=()

log() { printf 'openwebui-backup %s: %s\n' "$ACTION" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}
cleanup() { ((${#TEMP_FILES[@]} == 0)) || rm -f -- "${TEMP_FILES[@]}"; }
trap cleanup EXIT

on_host() { [[ -z "$ROOT" ]]; }
# at <path>: where a host path lives under the root.
at() { printf '%s%s' "$ROOT" "$1"; }
changed() {
  CHANGES+=("$1")
  log "$1"
}

systemctl_run() {
  if [[ -n "${OPENWEBUI_SYSTEMCTL:-}" ]]; then
    "$OPENWEBUI_SYSTEMCTL" "$@"
  elif on_host && [[ -d /run/systemd/system ]]; then
    systemctl "$@"
  else
    SKIPPED_SYSTEMCTL=1
  fi
}

sha256_of() { sha256sum -- "$1" | cut -d' ' -f1; }

# Owner root:root when we can set it (always on a real host; tests may run unprivileged).
set_owner() { if [[ "$(id -u)" == 0 ]]; then chown root:root -- "$1"; fi; }
owner_ok() { [[ "$(id -u)" != 0 || "$(stat -c %u:%g -- "$1")" == 0:0 ]]; }

# installed_paths: the host paths the last install wrote (its installed list: "mode sha256 path").
installed_paths() {
  local list path
  list=$(at "$INSTALLED_LIST")
  [[ -f "$list" ]] || return 0
  while read -r _ _ path; do
    if [[ -n "$path" ]]; then printf '%s\n' "$path"; fi
  done <"$list"
}

# disable_timer <unit file path>: stops a timer that is about to disappear.
disable_timer() {
  local unit
  unit=$(basename -- "$1")
  [[ "$unit" == *.timer ]] || return 0
  systemctl_run disable --now "$unit" || log "warning: could not disable $unit"
}

# remove_installed <path>: stops its timer and deletes one file the last install wrote;
# a removed unit sets UNITS_CHANGED so the caller reloads systemd once.
remove_installed() {
  local path=$1
  disable_timer "$path"
  if [[ -e "$(at "$path")" || -L "$(at "$path")" ]]; then
    rm -f -- "$(at "$path")"
    changed "removed $path"
    if [[ "$path" == "$SYSTEMD_UNIT_DIR"/* ]]; then UNITS_CHANGED=1; fi
  fi
}

summary() {
  if ((${#CHANGES[@]} == 0)); then
    log "no changes"
  else
    log "${#CHANGES[@]} change(s)"
  fi
  if [[ -n "${SKIPPED_SYSTEMCTL:-}" ]]; then log "systemctl skipped (root is ${ROOT:-/}, or systemd is not running)"; fi
}
