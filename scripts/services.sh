#!/usr/bin/env bash
# Starts the servers kiln's tests talk to, each only when nothing answers on its standard local
# port: Redis (6379), Mosquitto (1883), NATS with JetStream (4222), PostgreSQL (5432, with
# trust authentication for local connections and a database `test`) and MariaDB (3306, root
# without a password, a database `test`). Uses the Debian packages' binaries, installing them
# when they are missing; also installs the OCI registry (docker-registry), skopeo and htpasswd,
# which the registry tests start and call themselves.
set -euo pipefail

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {
    local name=$1 port=$2
    for _ in $(seq 1 100); do
        listening "$port" && return 0
        sleep 0.1
    done
    echo "$name did not start listening on 127.0.0.1:$port" >&2
    return 1
}

if ! listening 6379; then
    if ! command -v redis-server >/dev/null; then
        apt-get install -y -q redis-server >/dev/null
    fi
    mkdir -p /tmp/kiln-redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
        --dir /tmp/kiln-redis --logfile /tmp/kiln-redis/redis.log
    wait_for Redis 6379
fi

if ! listening 1883; then
    if ! command -v mosquitto >/dev/null; then
        apt-get install -y -q mosquitto >/dev/null
    fi
    mosquitto -d -p 1883
    wait_for Mosquitto 1883
fi

if ! listening 4222; then
    if ! command -v nats-server >/dev/null; then
        apt-get install -y -q nats-server >/dev/null
    fi
    mkdir -p /tmp/kiln-nats
    nats-server -a 127.0.0.1 -p 4222 --jetstream --store_dir /tmp/kiln-nats \
        >/tmp/kiln-nats/nats.log 2>&1 &
    wait_for NATS 4222
fi

if ! listening 5432; then
    if ! command -v pg_ctlcluster >/dev/null; then
        apt-get install -y -q postgresql >/dev/null
    fi
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
    wait_for PostgreSQL 5432
fi
if ! psql -h 127.0.0.1 -U postgres -d test -c "SELECT 1" >/dev/null 2>&1; then
    su postgres -c "psql -c 'CREATE DATABASE test'" >/dev/null 2>&1 || true
fi

if ! listening 3306; then
    if ! command -v mariadbd >/dev/null; then
        apt-get install -y -q mariadb-server >/dev/null
    fi
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
    (mariadbd --user=mysql --bind-address=127.0.0.1 --port=3306 >/tmp/kiln-mariadb.log 2>&1 &)
    wait_for MariaDB 3306
fi
mariadb -h 127.0.0.1 -u root -e "CREATE DATABASE IF NOT EXISTS test" >/dev/null

# Tools the registry tests run: the registry, skopeo, and htpasswd for a registry with accounts.
for tool in docker-registry:docker-registry skopeo:skopeo htpasswd:apache2-utils; do
    command="${tool%%:*}" package="${tool#*:}"
    if ! command -v "$command" >/dev/null; then
        apt-get install -y -q "$package" >/dev/null ||
            { apt-get update -q >/dev/null && apt-get install -y -q "$package" >/dev/null; }
    fi
done
