# Part: hashes. A sha256 of every file of a backup, and the check of a restored tree against them.

# The list is files.sha256 in sha256sum's own format, paths relative to data/, kept next to
# manifest.json, which records the list's own sha256 (filesSha256) and goes up last. So a
# copy can also be checked by hand: cd data && sha256sum -c ../files.sha256. A restore fetches
# it beside the restored tree as <dir>.files.sha256, like <dir>.manifest.json.
readonly HASHES=files.sha256
# How many file names a failed check names before it only counts them.
readonly CHECK_NAMES_SHOWN=10

# hash_cache <name>: a cache of sha256s under the state directory ("<job>" for the staged
# tree, "<job>@<target>" for the copies a target keeps on this host).
hash_cache() { printf '%s/hashes/%s.sha256cache' "$OWB_STATE_DIR" "$1"; }

# hash_list_of <manifest>: the path of the hash list that belongs to a manifest:
# <dir>/manifest.json -> <dir>/files.sha256, <dest>.manifest.json -> <dest>.files.sha256.
hash_list_of() { printf '%s%s' "${1%"$MANIFEST"}" "$HASHES"; }

# sha256_of <file>: the file's sha256, hex.
sha256_of() { sha256sum <"$1" | cut -c1-64; }

# The cache: NUL-terminated records "<path>\2<size> <mtime> <dev:inode>\1<sha256>", sorted.
# \1 and \2 split the fields and sort below every byte of a path, so a plain sort orders records
# by their key (the file stays sorted: earlier versions read it with join). Only paths that
# sha256sum prints as they are (no backslash, newline or carriage return) and that hold neither
# \1 nor \2 are cached; the rare others are read every time.
readonly S1=$'\001' S2=$'\002'

# hash_tree <tree> [<cache file> <origin dir>]: sha256sum lines for every file under <tree>,
# sorted by path. Without a cache every file is read. With one, a file keeps the sha256 the
# cache recorded when its origin (the same path under <origin dir>) still has the size, mtime,
# device and inode recorded with it, and the file itself still has its origin's size and
# mtime: a copy taken while its origin changed keeps the older mtime, so it is read, and
# never cached. Any other file, and every database (a fresh copy each run), is read, by as few
# sha256sum processes as xargs needs; the cache is then rewritten. Staged files are hard links
# to, or copies of, the data directory's files, so <origin dir> is the data directory for a
# staged tree and the tree itself for a copy a target keeps here.
hash_tree() {
  local tree=$1 cache=${2:-} origin=${3:-} work
  work=$(mktemp -d "${TMPDIR:-/tmp}/openwebui-backup-hash.XXXXXX")
  CLEANUP_DIRS+=("$work")
  if ! hash_tree_steps "$tree" "$cache" "$origin" "$work"; then
    rm -rf -- "$work"
    return 1
  fi
  rm -rf -- "$work"
}

hash_tree_steps() {
  local tree=$1 cache=$2 origin=$3 work=$4 cached counts read_count reused_count
  # "<path>\0<size> <mtime>\0" of every file under the tree and, for the cache, its origin's
  # "<path>\0<size> <mtime> <dev:inode>\0".
  (cd -- "$tree" && find . -type f -printf '%P\0%s %T@\0') >"$work/tree" || return 1
  : >"$work/origin"
  if [[ -n "$cache" ]]; then
    (cd -- "$origin" && find . -type f -printf '%P\0%s %T@ %D:%i\0') >"$work/origin" || return 1
  fi
  sqlite_files
  printf '%s\0' "${SQLITE_FILES[@]}" >"$work/databases"
  cached=$cache
  [[ -f "$cached" ]] || cached=/dev/null
  : >"$work/ids"
  : >"$work/reused"
  : >"$work/todo"
  # A file keeps its cached sha256 ("<sha256>  <path>" into reused) when the cache holds it under
  # its key, "<path>\2<size> <mtime> <dev:inode>" (its own size and mtime, which its origin has
  # too, and the origin's inode); keys go to ids for the new cache. Every other file goes to todo.
  counts=$(awk -v S1="$S1" -v S2="$S2" -v work="$work" '
    BEGIN { RS = "\0"; reused = 0; todo = 0 }
    FILENAME == ARGV[1] { database[$0] = 1; next }
    FILENAME == ARGV[2] { i = index($0, S1); if (i) cached[substr($0, 1, i - 1)] = substr($0, i + 1); next }
    FILENAME == ARGV[3] { if (FNR % 2) p = $0; else from[p] = $0; next }
    FNR % 2 { p = $0; next }
    {
      if ((p in from) && index(from[p], $0 " ") == 1 && cacheable(p)) {
        key = p S2 from[p]
        print key >(work "/ids")
        if (key in cached) { print cached[key] "  " p >(work "/reused"); reused++; next }
      }
      printf "%s%c", p, 0 >(work "/todo")
      todo++
    }
    # Names that sha256sum prints as they are, without the separators of the cache; no database.
    function cacheable(p) { return !(p in database) && !index(p, "\\") && !index(p, "\n") && !index(p, "\r") && !index(p, S1) && !index(p, S2) }
    END { print todo, reused }' "$work/databases" "$cached" "$work/origin" "$work/tree") || return 1
  read -r read_count reused_count <<<"$counts"
  # Every other file is read; sha256sum prints one line a file, escaping odd names.
  (cd -- "$tree" && xargs -0 -r sha256sum --) <"$work/todo" >"$work/read" || return 1
  [[ "$(wc -l <"$work/read")" == "$read_count" ]] || return 1
  # Sorted by path: with ' ' as the separator, key 2 is "" and then " <path>".
  sort -t ' ' -k2 -- "$work/reused" "$work/read" || return 1
  [[ -n "$cache" ]] || return 0
  # The new cache: "<key>\1<sha256>" for each key in ids, sorted; a line sha256sum escaped is
  # not cached.
  awk -v S1="$S1" -v S2="$S2" '
    FILENAME == ARGV[1] { if (!/^\\/) sha[substr($0, 67)] = substr($0, 1, 64); next }
    FILENAME == ARGV[2] { sha[substr($0, 67)] = substr($0, 1, 64); next }
    { p = substr($0, 1, index($0, S2) - 1); if (p in sha) printf "%s%s%s%c", $0, S1, sha[p], 0 }' "$work/read" "$work/reused" "$work/ids" |
    sort -z >"$work/cache" || return 1
  mkdir -p -- "${cache%/*}"
  mv -f -- "$work/cache" "$cache.new" && mv -f -- "$cache.new" "$cache" || return 1
  log "sha256: $((read_count + reused_count)) files, $read_count read, $reused_count unchanged since they were last hashed"
}

# record_hashes <data dir> <stage dir>: the staged tree's hash list, reading only what changed.
record_hashes() {
  local data=$1 stage_dir=$2
  hash_tree "$stage_dir/data" "$(hash_cache "$JOB")" "$data" >"$stage_dir/$HASHES" || die "could not hash the staged files"
}

# check_tree <dir> <manifest> [<cache>]: every file under <dir> against the backup's hash
# list (found beside the manifest); the cache, for a copy kept on this host, spares reading
# files already checked. A backup made before hash lists existed is only warned about: the
# databases' integrity check is then all that stands.
check_tree() {
  local dir=$1 manifest=$2 cache=${3:-} hashes expected
  hashes=$(hash_list_of "$manifest")
  expected=$(manifest_field "$manifest" filesSha256)
  if [[ -z "$expected" ]]; then
    log "warning: this backup records no file hashes (made before they were added); only the databases' integrity is checked"
    return 0
  fi
  [[ -f "$hashes" ]] || { log "file check FAILED: the backup's $HASHES is missing"; return 1; }
  [[ "$(sha256_of "$hashes")" == "$expected" ]] || { log "file check FAILED: the backup's $HASHES is damaged (its sha256 is not the one in the manifest)"; return 1; }
  compare_tree "$dir" "$hashes" "$cache"
}

# compare_tree <dir> <hash list> [<cache>]: fails on a file whose sha256 differs, a listed file
# that is missing and a file the list does not name; logs the first CHECK_NAMES_SHOWN names.
compare_tree() {
  local dir=$1 hashes=$2 cache=${3:-} work recorded line differ=0 missing=0 extra=0
  local -a problems
  work=$(mktemp -d "${TMPDIR:-/tmp}/openwebui-backup-check.XXXXXX")
  CLEANUP_DIRS+=("$work")
  if ! hash_tree "$dir" "$cache" "$dir" >"$work/found"; then
    log "file check FAILED: could not read every file under $dir"
    rm -rf -- "$work"
    return 1
  fi
  # A name (as sha256sum prints it, escaped) whose line is on both sides but not the same
  # differs; on one side only, it is missing or not in the backup. Each problem is written as
  # "<1|2|3> <what>: <name>", so that sorted they list what differs, then what is missing, then
  # what is extra, each by name. Prints how many files the list records.
  : >"$work/problems"
  recorded=$(awk -v out="$work/problems" '
    function name(line) { if (substr(line, 1, 1) == "\\") line = substr(line, 2); return substr(line, 67) }
    FILENAME == ARGV[1] { listed[name($0)] = $0; total++; next }
    {
      n = name($0)
      if (!(n in listed)) print "3 not in the backup: " n >out
      else { if (listed[n] != $0) print "1 differs: " n >out; delete listed[n] }
    }
    END { for (n in listed) print "2 missing: " n >out; print total + 0 }' "$hashes" "$work/found") || {
    log "file check FAILED: could not compare the files with $hashes"
    rm -rf -- "$work"
    return 1
  }
  sort -o "$work/problems" -- "$work/problems"
  mapfile -t problems <"$work/problems"
  rm -rf -- "$work"
  if ((${#problems[@]} == 0)); then
    log "file check: all $recorded files match their recorded sha256"
    return 0
  fi
  for line in "${problems[@]}"; do
    case ${line%% *} in
      1) differ=$((differ + 1)) ;;
      2) missing=$((missing + 1)) ;;
      *) extra=$((extra + 1)) ;;
    esac
  done
  log "file check FAILED: $differ differ, $missing missing, $extra not in the backup, of $recorded recorded files"
  for line in "${problems[@]:0:CHECK_NAMES_SHOWN}"; do log "  ${line#* }"; done
  ((${#problems[@]} <= CHECK_NAMES_SHOWN)) || log "  … and $((${#problems[@]} - CHECK_NAMES_SHOWN)) more"
  return 1
}

# fetch_hash_list <rclone folder> <dest>: the backup's hash list beside a restored tree, when
# the backup has one; whether it must have one is check_tree's decision, from the manifest.
fetch_hash_list() {
  rclone copyto "$1/$HASHES" "$2.$HASHES" 2>/dev/null || rm -f -- "$2.$HASHES"
}
