#!/usr/bin/env bash
# SLURM for real: a one-node cluster on this machine (munged, slurmctld and slurmd, configured in a
# temporary folder, on ports of their own, stopped at the end whatever happens) runs the embedded
# model's demo sweep (tools/demo.sh's items, budgets 2^3..2^8 and 4 samples) with
# share/slurm/tte-slurm-submit: an array job of 4 shards and the merge job after it. The merged
# generations and scores must be byte-identical to one process's. A task that fails keeps the merge
# from running (--dependency=afterok).
#
# Needs root (or sudo) for the daemons; installs Debian's slurm-wlm and munge when missing. When the
# cluster cannot be started the test fails and says why. TTE_SLURM_ITEMS (default 16 of the demo's
# 64 items, to keep the test near a minute on two cores) sets how many items the sweep takes.
# shellcheck source=tests/cli/common.bash
source "$(dirname "$0")/common.bash"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHARE=${TTE_SHARE:-$ROOT/share}
MODEL=$SHARE/models/tte-tiny-arith
ITEMS=${TTE_SLURM_ITEMS:-16}
sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
[ -z "$sudo" ] || sudo -n true 2>/dev/null ||
    fail "cannot start a SLURM cluster: the daemons need root, and this user has no passwordless sudo"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null ||
    ! command -v sbatch >/dev/null; then
    echo "tte-slurm: installing slurm-wlm and munge (apt-get)" >&2
    { $sudo apt-get update -q && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends slurm-wlm munge; } >"$TMP/apt.log" 2>&1 ||
        fail "cannot install slurm-wlm and munge: $(tail -5 "$TMP/apt.log")"
fi
for d in slurmctld slurmd munged sbatch squeue scancel; do
    command -v $d >/dev/null || fail "cannot start a SLURM cluster: $d is not installed"
done

# The cluster, all of it under $C: munge's key and socket, slurm.conf, state, spool, logs.
C=$TMP/cluster
mkdir -p "$C/munge" "$C/state" "$C/spool" "$C/log"
chmod 700 "$C/munge"
export SLURM_CONF=$C/slurm.conf
stop_cluster() {
    # Jobs first (their slurmstepd would outlive slurmd), then the daemons we started, by pid.
    scancel --quiet --full --user="$(id -un)" 2>/dev/null || true
    local pids=""
    for f in "$C/slurmd.pid" "$C/slurmctld.pid" "$C/munge/munged.pid"; do
        [ -s "$f" ] && pids="$pids $(cat "$f")"
    done
    [ -n "$pids" ] || return 0
    # shellcheck disable=SC2086
    $sudo kill $pids 2>/dev/null || true
    for _ in $(seq 50); do
        # shellcheck disable=SC2086
        $sudo kill -0 $pids 2>/dev/null || return 0
        sleep 0.1
    done
    # shellcheck disable=SC2086
    $sudo kill -9 $pids 2>/dev/null || true
}
trap 'stop_cluster; rm -rf "$TMP"' EXIT
logs() { for f in "$C"/log/* "$C"/munge/*.log; do [ -e "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }; done; }
cluster_fail() { fail "cannot start a SLURM cluster: $*
$(logs)"; }

dd if=/dev/urandom of="$C/munge/munge.key" bs=1024 count=1 status=none
chmod 600 "$C/munge/munge.key"
$sudo munged --force --key-file="$C/munge/munge.key" --socket="$C/munge/sock" --pid-file="$C/munge/munged.pid" \
    --log-file="$C/munge/munged.log" --seed-file="$C/munge/seed" || cluster_fail "munged did not start"
munge -S "$C/munge/sock" -n </dev/null | unmunge -S "$C/munge/sock" >/dev/null ||
    cluster_fail "munged does not answer on $C/munge/sock"

# Ports of this run's own, so that a system SLURM or another run of this test is not disturbed.
port=$((20000 + RANDOM % 20000))
host=$(hostname -s)
cat >"$SLURM_CONF" <<CONF
ClusterName=ttetest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=$(id -un)
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$C/munge/sock
StateSaveLocation=$C/state
SlurmdSpoolDir=$C/spool
SlurmctldPidFile=$C/slurmctld.pid
SlurmdPidFile=$C/slurmd.pid
SlurmctldLogFile=$C/log/slurmctld.log
SlurmdLogFile=$C/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
InactiveLimit=0
KillWait=5
MinJobAge=300
NodeName=tte1 NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=tte Nodes=tte1 Default=YES MaxTime=INFINITE State=UP
CONF
$sudo slurmctld -f "$SLURM_CONF" || cluster_fail "slurmctld did not start"
$sudo slurmd -f "$SLURM_CONF" -N tte1 || cluster_fail "slurmd did not start"
state=
for _ in $(seq 150); do
    state=$(sinfo -h -n tte1 -o %T 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.2
done
[ "$state" = idle ] || cluster_fail "the node is '${state:-not known}' after 30 s, not idle"

# The reference: one process, no cache.
tte-fetch arith --seed 0 --count "$ITEMS" -o "$TMP/items.jsonl"
tte-gen --model "$MODEL" --budgets 3..8 -n 4 --no-cache "$TMP/items.jsonl" >"$TMP/gen.jsonl"
tte-score --model "$MODEL" --no-cache "$TMP/gen.jsonl" >"$TMP/scored.jsonl"

# The sweep on the cluster: 4 shards, a task per CPU with --threads 1, one fresh cache shared by
# every task.
submit() { timeout 300 "$SHARE/slurm/tte-slurm-submit" --cache "$TMP/cache-slurm" --cpus 1 "$@"; }
status=0
submit --dir "$TMP/sweep" --model "$MODEL" --items "$TMP/items.jsonl" --budgets 3..8 -n 4 --shards 4 \
    --wait >"$TMP/ids" 2>"$TMP/submit.err" || status=$?
[ "$status" = 0 ] || fail "the sweep's jobs failed (exit $status): $(cat "$TMP/submit.err")
$(tail -n 20 "$TMP"/sweep/logs/*.log 2>/dev/null)
$(squeue 2>&1)
$(logs)"
read -r array_id merge_id <"$TMP/ids"
{ [ -n "$array_id" ] && [ -n "$merge_id" ]; } || fail "tte-slurm-submit printed no job ids: $(cat "$TMP/ids")"
out=$TMP/sweep/tte-tiny-arith
for k in 0 1 2 3; do
    [ -s "$out/gen.$k.jsonl" ] || fail "shard $k wrote no generations"
    grep -q "shard $k/4" "$TMP"/sweep/logs/sweep_"${array_id}"_*.log || fail "no task ran shard $k/4"
done
for f in "$out"/*; do case ${f##*/} in *tmp*) fail "a temporary file is left: $f" ;; esac; done
[ "$(cat "$out"/gen.[0-3].jsonl | wc -l)" = "$(wc -l <"$TMP/gen.jsonl")" ] || fail "the shards do not add up"
cmp "$out/gen.jsonl" "$TMP/gen.jsonl" || fail "merged generations differ from one process's"
cmp "$out/scored.jsonl" "$TMP/scored.jsonl" || fail "merged scores differ from one process's"

# A task that fails: the merge job never runs (it is cancelled), and --wait says so.
status=0
submit --dir "$TMP/bad" --model "$TMP/no-such-model" --items "$TMP/items.jsonl" --budgets 3..4 --shards 2 \
    --no-score --wait >"$TMP/ids" 2>"$TMP/submit.err" || status=$?
[ "$status" != 0 ] || fail "a sweep whose tasks fail succeeded"
[ ! -e "$TMP/bad/no-such-model/gen.jsonl" ] || fail "the merge ran after failed tasks"
grep -q "no-such-model" "$TMP"/bad/logs/sweep_*.log || fail "the failed task's log does not name the model"

echo "tte-slurm: ok (array $array_id, merge $merge_id, $ITEMS items x 6 budgets x 4 samples on 4 shards)"
