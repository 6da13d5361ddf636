#!/bin/bash
# Fetch the branches and tags of a repository into the bare cache (made when missing): only new
# objects are transferred, refs deleted upstream are pruned. Prints "cache created" and/or "refs
# updated" when something changed, nothing else. Runs as root; the cache belongs to root.
#
# Environment: APP_CODE_CACHE  the bare repository (<root>/repo.git)
# Stdin:       the repository URL (not in the environment: it may hold a password)
set -euo pipefail
cache=${APP_CODE_CACHE:?}
IFS= read -r repo || true
[ -n "$repo" ] || { echo "fetch.sh: no repository URL on stdin" >&2; exit 2; }

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
