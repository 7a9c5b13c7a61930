# ------------------------------------------------------------------ uninstall
# Stops the timers and removes every file the last install wrote, then its own list.
# Backups, state, staging and logs stay: they are data, not installation.

main() {
  local path units=""
  while IFS= read -r path; do
    disable_timer "$path"
    if [[ -e "$(at "$path")" || -L "$(at "$path")" ]]; then
      rm -f -- "$(at "$path")"
      changed "removed $path"
      if [[ "$path" == "$SYSTEMD_UNIT_DIR"/* ]]; then units=1; fi
    fi
  done < <(installed_paths)
  if [[ -f "$(at "$INSTALLED_LIST")" ]]; then rm -f -- "$(at "$INSTALLED_LIST")"; fi
  if [[ -n "$units" ]]; then systemctl_run daemon-reload; fi
  summary
}

main "$@"
