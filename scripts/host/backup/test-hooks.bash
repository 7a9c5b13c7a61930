# Part: test hooks. Points where the fault tests stop the command to kill it there; inert on a host.

# test_hold <point>: only when OPENWEBUI_BACKUP_TEST_HOLD names this point (the fault tests set
# it; nothing on a host does): writes the pid to $OPENWEBUI_BACKUP_TEST_HOLD_FILE and waits
# until the test kills the command or creates that file's ".release" companion.
test_hold() {
  [[ "${OPENWEBUI_BACKUP_TEST_HOLD:-}" == "$1" ]] || return 0
  local marker=${OPENWEBUI_BACKUP_TEST_HOLD_FILE:?OPENWEBUI_BACKUP_TEST_HOLD needs OPENWEBUI_BACKUP_TEST_HOLD_FILE}
  printf '%s\n' "$$" >"$marker.tmp"
  mv -f -- "$marker.tmp" "$marker"
  while [[ ! -e "$marker.release" ]]; do sleep 0.05; done
}
