# ------------------------------------------------------------------ install
# Writes every file of the manifest atomically (temporary file in the same directory,
# checked against its sha256, then renamed over the old one), removes what an earlier
# install wrote and this one no longer has, and starts the timers. Running it again
# with the same files changes nothing and says so.

readonly PACKAGE_COMMANDS=(restic rclone sqlite3 rsync curl flock)

in_manifest() {
  local p
  for p in "${FILE_PATHS[@]}"; do [[ "$p" == "$1" ]] && return 0; done
  return 1
}

# ensure_packages: installs the tools the jobs need with the host's package manager (the fixed
# list, and EXTRA_COMMANDS: PostgreSQL's client tools when the host dumps a server by URL).
# Only on the real root (a temporary root has no package database), and never when
# OPENWEBUI_SKIP_PACKAGES=1.
ensure_packages() {
  if [[ "${OPENWEBUI_SKIP_PACKAGES:-}" == 1 ]]; then return 0; fi
  if ! on_host; then return 0; fi
  local cmd missing=()
  for cmd in "${PACKAGE_COMMANDS[@]}" "${EXTRA_COMMANDS[@]}"; do command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd"); done
  ((${#missing[@]} > 0)) || return 0
  local pkgs=()
  if command -v apt-get >/dev/null 2>&1; then
    for cmd in "${missing[@]}"; do case "$cmd" in flock) pkgs+=(util-linux) ;; pg_dump | pg_restore | psql) pkgs+=(postgresql-client) ;; *) pkgs+=("$cmd") ;; esac; done
    mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)
    DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}" </dev/null
  elif command -v dnf >/dev/null 2>&1; then
    for cmd in "${missing[@]}"; do case "$cmd" in sqlite3) pkgs+=(sqlite) ;; flock) pkgs+=(util-linux) ;; pg_dump | pg_restore | psql) pkgs+=(postgresql) ;; *) pkgs+=("$cmd") ;; esac; done
    mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)
    dnf install -y -q "${pkgs[@]}" </dev/null
  elif command -v apk >/dev/null 2>&1; then
    for cmd in "${missing[@]}"; do case "$cmd" in sqlite3) pkgs+=(sqlite) ;; pg_dump | pg_restore | psql) pkgs+=(postgresql-client) ;; *) pkgs+=("$cmd") ;; esac; done
    mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)
    apk add --no-cache "${pkgs[@]}" </dev/null
  else
    die "missing ${missing[*]}, and no apt-get, dnf or apk to install them with; install them, or set OPENWEBUI_SKIP_PACKAGES=1"
  fi
  changed "installed packages: ${pkgs[*]}"
}

ensure_dirs() {
  local i dir
  for i in "${!DIR_PATHS[@]}"; do
    dir=$(at "${DIR_PATHS[$i]}")
    [[ -d "$dir" ]] && continue
    mkdir -p -- "$dir"
    chmod "${DIR_MODES[$i]}" -- "$dir"
    set_owner "$dir"
    changed "created ${DIR_PATHS[$i]}/"
  done
}

remove_stale() {
  local path
  while IFS= read -r path; do
    in_manifest "$path" && continue
    remove_installed "$path"
  done < <(installed_paths)
}

# install_file <index>: writes one manifest entry unless it is already exactly in place.
install_file() {
  local path=${FILE_PATHS[$1]} mode=${FILE_MODES[$1]} sum=${FILE_SHA256[$1]} dest dir tmp
  dest=$(at "$path")
  if [[ -f "$dest" && ! -L "$dest" ]] && [[ "$(sha256_of "$dest")" == "$sum" && "$(stat -c %a -- "$dest")" == "$mode" ]] && owner_ok "$dest"; then
    return 0
  fi
  dir=$(dirname -- "$dest")
  mkdir -p -- "$dir"
  # mktemp creates the file 0600: credentials are never readable by others, not even briefly.
  tmp=$(mktemp -- "$dir/.openwebui-install.XXXXXX")
  TEMP_FILES+=("$tmp")
  file_content "$1" >"$tmp"
  [[ "$(sha256_of "$tmp")" == "$sum" ]] || die "the payload of $path does not match its sha256 in the manifest"
  chmod "$mode" -- "$tmp"
  set_owner "$tmp"
  mv -f -- "$tmp" "$dest"
  changed "wrote $path (mode $mode)"
  if [[ "$path" == "$SYSTEMD_UNIT_DIR"/* ]]; then
    UNITS_CHANGED=1
    if [[ "$path" == *.timer ]]; then CHANGED_TIMERS+=("$(basename -- "$path")"); fi
  fi
  return 0
}

write_installed_list() {
  local list tmp i
  list=$(at "$INSTALLED_LIST")
  mkdir -p -- "$(dirname -- "$list")"
  tmp=$(mktemp -- "$list.XXXXXX")
  TEMP_FILES+=("$tmp")
  for i in "${!FILE_PATHS[@]}"; do printf '%s %s %s\n' "${FILE_MODES[$i]}" "${FILE_SHA256[$i]}" "${FILE_PATHS[$i]}"; done >"$tmp"
  if [[ -f "$list" ]] && cmp -s -- "$tmp" "$list"; then return 0; fi
  chmod 600 -- "$tmp"
  mv -f -- "$tmp" "$list"
}

start_timers() {
  local t
  if [[ -n "${UNITS_CHANGED:-}" ]]; then systemctl_run daemon-reload; fi
  if [[ -n "$TMPFILES_PATH" ]] && on_host && command -v systemd-tmpfiles >/dev/null 2>&1; then
    systemd-tmpfiles --create "$TMPFILES_PATH"
  fi
  for t in "${CHANGED_TIMERS[@]}"; do
    # A running timer keeps its old schedule until restarted.
    if systemctl_run is-active --quiet "$t"; then systemctl_run restart "$t"; fi
  done
  for t in "${TIMERS[@]}"; do
    if systemctl_run is-enabled --quiet "$t" && systemctl_run is-active --quiet "$t"; then continue; fi
    systemctl_run enable --now "$t"
    changed "enabled and started $t"
  done
}

main() {
  local i
  UNITS_CHANGED="" CHANGED_TIMERS=()
  if on_host && [[ "$(id -u)" != 0 ]]; then die "run as root (it writes /etc and /usr/local)"; fi
  ensure_packages
  ensure_dirs
  remove_stale
  for i in "${!FILE_PATHS[@]}"; do install_file "$i"; done
  write_installed_list
  start_timers
  summary
}

main "$@"
