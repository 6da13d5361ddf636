#!/usr/bin/env bash
# The floor `make bench` (tools/bench.py) measures the playbooks against: the same end state made by a
# plain script, with no checks, no idempotence and no rollback. Run as root inside a fresh test container:
#   podman cp tools/bench.floor.sh <container>:/usr/local/sbin/bench-floor
#   podman exec -e BENCH_DB_PASSWORD=... <container> bash /usr/local/sbin/bench-floor cold|deploy
# cold:   what site.yml installs (the same Debian packages), the firewall (nftables: SSH, HTTP and HTTPS
#         in, the rest dropped), PostgreSQL with TLS (a CA and a server certificate it signs), the role's
#         memory settings and pg_hba.conf (a restart), the app user and directories, a bare cache of the
#         repository, a release, a virtualenv with the pinned pip, setuptools and wheel and the requirements,
#         the database and its owner, the environment file, migrate, collectstatic, the admin user, Gunicorn
#         under systemd, a self-signed certificate, nginx in front; then /healthz answers with the release's sha.
# deploy: the commit app_version names now, into a new release with the existing virtualenv (requirements
#         unchanged), migrate, collectstatic, `current` switched with `mv -T`, Gunicorn reloaded (HUP);
#         then /healthz answers with the new sha, as the playbook's health check requires.
set -euo pipefail

app=${BENCH_APP:-notes}
repo=${BENCH_REPO:-file:///srv/git/bench.git}
version=${BENCH_VERSION:-main}
domain=${BENCH_DOMAIN:-localhost}
project_dir=${BENCH_PROJECT_DIR:-example}
settings=${BENCH_SETTINGS_MODULE:-mysite.settings}
db_password=${BENCH_DB_PASSWORD:?BENCH_DB_PASSWORD is required}
# The versions python_venv installs into a virtualenv before the requirements (tools/bench.py reads its defaults).
pip_pins=${BENCH_PIP_PINS:-}
admin_password=${BENCH_ADMIN_PASSWORD:-$db_password}
root=/srv/$app
cache=$root/repo.git
socket=/run/$app/gunicorn.sock
export DEBIAN_FRONTEND=noninteractive

# A new release of the commit $version names in the cache: exported, owned by the app user.
make_release() {
  local sha release
  sha=$(git --git-dir="$cache" rev-parse "$version^{commit}")
  release=$root/releases/$(date -u +%Y%m%dT%H%M%S)-${sha:0:12}
  install -d -o "$app" -g "$app" "$release"
  git --git-dir="$cache" archive "$sha" | runuser -u "$app" -- tar -x -C "$release"
  echo "$sha" >"$release/REVISION"
  echo "$release"
}

# The release's virtualenv, by the hash of its requirements file (made here when missing).
venv_of() {
  echo "$root/venvs/$(sha256sum "$1/$project_dir/requirements.txt" | cut -c1-16)"
}

# manage.py as the app user, in the release, with the environment file.
manage() {
  local release=$1
  shift
  (
    set -a
    # shellcheck disable=SC1090
    . "/etc/$app/env"
    set +a
    cd "$release/$project_dir"
    runuser -u "$app" -- "$release/.venv/bin/python" manage.py "$@"
  )
}

# The switch: a new link renamed over `current` (atomic).
activate() {
  ln -sfn "$1" "$root/current.new"
  mv -T "$root/current.new" "$root/current"
}

# /healthz through Gunicorn's socket must answer 200 with the release's sha (20 s at most).
wait_healthy() {
  python3 - "$socket" "$domain" "$(cat "$1/REVISION")" <<'EOF'
import http.client, socket, sys, time
path, host, sha = sys.argv[1:]
for _ in range(80):
    try:
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(path)
        conn = http.client.HTTPConnection(host)
        conn.sock = sock
        conn.request("GET", "/healthz", headers={"Host": host, "X-Forwarded-Proto": "https"})
        response = conn.getresponse()
        if response.status == 200 and sha in response.read().decode():
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.25)
sys.exit("/healthz did not answer with " + sha)
EOF
}

# The firewall role's ruleset, in short: SSH, HTTP and HTTPS in, loopback, ping and what IPv6 needs; the rest dropped.
firewall() {
  cat >/etc/nftables.conf <<'EOF'
#!/usr/sbin/nft -f
table inet bench
delete table inet bench
table inet bench {
	chain input {
		type filter hook input priority filter; policy drop;
		tcp dport 22 accept
		ct state established,related accept
		ct state invalid drop
		iif "lo" accept
		icmp type echo-request accept
		icmpv6 type { echo-request, mld-listener-query } accept
		icmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept
		tcp dport { 80, 443 } accept
	}
}
EOF
  nft -c -f /etc/nftables.conf
  systemctl enable -q --now nftables.service
}

# What the postgresql role adds to Debian's cluster: TLS from a CA of its own, memory settings from the host's RAM,
# SCRAM for passwords, its pg_hba.conf; then the restart those settings need.
postgresql_tls() {
  local version dir ssl=/etc/postgresql/bench-ssl memory_mb
  version=$(ls /etc/postgresql)
  dir=/etc/postgresql/$version/main
  install -d -m 0755 "$ssl"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=$app PostgreSQL CA" -keyout "$ssl/ca.key" -out "$ssl/ca.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=localhost" \
    -keyout "$ssl/server.key" -out "$ssl/server.csr" 2>/dev/null
  openssl x509 -req -in "$ssl/server.csr" -CA "$ssl/ca.crt" -CAkey "$ssl/ca.key" -CAcreateserial -days 825 \
    -extfile <(echo "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1") -out "$ssl/server.crt" 2>/dev/null
  chown postgres:postgres "$ssl/server.key" "$ssl/server.crt"
  chmod 0600 "$ssl/server.key" "$ssl/ca.key"
  memory_mb=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024))
  cat >"$dir/conf.d/50-bench.conf" <<EOF
listen_addresses = 'localhost'
shared_buffers = '$((memory_mb / 4 < 8192 ? memory_mb / 4 : 8192))MB'
effective_cache_size = '$((memory_mb * 3 / 4))MB'
password_encryption = 'scram-sha-256'
ssl = on
ssl_cert_file = '$ssl/server.crt'
ssl_key_file = '$ssl/server.key'
EOF
  cat >"$dir/pg_hba.conf" <<EOF
local all postgres peer
local all all peer
hostssl $app $app 127.0.0.1/32 scram-sha-256
hostssl $app $app ::1/128 scram-sha-256
EOF
  systemctl restart postgresql
}

cold() {
  apt-get update -qq
  # The packages site.yml installs, with the same choice of recommends per role.
  apt-get install -y -qq nftables postgresql python3-psycopg2 nginx python3-cryptography >/dev/null
  apt-get install -y -qq --no-install-recommends git openssh-client python3 python3-venv acl >/dev/null
  firewall
  postgresql_tls

  useradd --system --user-group --home-dir "$root" --shell /usr/sbin/nologin "$app"
  install -d -o "$app" -g "$app" "$root" "$root/releases" "$root/shared" "$root/shared/static" \
    "$root/shared/media" "$root/venvs"
  git -c init.defaultBranch=main init -q --bare "$cache"
  git --git-dir="$cache" fetch -q "$repo" '+refs/heads/*:refs/heads/*' '+refs/tags/*:refs/tags/*'
  local release venv
  release=$(make_release)

  venv=$(venv_of "$release")
  runuser -u "$app" -- python3 -m venv "$venv"
  if [ -n "$pip_pins" ]; then
    # shellcheck disable=SC2086
    runuser -u "$app" -- "$venv/bin/pip" install -q --disable-pip-version-check $pip_pins
  fi
  runuser -u "$app" -- "$venv/bin/pip" install -q --disable-pip-version-check -r "$release/$project_dir/requirements.txt"
  ln -s "$venv" "$release/.venv"

  runuser -u postgres -- psql -q -c "CREATE ROLE \"$app\" LOGIN PASSWORD '$db_password'"
  runuser -u postgres -- createdb -O "$app" "$app"

  install -d -m 0755 "/etc/$app"
  install -m 0640 -g "$app" /dev/null "/etc/$app/env"
  cat >"/etc/$app/env" <<EOF
SECRET_KEY="$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')"
DEBUG="false"
DJANGO_SETTINGS_MODULE="$settings"
DATABASE_URL="postgres://$app:$db_password@localhost:5432/$app"
ALLOWED_HOSTS="$domain"
CSRF_TRUSTED_ORIGINS="https://$domain"
STATIC_ROOT="$root/shared/static"
MEDIA_ROOT="$root/shared/media"
EOF

  manage "$release" migrate --noinput >/dev/null
  manage "$release" collectstatic --noinput >/dev/null
  DJANGO_SUPERUSER_PASSWORD=$admin_password manage "$release" createsuperuser --noinput \
    --username admin --email admin@localhost >/dev/null
  activate "$release"

  # Gunicorn: the same worker count as the role's default; the config is re-read at every HUP.
  cat >"/etc/$app/gunicorn.conf.py" <<EOF
import os

chdir = "$root/current/$project_dir"
bind = ["unix:$socket"]
workers = 2 * len(os.sched_getaffinity(0)) + 1
with open("$root/current/REVISION", encoding="utf-8") as stream:
    raw_env = ["APP_GIT_SHA=" + stream.read().strip()]
control_socket_disable = True
EOF
  cat >"/etc/systemd/system/$app.service" <<EOF
[Service]
User=$app
Group=$app
EnvironmentFile=/etc/$app/env
RuntimeDirectory=$app
WorkingDirectory=$root/current/$project_dir
ExecStart=$root/current/.venv/bin/gunicorn --config /etc/$app/gunicorn.conf.py ${settings%%.*}.wsgi:application
ExecReload=/bin/sh -c 'kill -s HUP "\$\$MAINPID"'

[Install]
WantedBy=multi-user.target
EOF
  systemctl daemon-reload
  systemctl enable -q --now "$app.service"

  install -d -m 0755 "/etc/ssl/$app"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 90 -subj "/CN=$domain" \
    -addext "subjectAltName=DNS:$domain" -keyout "/etc/ssl/$app/privkey.pem" -out "/etc/ssl/$app/fullchain.pem" 2>/dev/null
  cat >"/etc/nginx/sites-available/$app" <<EOF
upstream ${app}_app {
    server unix:$socket fail_timeout=0;
}
server {
    listen 80;
    server_name $domain;
    return 301 https://\$host\$request_uri;
}
server {
    listen 443 ssl;
    server_name $domain;
    ssl_certificate /etc/ssl/$app/fullchain.pem;
    ssl_certificate_key /etc/ssl/$app/privkey.pem;
    location /static/ {
        alias $root/shared/static/;
    }
    location /media/ {
        alias $root/shared/media/;
    }
    location / {
        proxy_pass http://${app}_app;
        proxy_set_header Host \$host;
        proxy_set_header X-Forwarded-For \$remote_addr;
        proxy_set_header X-Forwarded-Proto \$scheme;
    }
}
EOF
  ln -sfn "../sites-available/$app" "/etc/nginx/sites-enabled/$app"
  rm -f /etc/nginx/sites-enabled/default
  nginx -t -q
  systemctl reload nginx
  wait_healthy "$release"
}

deploy() {
  git --git-dir="$cache" fetch -q --prune "$repo" '+refs/heads/*:refs/heads/*' '+refs/tags/*:refs/tags/*'
  local release venv
  release=$(make_release)
  venv=$(venv_of "$release")
  [ -x "$venv/bin/python" ] || { echo "the requirements changed: no virtualenv $venv" >&2; exit 1; }
  ln -s "$venv" "$release/.venv"
  manage "$release" migrate --noinput >/dev/null
  manage "$release" collectstatic --noinput >/dev/null
  activate "$release"
  systemctl reload "$app.service"
  wait_healthy "$release"
}

case "${1:-}" in
  cold) cold ;;
  deploy) deploy ;;
  *) echo "usage: $0 cold|deploy" >&2; exit 2 ;;
esac
