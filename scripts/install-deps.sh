#!/usr/bin/env bash
# Installs and starts the programs maestro's tests run for real, on Debian:
# etcd-server (an external etcd cluster), docker.io (the container engine),
# iproute2 (ip: the emulated hosts of internal/testbed) and openssh-server
# (sshd: the ssh cloud's tests run one inside each emulated host; no sshd is
# enabled or started on this machine), curl (the user data of the EC2 and
# Compute Engine fakes' instances fetches the agent with it) and
# docker-registry (an image registry with password authentication that
# the image pull secret tests run on a loopback port; its package's service
# is not started). Idempotent: does nothing when everything is present and
# running.
set -euo pipefail

need=()
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || need+=(iproute2)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v curl >/dev/null 2>&1 || need+=(curl)
[ -x /usr/bin/docker-registry ] || command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; fi
fi

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then
    echo "install-deps: need root to install ${need[*]} (apt-get install ${need[*]})" >&2
    exit 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: no apt-get; install ${need[*]} by hand" >&2
    exit 1
  fi
  echo "install-deps: installing ${need[*]}"
  $SUDO apt-get update -qq
  # policy-rc.d answering 101 keeps the packages' scripts from starting
  # services (openssh-server would start an sshd on port 22 of this machine);
  # an existing policy is left as it is.
  policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    $SUDO sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null || {
    [ -z "$policy" ] || $SUDO rm -f "$policy"
    exit 1
  }
  [ -z "$policy" ] || $SUDO rm -f "$policy"
fi

# Docker: start the engine when nothing answers (no systemd here).
if ! docker info >/dev/null 2>&1; then
  if pgrep -x dockerd >/dev/null 2>&1; then
    echo "install-deps: dockerd is running but does not answer yet; waiting"
  else
    echo "install-deps: starting dockerd (log: /tmp/dockerd.log)"
    if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
      $SUDO systemctl start docker
    else
      $SUDO sh -c 'nohup dockerd >/tmp/dockerd.log 2>&1 &'
    fi
  fi
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  if ! docker info >/dev/null 2>&1; then
    echo "install-deps: dockerd did not come up; see /tmp/dockerd.log" >&2
    exit 1
  fi
fi
