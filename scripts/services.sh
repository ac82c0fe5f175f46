#!/usr/bin/env bash
# Start the loopback RabbitMQ and PostgreSQL when they are installed but not running,
# then wait until each answers. Under CI=true a service that cannot be had is a failure.
set -u
ci=${CI:-false}
fail=0

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # name port seconds
  for _ in $(seq 1 "$3"); do port_open "$2" && { echo "services: $1 answers on 127.0.0.1:$2"; return 0; }; sleep 1; done
  return 1
}

start_rabbitmq() {
  if ! port_open 5672; then
    if command -v rabbitmq-server >/dev/null 2>&1; then
      echo "services: starting RabbitMQ"; rabbitmq-server -detached || true
    fi
  fi
  if wait_port RabbitMQ 5672 90; then
    # the port opens before the broker takes logins: wait for the app too
    command -v rabbitmqctl >/dev/null 2>&1 && timeout 60 rabbitmqctl await_startup >/dev/null 2>&1 || true
    return 0
  fi
  echo "services: RabbitMQ is not reachable on 127.0.0.1:5672"; return 1
}

start_postgres() {
  if ! port_open 5432; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
      echo "services: starting PostgreSQL"
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    fi
  fi
  wait_port PostgreSQL 5432 60 && return 0
  echo "services: PostgreSQL is not reachable on 127.0.0.1:5432"; return 1
}

start_rabbitmq || fail=1
start_postgres || fail=1
if [ "$fail" -ne 0 ]; then
  if [ "$ci" = "true" ]; then echo "services: CI=true and a service is missing: failing"; exit 1; fi
  echo "services: a service is missing; its tests will be skipped (CI=true makes this a failure)"
fi
exit 0
