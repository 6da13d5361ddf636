#!/usr/bin/env bash
# The demo: a local systemd container as "the server", provisioned by site.yml with the example
# project from a git repository, served over HTTPS on 127.0.0.1, then a smoke check.
# Usage: tools/demo.sh up|down   (make demo / make demo-clean)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
export CONTAINERS_CONF="$here/.config/containers.conf"
export ANSIBLE_CONFIG="$here/ansible.cfg"
export PATH="$here/.venv/bin:$PATH"

container=djangoops-demo
state="${DJANGOOPS_CACHE:-$HOME/.cache/djangoops}/demo"
https_port=${DEMO_HTTPS_PORT:-8443}
http_port=${DEMO_HTTP_PORT:-8080}

down() {
  podman rm -f -t 5 "$container" >/dev/null 2>&1 || true
  rm -rf "$state"
  echo "demo removed (container $container, $state)"
}

up() {
  mkdir -p "$state"
  # The app's repository, as a server would fetch it: a bare clone of this project's committed main.
  if [ -d "$state/repo.git" ]; then
    git -C "$state/repo.git" fetch -q --prune "$here" '+refs/heads/*:refs/heads/*'
  else
    git clone -q --bare "$here" "$state/repo.git"
  fi
  if ! podman container exists "$container"; then
    podman run -d --name "$container" --hostname demo \
      --systemd=always --privileged \
      -p "127.0.0.1:$http_port:80" -p "127.0.0.1:$https_port:443" \
      -v "$state/repo.git:/srv/git/demo.git:ro" \
      -v "$HOME/.cache/djangoops/apt-debian12:/var/cache/apt/archives:O" \
      localhost/djangoops-debian12:latest /sbin/init >/dev/null
    echo "started container $container"
  elif [ "$(podman inspect -f '{{.State.Running}}' "$container")" != true ]; then
    podman start "$container" >/dev/null
  fi
  for _ in $(seq 1 30); do
    podman exec "$container" systemctl is-system-running --wait >/dev/null 2>&1 && break
    sleep 1
  done

  # The published ports: redirects and the CSRF origin name them (inventory/demo has the defaults).
  ansible-playbook -i inventory/demo site.yml \
    -e "{\"nginx_https_public_port\": $https_port, \"app_extra_csrf_trusted_origins\": [\"https://localhost:$https_port\"]}"

  echo
  echo "The demo site: https://localhost:$https_port/  (self-signed certificate; admin: /admin/, user 'admin',"
  echo "password in inventory/demo/group_vars/all.yml)"
  echo "Smoke check:"
  local failed=0 code location
  for path in / /healthz "$(static_path)"; do
    code=$(curl -sk -o /dev/null -w '%{http_code}' "https://localhost:$https_port$path")
    printf '  %-60s %s\n' "https://localhost:$https_port$path" "$code"
    [ "$code" = 200 ] || failed=1
  done
  # Plain HTTP on the published port redirects to HTTPS on the published port.
  location=$(curl -s -o /dev/null -w '%{redirect_url}' "http://localhost:$http_port/healthz")
  printf '  %-60s -> %s\n' "http://localhost:$http_port/healthz" "$location"
  [ "$location" = "https://localhost:$https_port/healthz" ] || failed=1
  if [ "$failed" -ne 0 ]; then
    echo "demo: the smoke check failed (expected 200 for each page and a redirect to port $https_port)" >&2
    exit 1
  fi
}

# One hashed static file the home page links to.
static_path() {
  curl -sk "https://localhost:$https_port/" | grep -o '/static/[^"]*\.css' | head -n 1
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
