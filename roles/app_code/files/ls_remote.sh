#!/bin/bash
# Check mode: print the commit app_code_version names in the repository now, without fetching
# anything (the cache stays as it is): a tag's commit, else a branch's; a full sha when a branch or
# tag points at it. Prints nothing otherwise (the cache is then asked, as a real run would after
# its fetch). The deploy key (on stdin) and the known_hosts lines are in a temporary directory (0700)
# only while git runs: check mode writes neither where a real run keeps them.
#
# Arguments:   the repository URL, the version, and "key" when the deploy key comes on stdin
# Environment: GIT_SSH_COMMAND       ssh with the role's options (batch mode, host key checking)
#              APP_CODE_KNOWN_HOSTS  known_hosts lines for the repository's SSH server ("" = the host's)
set -euo pipefail
repo=${1:?repository}
version=${2:?version}

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT
ssh_command=${GIT_SSH_COMMAND:-ssh}
if [ -n "${APP_CODE_KNOWN_HOSTS:-}" ]; then
  printf '%s\n' "$APP_CODE_KNOWN_HOSTS" >"$tmp/known_hosts"
  ssh_command+=" -o UserKnownHostsFile=$tmp/known_hosts"
fi
if [ "${3:-}" = key ]; then
  (umask 077 && cat >"$tmp/deploy_key")
  ssh_command+=" -o IdentitiesOnly=yes -i $tmp/deploy_key"
fi
export GIT_SSH_COMMAND=$ssh_command

refs=$(git ls-remote --heads --tags -- "$repo")
# The order git rev-parse follows: a tag (the commit of an annotated one) before a branch.
for ref in "refs/tags/$version^{}" "refs/tags/$version" "refs/heads/$version"; do
  sha=$(awk -v ref="$ref" '$2 == ref {print $1; exit}' <<<"$refs")
  if [ -n "$sha" ]; then
    echo "$sha"
    exit 0
  fi
done
if [[ $version =~ ^[0-9a-f]{40}$ ]] && awk -v sha="$version" '$1 == sha {found = 1} END {exit !found}' <<<"$refs"; then
  echo "$version"
fi
