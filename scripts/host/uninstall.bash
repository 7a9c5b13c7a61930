# ------------------------------------------------------------------ uninstall
# Stops the timers and removes every file the last install wrote, then its own list.
# Backups, state, staging and logs stay: they are data, not installation.

main() {
  local path
  UNITS_CHANGED=""
  while IFS= read -r path; do remove_installed "$path"; done < <(installed_paths)
  if [[ -f "$(at "$INSTALLED_LIST")" ]]; then rm -f -- "$(at "$INSTALLED_LIST")"; fi
  if [[ -n "$UNITS_CHANGED" ]]; then systemctl_run daemon-reload; fi
  summary
}

main "$@"
