#!/usr/bin/env bash
# A real one-node Slurm cluster on localhost for the Slurm executor's tests and bench: Debian's
# slurmctld, slurmd, slurm-client and munge (installed when missing, as root on Debian), with
# every file under a scratch folder ($SAILFIN_SLURM_BASE, default /var/tmp/sailfin-slurm) and
# no accounting database (the executor reads job states from squeue/scontrol). Config and start
# order as measured in ../shared/design/measured-facts.md ("Slurm as a local distributed engine"):
# batch_sched_delay=0 for ~0.7 s submit-to-start; `slurmd -N localhost` because the hostname is
# not "localhost". Idempotent: a running cluster costs two quick checks. The last output line is
# `SLURM_CONF=<path>` so other tools can reach the same cluster.
set -euo pipefail
B=${SAILFIN_SLURM_BASE:-/var/tmp/sailfin-slurm}
export SLURM_CONF=$B/slurm.conf

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
node_state() { timeout 5 sinfo -h -n localhost -o %t 2>/dev/null | head -1; }

ready() { case "$(node_state)" in idle|mix|alloc) return 0 ;; *) return 1 ;; esac; }
if alive "$B/munge/run/munged.pid" && alive "$B/slurmctld.pid" && alive "$B/slurmd-localhost.pid" && ready; then
  echo "SLURM_CONF=$SLURM_CONF"
  exit 0
fi

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "setup-slurm: Slurm is missing; install Debian's slurmctld slurmd slurm-client munge (apt-get install --no-install-recommends slurmctld slurmd slurm-client munge) and run this script as root" >&2
    exit 1
  fi
  echo "setup-slurm: installing slurmctld slurmd slurm-client munge from Debian"
  apt-get -o DPkg::Lock::Timeout=900 update -q
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi
if [ "$(id -u)" != 0 ]; then
  echo "setup-slurm: starting slurmd needs root (it runs jobs as their users): run this script as root" >&2
  exit 1
fi

mkdir -p "$B"/munge/{etc,run,lib,log} "$B/state" "$B/spool/localhost" "$B/log"
chmod 700 "$B/munge/etc" "$B/munge/lib" "$B/munge/log"
if [ ! -s "$B/munge/etc/munge.key" ]; then
  dd if=/dev/urandom of="$B/munge/etc/munge.key" bs=1 count=1024 status=none
  chmod 400 "$B/munge/etc/munge.key"
fi
cpus=$(nproc)
cat >"$SLURM_CONF.new" <<EOF
ClusterName=sailfin
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$B/munge/run/munge.socket.2
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation=$B/state
SlurmdSpoolDir=$B/spool/%n
SlurmctldPidFile=$B/slurmctld.pid
SlurmdPidFile=$B/slurmd-%n.pid
SlurmctldLogFile=$B/log/slurmctld.log
SlurmdLogFile=$B/log/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$B/log/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
KillWait=30
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus Sockets=1 CoresPerSocket=$cpus ThreadsPerCore=1 RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
MailProg=/bin/true
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
EOF
mv "$SLURM_CONF.new" "$SLURM_CONF"

# The daemons get none of this script's descriptors beyond 0-2: run under `flock LOCK …` (as the
# Slurm tests are), a munged that inherited the lock's descriptor held the lock as long as it lived.
detached() { ( for fd in /proc/self/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; exec "$@" ); }
alive "$B/munge/run/munged.pid" || detached munged --key-file="$B/munge/etc/munge.key" --socket="$B/munge/run/munge.socket.2" \
  --pid-file="$B/munge/run/munged.pid" --log-file="$B/munge/log/munged.log" --seed-file="$B/munge/lib/munged.seed"
alive "$B/slurmctld.pid" || detached slurmctld
alive "$B/slurmd-localhost.pid" || detached slurmd -N localhost
for _ in $(seq 1 300); do
  if ready; then echo "SLURM_CONF=$SLURM_CONF"; exit 0; fi
  case "$(node_state)" in down*|drain*) scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true ;; esac
  sleep 0.1
done
echo "setup-slurm: the node did not become idle in 30 s (state \"$(node_state)\"); see $B/log/" >&2
exit 1
