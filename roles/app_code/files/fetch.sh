#!/bin/bash
# Fetch the branches and tags of a repository into the bare cache (made when missing): only new
# objects are transferred, refs deleted upstream are pruned. Prints "cache created" and/or "refs
# updated" when something changed, and what it did with the deploy key (below), nothing else. Runs
# as root; the cache and the key belong to root.
#
# Environment: APP_CODE_CACHE     the bare repository (<root>/repo.git)
#              APP_CODE_KEY_FILE  where the deploy key lives while git uses it (its directory exists)
#              APP_CODE_KEEP_KEY  "true": the key stays after the fetch ("deploy key installed" when
#                                 this run wrote it); otherwise it is removed when the script ends,
#                                 fetch failed or not ("deploy key removed" when an earlier run had
#                                 kept one: the host changed; a key that only lived meanwhile did not)
# Stdin:       the repository URL on the first line (not in the environment: it may hold a password),
#              then the deploy key, if any. Without a key, a key an earlier run kept is removed.
set -euo pipefail
cache=${APP_CODE_CACHE:?}
key_file=${APP_CODE_KEY_FILE:?}
keep=${APP_CODE_KEEP_KEY:-false}
IFS= read -r repo || true
[ -n "$repo" ] || { echo "fetch.sh: no repository URL on stdin" >&2; exit 2; }
key=$(cat)

key_before=false
[ -e "$key_file" ] && key_before=true
key_written=false
if [ -n "$key" ]; then
  [ "$keep" = true ] || trap 'rm -f -- "$key_file"' EXIT
  if [ "$key_before" != true ] || [ "$(stat -c '%a %U %G' "$key_file")" != "600 root root" ] \
      || [ "$(cat "$key_file")" != "$key" ]; then
    (umask 077 && printf '%s\n' "$key" > "$key_file.tmp")
    chown root:root "$key_file.tmp"
    mv -f "$key_file.tmp" "$key_file"
    key_written=true
  fi
elif [ "$key_before" = true ]; then
  rm -f -- "$key_file"
fi

created=false
if [ ! -f "$cache/HEAD" ]; then
  git -c init.defaultBranch=main init --quiet --bare "$cache"
  created=true
fi

refs() { git --git-dir="$cache" for-each-ref --format='%(objectname) %(refname)'; }
before=$(refs)
# Branches and tags only (no refs/pull/* as --mirror would bring); the URL is not stored in the cache.
git --git-dir="$cache" fetch --prune --quiet "$repo" '+refs/heads/*:refs/heads/*' '+refs/tags/*:refs/tags/*'
# Said only after a successful fetch, so that a failure's output is git's and ssh's alone.
if [ "$created" = true ]; then
  echo "cache created"
fi
if [ "$before" != "$(refs)" ]; then
  echo "refs updated"
fi
if [ -n "$key" ] && [ "$keep" = true ]; then
  [ "$key_written" != true ] || echo "deploy key installed"
elif [ "$key_before" = true ]; then
  echo "deploy key removed"
fi
