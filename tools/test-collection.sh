#!/usr/bin/env bash
# The collection as another project consumes it: build it with ansible-galaxy, install the tarball
# into a temporary collections path, check the site playbooks and a consumer's playbook through it by
# their fully qualified names (from a directory with no roles/, no ansible.cfg and no link to this
# checkout), then run the `collection` Molecule scenario against the installed build.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export ANSIBLE_COLLECTIONS_PATH="$work/collections" ANSIBLE_ROLES_PATH="$work/no-roles"
export ANSIBLE_CONFIG="$work/ansible.cfg"
printf '[defaults]\n' >"$ANSIBLE_CONFIG"
mkdir -p "$work/project"
cd "$work/project"

ansible-galaxy collection build --output-path "$work/dist" "$here"
# The dependencies (galaxy.yml) come with the `ansible` package here; Galaxy is not needed.
ansible-galaxy collection install --offline --no-deps "$work"/dist/djangoops-django-*.tar.gz

for playbook in site deploy rollback; do
  ansible-playbook --syntax-check -i "$here/inventory/example/hosts-split.yml" "djangoops.django.$playbook"
done

cat >consumer.yml <<'PLAYBOOK'
---
- name: Someone else's project, calling roles of the collection by their full names
  hosts: all
  roles:
    - role: djangoops.django.postgresql
    - role: djangoops.django.nginx
PLAYBOOK
ansible-playbook --syntax-check -i localhost, consumer.yml
# The roles' documentation comes from their argument specs in the installed build.
doc=$(ANSIBLE_NOCOLOR=1 ansible-doc -t role djangoops.django.nginx)
grep -F "ENTRY POINT: *main* - nginx in front of a Django site" <<<"$doc"
# The site's input contract is documented from the same spec the preflight validates with.
doc=$(ANSIBLE_NOCOLOR=1 ansible-doc -t role djangoops.django.app)
grep -F "app_domains" <<<"$doc"
grep -F "ENTRY POINT: *main* - The site's input contract" <<<"$doc"

cd "$here"
export CONTAINERS_CONF="$here/.config/containers.conf"
unset ANSIBLE_CONFIG ANSIBLE_ROLES_PATH
DJANGOOPS_COLLECTIONS_PATH="$work/collections" molecule test -s collection
