#!/bin/sh
# Run inside a test container before it is destroyed (.config/molecule/cleanup.yml): copy the .deb
# files it downloaded into the shared apt cache mounted at /var/cache/apt-shared, each by an atomic
# rename, keeping files already there. Prints copied=<count>.
set -eu
[ -d /var/cache/apt-shared ] || { echo "copied=0"; exit 0; }
copied=0
for deb in /var/cache/apt/archives/*.deb; do
  [ -e "$deb" ] || continue
  name=$(basename "$deb")
  [ -e "/var/cache/apt-shared/$name" ] && continue
  cp "$deb" "/var/cache/apt-shared/.$name.tmp" && mv "/var/cache/apt-shared/.$name.tmp" "/var/cache/apt-shared/$name"
  copied=$((copied + 1))
done
echo "copied=$copied"
