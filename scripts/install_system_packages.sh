#!/usr/bin/env bash
# Install the Debian/Ubuntu packages a fresh machine lacks, for a purpose:
#   scripts/install_system_packages.sh bench   # make bench: PostgreSQL and PgBouncer
#   scripts/install_system_packages.sh test    # .ci/run / make test: everything the tests start
# Shared by .ci/run and the Makefile's bench target; installs nothing when all
# is there already (it never runs apt-get then), with sudo unless run as root.
set -euo pipefail
purpose=${1:-test}
case $purpose in bench | test) ;; *) echo "usage: $0 bench|test" >&2; exit 2 ;; esac

missing=()
command -v make >/dev/null || missing+=(make)
# Debian's python3 cannot create a venv (no pip to seed) until python3-venv is in.
probe=$(mktemp -d)
python3 -m venv "$probe/venv" >/dev/null 2>&1 || missing+=(python3-venv)
rm -rf "$probe"
# The PostgreSQL tests and the load benchmark start a throwaway cluster from the server binaries.
if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && ! command -v initdb >/dev/null; then
    missing+=(postgresql)
fi
# tests/db/test_pgbouncer.py and the capacity benchmark put Debian's PgBouncer
# (in /usr/sbin) in front of that cluster.
[[ -x /usr/sbin/pgbouncer ]] || command -v pgbouncer >/dev/null || missing+=(pgbouncer)
if [[ $purpose == test ]]; then
    # The browser test (tests/web) drives Debian's Chromium; Playwright never downloads one.
    command -v chromium >/dev/null || missing+=(chromium)
    # The SSH test (tests/ssh) runs Debian's sshd on loopback with the example
    # drop-in and connects with ssh, sftp, ssh-keygen and ssh-agent.
    [[ -x /usr/sbin/sshd ]] || missing+=(openssh-server)
    for tool in ssh sftp ssh-keygen ssh-agent; do
        command -v "$tool" >/dev/null || { missing+=(openssh-client); break; }
    done
fi

if ((${#missing[@]})); then
    echo "callgate: installing system packages for $purpose: ${missing[*]}"
    sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
