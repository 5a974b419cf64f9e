#!/usr/bin/env bash
# Checks that the services the tests use answer on 127.0.0.1, and starts them if not,
# with the commands this kind of machine documents.
set -euo pipefail

# ssh-keygen signs and verifies sign-offs under identity.mode: ssh (OpenSSH 8.2 or later)
command -v ssh-keygen >/dev/null || { apt-get update -qq && apt-get install -y -q openssh-client; }
# Node runs the local target's example of a non-Python server that speaks the protocol
command -v node >/dev/null || { apt-get update -qq && apt-get install -y -q nodejs; }
# headless Chromium drives the dashboard's browser tests (Playwright with the system browser)
command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -q chromium; }
# prometheus backs the prometheus source's tests; hey sits beside the probe in benchmarks/bench_probe.py
command -v prometheus >/dev/null || { apt-get update -qq && apt-get install -y -q prometheus; }
command -v hey >/dev/null || { apt-get update -qq && apt-get install -y -q hey; }
# the ssh target's tests start their own sshd per loopback host and an HAProxy in front
# (tests/support/sshd.py, tests/support/haproxy.py); rsync ships the artifact
[ -x /usr/sbin/sshd ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssh-server; }
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || { apt-get update -qq && apt-get install -y -q haproxy; }
command -v rsync >/dev/null || { apt-get update -qq && apt-get install -y -q rsync; }

wait_for() {  # name, check command...
  local name=$1; shift
  for _ in $(seq 1 30); do
    if "$@" >/dev/null 2>&1; then echo "services: $name is up"; return 0; fi
    sleep 1
  done
  echo "services: $name did not come up" >&2
  return 1
}

if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  echo "services: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
fi
wait_for PostgreSQL pg_isready -h 127.0.0.1 -p 5432 -q

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "services: starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
wait_for Redis redis-cli -h 127.0.0.1 -p 6379 ping
