#!/bin/bash
# Make a release: export one commit of the cache into a temporary directory owned by the app user,
# write REVISION, then rename the complete directory to its release name (one rename(2)), so that
# nothing that looks like a release exists before it is complete. On failure the caller removes
# the temporary directory.
#
# Environment: APP_CODE_CACHE    the bare repository cache
#              APP_CODE_SHA      the full commit sha
#              APP_CODE_USER, APP_CODE_GROUP   owner of the release
#              APP_CODE_BUILD    the temporary directory (<root>/releases/.tmp-<name>)
#              APP_CODE_RELEASE  the release directory (<root>/releases/<name>)
set -euo pipefail
cache=${APP_CODE_CACHE:?}
sha=${APP_CODE_SHA:?}
user=${APP_CODE_USER:?}
group=${APP_CODE_GROUP:?}
build=${APP_CODE_BUILD:?}
release=${APP_CODE_RELEASE:?}

install -d -o "$user" -g "$group" -m 0755 "$build"
# git archive: the tree only, no .git (small, immutable); tar unpacks as the app user.
git --git-dir="$cache" -c tar.umask=0022 archive --format=tar "$sha" |
  runuser -u "$user" -- tar -x -f - -C "$build"
printf '%s\n' "$sha" >"$build/REVISION"
chown "$user:$group" "$build/REVISION"
chmod 0644 "$build/REVISION"
mv -T -- "$build" "$release"
