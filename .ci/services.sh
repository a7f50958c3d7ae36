#!/usr/bin/env bash
# The real systems troupe's launcher tests run against, on this machine:
# munged + a single-node Slurm (slurmctld, slurmd) on localhost, an sshd on
# 127.0.0.1:2222 that takes a test key, and OpenMPI's mpiexec as root.
#
#   bash .ci/services.sh start   # install what is missing, start, check
#   bash .ci/services.sh stop    # cancel jobs, stop what start started
#
# Both are idempotent: start reuses what already runs, stop with nothing
# running is fine. Debian, as root, without systemd (CI containers and this
# dev box): the daemons run in the foreground (-D/-F) in the background of
# this script, with their pids and logs in $STATE.
set -euo pipefail
cd "$(dirname "$0")/.."

STATE=${TROUPE_CI_STATE:-/var/lib/troupe-ci}
SLURM_CONF=/etc/slurm/slurm.conf
# The first line of the slurm.conf we install: a file without it is someone
# else's, and is never overwritten.
MARK="# troupe-ci: written by .ci/services.sh"
SSH_PORT=2222
SSH_KEY=/root/.ssh/troupe_ci_ed25519
SSH_OPTS=(-i "$SSH_KEY" -p "$SSH_PORT" -o BatchMode=yes
  -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
  -o LogLevel=ERROR -o ConnectTimeout=5)
# Slurm's node claims this many CPUs whatever the machine has (see slurm.conf).
SLURM_CPUS=16
WAIT_S=30

say() { echo "services: $*"; }
die() {
  echo "services: $*" >&2
  exit 1
}

# Whether pid $1 is a live process. A daemon that ended stays a zombie for a
# second or two here: it was orphaned to pid 1, which reaps lazily on this
# machine (a firecracker init), so kill -0 alone would take it for alive.
running() { ps -o stat= -p "$1" 2>/dev/null | grep -qv '^Z'; }

# Whether the pid in file $1 names a live process.
alive() { [ -s "$1" ] && running "$(cat "$1")"; }

# Starts daemon $1 (the command "${@:2}", in the foreground mode) in a
# session of its own, so that the end of this script or of the shell that
# ran it does not take it down, with no terminal and its output in
# $STATE/$1.out; its pid goes to $STATE/$1.pid for stop. setsid does not fork
# here (a background job of a script is no group leader), so $! is the
# daemon's own pid.
daemon() {
  local name=$1
  shift
  setsid "$@" </dev/null >>"$STATE/$name.out" 2>&1 &
  echo $! >"$STATE/$name.pid"
}

# Runs "$@" until it succeeds, at most $WAIT_S seconds; says $what otherwise.
wait_for() {
  local what=$1
  shift
  local deadline=$((SECONDS + WAIT_S))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      die "$what did not happen within ${WAIT_S} s (logs in $STATE)"
    fi
    sleep 0.2
  done
}

install_missing() {
  local missing=()
  command -v slurmctld >/dev/null || missing+=(slurmctld)
  command -v slurmd >/dev/null || missing+=(slurmd)
  command -v sbatch >/dev/null || missing+=(slurm-client)
  command -v munged >/dev/null || missing+=(munge)
  [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
  command -v ssh >/dev/null || missing+=(openssh-client)
  command -v mpiexec >/dev/null || missing+=(openmpi-bin)
  # ps and pgrep: this script's and the tests' process checks.
  command -v pgrep >/dev/null || missing+=(procps)
  [ "${#missing[@]}" -eq 0 ] && return
  say "installing ${missing[*]} from Debian"
  [ "$(id -u)" -eq 0 ] || die "installing needs root: run as root, or apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

munge_ok() { munge -n </dev/null | unmunge >/dev/null; }

start_munge() {
  if [ ! -s /etc/munge/munge.key ]; then
    say "creating /etc/munge/munge.key"
    mkdir -p /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
  fi
  if munge_ok 2>/dev/null; then
    say "munged already running"
    return
  fi
  # Debian's unit runs munged as user munge with its socket in /run/munge.
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
  daemon munged setpriv --reuid=munge --regid=munge --init-groups \
    /usr/sbin/munged -F
  wait_for "munged answering" munge_ok
  say "munged started (pid $(cat "$STATE/munged.pid"))"
}

install_slurm_conf() {
  if [ -e "$SLURM_CONF" ] && ! head -n 1 "$SLURM_CONF" | grep -qF "$MARK"; then
    die "$SLURM_CONF exists and was not written by .ci/services.sh (its first line is not '$MARK'); move it aside to let this script install its own, or run the tests against that cluster"
  fi
  local memory
  memory=$(awk '/^MemTotal:/ { print int($2 / 1024 * 0.9) }' /proc/meminfo)
  mkdir -p /etc/slurm
  sed -e "s|@STATE@|$STATE|g" -e "s|@CPUS@|$SLURM_CPUS|g" \
    -e "s|@MEMORY@|$memory|g" .ci/slurm/slurm.conf >"$SLURM_CONF.troupe-ci"
  if cmp -s "$SLURM_CONF.troupe-ci" "$SLURM_CONF"; then
    rm "$SLURM_CONF.troupe-ci"
  else
    mv "$SLURM_CONF.troupe-ci" "$SLURM_CONF"
    SLURM_CONF_CHANGED=1
  fi
}

slurm_idle() { [ "$(sinfo -h -o %T 2>/dev/null)" = idle ]; }
# A node already running jobs (other tests' engines, say) takes more too.
slurm_serving() { sinfo -h -o %T 2>/dev/null | grep -qxE 'idle|mixed|allocated|completing'; }

start_slurm() {
  # Daemons that run with another slurm.conf than the repository's (it
  # changed since they started) are restarted to read it.
  SLURM_CONF_CHANGED=0
  install_slurm_conf
  mkdir -p "$STATE/slurmctld" "$STATE/slurmd"
  if [ "$SLURM_CONF_CHANGED" -eq 0 ] && alive "$STATE/slurmctld.pid" && alive "$STATE/slurmd.pid"; then
    wait_for "the Slurm node taking jobs (sinfo -h -o %T)" slurm_serving
    say "slurmctld and slurmd already running: $(sinfo -h -o '%P %D %c %T')"
    return
  fi
  stop_ours slurmd
  stop_ours slurmctld
  # -c: a fresh controller state (no jobs or node states from an earlier
  # run); -N: the node is "localhost", whatever the machine's name.
  daemon slurmctld slurmctld -D -c
  wait_for "slurmctld answering (scontrol ping)" \
    bash -c 'scontrol ping | grep -q "is UP"'
  daemon slurmd slurmd -D -N localhost
  # Fresh daemons and no job yet: the node must come up idle.
  wait_for "the Slurm node idle (sinfo -h -o %T)" slurm_idle
  timeout 30 srun -n1 true || die "srun -n1 true failed (logs in $STATE)"
  say "slurm idle: $(sinfo -h -o '%P %D %c %T')"
}

ssh_ok() { timeout 10 ssh "${SSH_OPTS[@]}" root@127.0.0.1 true; }

start_sshd() {
  mkdir -p /root/.ssh && chmod 0700 /root/.ssh
  [ -s "$SSH_KEY" ] || ssh-keygen -q -t ed25519 -N "" -C troupe-ci -f "$SSH_KEY"
  chmod 0600 "$SSH_KEY"
  [ -s "$STATE/ssh_host_ed25519_key" ] ||
    ssh-keygen -q -t ed25519 -N "" -f "$STATE/ssh_host_ed25519_key"
  # Its own authorized_keys, so that root's own ~/.ssh/authorized_keys is
  # never touched.
  install -m 0600 "$SSH_KEY.pub" "$STATE/authorized_keys"
  cat >"$STATE/sshd_config" <<EOF
# troupe-ci: written by .ci/services.sh
ListenAddress 127.0.0.1:$SSH_PORT
HostKey $STATE/ssh_host_ed25519_key
PidFile $STATE/sshd.own.pid
AuthorizedKeysFile $STATE/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AcceptEnv LANG LC_* TROUPE_*
Subsystem sftp internal-sftp
EOF
  if alive "$STATE/sshd.pid" && ssh_ok; then
    say "sshd already running"
  else
    stop_ours sshd
    mkdir -p /run/sshd && chmod 0755 /run/sshd
    /usr/sbin/sshd -t -f "$STATE/sshd_config" || die "sshd refused $STATE/sshd_config"
    daemon sshd /usr/sbin/sshd -D -f "$STATE/sshd_config" -E "$STATE/sshd.log"
    wait_for "ssh to root@127.0.0.1:$SSH_PORT" ssh_ok
    say "sshd started on 127.0.0.1:$SSH_PORT (pid $(cat "$STATE/sshd.pid"))"
  fi
  local remote_deno
  remote_deno=$(timeout 10 ssh "${SSH_OPTS[@]}" root@127.0.0.1 'command -v deno' || true)
  if [ -z "$remote_deno" ]; then
    say "warning: an ssh session's PATH has no deno (sshd's default PATH is /usr/local/bin:/usr/bin:/bin); the ssh launcher tests need it there"
  else
    say "ssh sessions find deno at $remote_deno"
  fi
}

check_mpi() {
  local ranks
  ranks=$(OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    timeout 30 mpiexec --oversubscribe -n 4 printenv OMPI_COMM_WORLD_RANK | sort -n | tr '\n' ' ')
  [ "$ranks" = "0 1 2 3 " ] || die "mpiexec -n 4 gave ranks '$ranks', not 0 1 2 3"
  say "mpiexec ok: ranks $ranks"
}

# The pids of every process below pid $1 (children, theirs, ...).
descendants() {
  local child
  for child in $(ps -o pid= --ppid "$1"); do
    echo "$child"
    descendants "$child"
  done
}

# Stops the daemon named $1 whose pid is in $STATE/$1.pid (one we started),
# waiting for it to exit (bounded); a pid file whose process is gone is
# removed.
stop_ours() {
  local pidfile="$STATE/$1.pid"
  [ -s "$pidfile" ] || return 0
  local pid
  pid=$(cat "$pidfile")
  if running "$pid"; then
    # What runs in sshd's sessions outlives it (and its sessions: without a
    # terminal nothing sends it SIGHUP), so the sessions' processes go first.
    if [ "$1" = sshd ]; then
      local leftovers
      leftovers=$(descendants "$pid")
      # shellcheck disable=SC2086 # a list of pids
      [ -z "$leftovers" ] || kill $leftovers 2>/dev/null || true
    fi
    kill "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 10))
    while running "$pid"; do
      if [ "$SECONDS" -ge "$deadline" ]; then
        say "$1 (pid $pid) did not stop in 10 s: killing it"
        kill -9 "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.1
    done
    say "stopped $1 (pid $pid)"
  fi
  rm -f "$pidfile"
}

start() {
  [ "$(id -u)" -eq 0 ] || die "start runs as root (it installs packages and starts system daemons)"
  install_missing
  mkdir -p "$STATE"
  chmod 0755 "$STATE"
  start_munge
  start_slurm
  start_sshd
  check_mpi
}

stop() {
  if alive "$STATE/slurmctld.pid"; then
    timeout 10 scancel --user=root 2>/dev/null || true
    local deadline=$((SECONDS + WAIT_S))
    while [ -n "$(timeout 10 squeue -h -o %i 2>/dev/null)" ]; do
      if [ "$SECONDS" -ge "$deadline" ]; then
        say "jobs still in squeue after ${WAIT_S} s: $(squeue -h -o '%i %T' | tr '\n' ' ')"
        break
      fi
      sleep 0.2
    done
  fi
  stop_ours slurmd
  stop_ours slurmctld
  stop_ours sshd
  stop_ours munged
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*) die "usage: bash .ci/services.sh start|stop" ;;
esac
