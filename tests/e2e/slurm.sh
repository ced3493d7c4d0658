# The nightly job on a REAL Slurm: this script starts a one-node cluster
# from Debian's packages (munge, slurmctld, slurmd) in a temporary
# directory — its own munge key and socket, its own slurm.conf, ports
# chosen free on loopback — waits for the node to be idle, runs the cases,
# and stops every daemon by pid on exit, whatever happens. Needs root
# (slurmd launches jobs as the submitting user and must be able to).
#
# What works in this sandbox (and so is configured here): no cgroups
# (proctrack/linuxproc, task/none, jobacct_gather/none); PMIx as the MPI
# plugin (Debian's Open MPI speaks PMIx only; --mpi=pmi2 fails);
# MinJobAge=4 and batch_sched_delay=0 so `sbatch --wait` returns within
# about 2 s of the job's end. Every client call is wrapped in `timeout`:
# Slurm's clients hang when munged is gone.
source "$(dirname "$0")/../lib.sh"

SL_DIR=$(mktemp -d /tmp/esep-slurm.XXXXXX)
SL_PIDS=()           # munged, slurmctld, slurmd, in start order
SL_NODE=esepnode1    # the one node's name in slurm.conf
# The jobs run the release binary operators install: the sanitized one
# starts several times slower, and this script is about Slurm's plumbing
# (the sanitized build runs the same commands in the other scripts).
JOB_ESEP=$ROOT/bin/esep
export SLURM_CONF=$SL_DIR/etc/slurm.conf

# Stops the daemons by pid (newest first), waits for each to go, then
# removes the directory. Runs on every exit path.
slurm_stop() {
  local i pid
  for ((i = ${#SL_PIDS[@]} - 1; i >= 0; i--)); do
    pid=${SL_PIDS[i]}
    kill -TERM "$pid" 2>/dev/null || continue
    eventually 5 pid_gone "$pid" || kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  SL_PIDS=()
  rm -rf "$SL_DIR"
}
trap 'slurm_stop; rm -rf "$TMP_ROOT"' EXIT
trap 'exit 130' INT TERM HUP

# N distinct TCP ports that are free on loopback right now.
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

# Client commands: never wait for ever on a dead munged or slurmctld (60 s:
# a loaded machine delays a job's start and `sbatch --wait`'s polls).
sl() { timeout "${SL_TIMEOUT:-60}" "$@"; }

slurm_write_conf() {
  local ctl_port=$1 d_port=$2 host
  host=$(hostname -s)
  cat > "$SLURM_CONF" <<EOF
ClusterName=eseptest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctl_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SL_DIR/munge/munge.socket.2
StateSaveLocation=$SL_DIR/state
SlurmdSpoolDir=$SL_DIR/spool
SlurmctldPidFile=$SL_DIR/run/slurmctld.pid
SlurmdPidFile=$SL_DIR/run/slurmd.pid
SlurmctldLogFile=$SL_DIR/log/slurmctld.log
SlurmdLogFile=$SL_DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=pmix
MinJobAge=4
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
MailProg=/bin/true
NodeName=$SL_NODE NodeHostname=$host NodeAddr=127.0.0.1 CPUs=4 RealMemory=2000 State=UNKNOWN
PartitionName=test Nodes=$SL_NODE Default=YES MaxTime=INFINITE State=UP
EOF
}

# Starts munged with its own key and socket, then slurmctld and slurmd in
# the foreground (so $! is the daemon's own pid), and waits until the node
# is idle. Runs in the script's own shell (not a case's subshell) so that
# SL_PIDS reaches the exit trap; returns non-zero with a message instead of
# exiting.
slurm_start() {
  [ "$(id -u)" -eq 0 ] || { echo "needs root (slurmd runs jobs as their user)"; return 1; }
  for b in munged slurmctld slurmd sbatch srun sinfo scontrol; do
    command -v "$b" >/dev/null ||
      { echo "$b not installed; scripts/install-deps.sh installs munge slurmctld slurmd slurm-client"; return 1; }
  done
  mkdir -p "$SL_DIR"/{etc,munge,state,spool,run,log}
  # Clients find the socket by path: its directory must be searchable.
  chmod 0711 "$SL_DIR" "$SL_DIR/munge"
  dd if=/dev/urandom of="$SL_DIR/munge/munge.key" bs=1024 count=1 status=none
  chmod 0400 "$SL_DIR/munge/munge.key"
  munged -F --key-file="$SL_DIR/munge/munge.key" --socket="$SL_DIR/munge/munge.socket.2" \
    --pid-file="$SL_DIR/munge/munged.pid" --log-file="$SL_DIR/log/munged.log" \
    --seed-file="$SL_DIR/munge/seed" > "$SL_DIR/log/munged.out" 2>&1 &
  SL_PIDS+=($!)
  eventually 5 test -S "$SL_DIR/munge/munge.socket.2" || { cat "$SL_DIR/log/munged"*; echo "munged did not start"; return 1; }
  local ports
  read -r -a ports <<<"$(free_ports 2)"
  slurm_write_conf "${ports[0]}" "${ports[1]}"
  slurmctld -D -i -f "$SLURM_CONF" > "$SL_DIR/log/slurmctld.out" 2>&1 &
  SL_PIDS+=($!)
  slurmd -D -N "$SL_NODE" -f "$SLURM_CONF" > "$SL_DIR/log/slurmd.out" 2>&1 &
  SL_PIDS+=($!)
  local state=
  for _ in $(seq 100); do
    state=$(SL_TIMEOUT=5 sl sinfo -h -n "$SL_NODE" -o %t 2>/dev/null)
    [ "$state" = idle ] && break
    sleep 0.2
  done
  if [ "$state" != idle ]; then
    tail -n 20 "$SL_DIR"/log/*
    echo "node $SL_NODE not idle after 20 s (state '$state')"
    return 1
  fi
}

slurm_start > "$SL_DIR/start.log" 2>&1
SL_UP=$?
case_slurm_start() { cat "$SL_DIR/start.log"; [ "$SL_UP" -eq 0 ]; }
# Every other case needs the cluster.
need_slurm() { [ "$SL_UP" -eq 0 ] || fail "no cluster (see slurm_start)"; }

run_case slurm_start case_slurm_start

# An MPI job under Slurm: srun starts 2 ranks through PMIx, they form one
# world (rank 0 prints "2 ranks" once) and together validate the hand-built
# snapshot exactly as tests/e2e/check_fixture.sh expects on one rank.
# The release build, as the jobs below (Slurm's plumbing; the same check
# runs sanitized on 2 ranks under mpirun in tests/e2e/cli.sh).
case_srun_pmix_two_ranks() {
  need_slurm
  local fix=$ROOT/tests/fixtures/ingest ESEP=$JOB_ESEP
  sl srun --mpi=pmix -n 2 "$ESEP" check --snapshot "$fix/20250415" --out "$TMP/out" > "$TMP/table.txt" 2> "$TMP/err.txt"
  local rc=$?
  cat "$TMP/err.txt"
  [ $rc -eq 0 ] || fail "srun exit $rc"
  [ "$(grep -c '^snapshot 20250415 ' "$TMP/table.txt")" -eq 1 ] || { cat "$TMP/table.txt"; fail "not one header line"; }
  grep -q '^snapshot 20250415 .*, 2 ranks)$' "$TMP/table.txt" || { cat "$TMP/table.txt"; fail "not one 2-rank world"; }
  sl srun --mpi=pmix -n 2 "$ESEP" check --snapshot "$fix/20250415" --out "$TMP/out2" --json > "$TMP/got.json" ||
    fail "srun --json exit $?"
  python3 - "$TMP/got.json" "$fix/expected_check.json" <<'PY' || return 1
import json, sys
got, want = (json.load(open(p)) for p in sys.argv[1:3])
if got != want:
    print("got ", json.dumps(got, sort_keys=True)); print("want", json.dumps(want, sort_keys=True)); sys.exit(1)
PY
  rejects_summary "$TMP/out/rejects/20250415" | diff - "$fix/expected_rejects.txt"
}
run_case srun_pmix_two_ranks case_srun_pmix_two_ranks

# sbatch_nightly NAME [VAR=VALUE…]: submits the real cluster/esep-nightly.sbatch
# on one node, 2 tasks (command-line options override its #SBATCH lines),
# with the settings given, and waits for it. Leaves the exit status of
# `sbatch --wait` (= the job's exit code) in $TMP/NAME.rc, the job id in
# $TMP/NAME.id, the job's log in $TMP/NAME.log and `scontrol show job` in
# $TMP/NAME.job (read at once: MinJobAge=4 forgets finished jobs quickly).
sbatch_nightly() {
  local name=$1; shift
  local id rc=0
  id=$(cd "$TMP" && env ESEP_HOME="$ROOT" ESEP_BIN="$JOB_ESEP" "$@" SL_TIMEOUT=120 \
    timeout 120 sbatch --parsable --wait --nodes=1 --ntasks-per-node=2 --mem-per-cpu=200M --time=5 \
    --job-name="esep-$name" --output="$TMP/$name.log" "$ROOT/cluster/esep-nightly.sbatch") || rc=$?
  echo "$rc" > "$TMP/$name.rc"
  echo "${id%%;*}" > "$TMP/$name.id"
  sl scontrol show job "${id%%;*}" > "$TMP/$name.job" 2>&1
  echo "== job $id exit $rc"; cat "$TMP/$name.log" 2>/dev/null
}

# $1 = name, $2 = expected exit status: the job's exit code through
# `sbatch --wait` and as scontrol records it, and its state.
expect_job_exit() {
  local name=$1 want=$2 got
  got=$(cat "$TMP/$name.rc")
  [ "$got" = "$want" ] || fail "sbatch --wait exit $got, wanted $want"
  grep -q "ExitCode=$want:0" "$TMP/$name.job" || { cat "$TMP/$name.job"; fail "scontrol: not ExitCode=$want:0"; }
  local state=COMPLETED
  [ "$want" = 0 ] || state=FAILED
  grep -q "JobState=$state " "$TMP/$name.job" || { cat "$TMP/$name.job"; fail "scontrol: not JobState=$state"; }
}

# A snapshot root and OUT that the job's own checks accept.
make_site() {
  mkdir -p "$TMP/snapshots" "$TMP/out"
  "$JOB_ESEP" keygen --key "$TMP/esep.key" > /dev/null 2>&1 || fail "keygen"
}

# job_must_fail NAME STATUS MESSAGE [VAR=VALUE…]: the job on this test's
# site (settings overridden by the VAR=VALUEs; the last one wins) exits
# with STATUS and its log holds MESSAGE.
job_must_fail() {
  local name=$1 want=$2 msg=$3; shift 3
  need_slurm
  make_site
  sbatch_nightly "$name" ESEP_OUT="$TMP/out" SNAPSHOT_ROOT="$TMP/snapshots" ESEP_KEY="$TMP/esep.key" "$@"
  expect_job_exit "$name" "$want"
  grep -q -- "$msg" "$TMP/$name.log" || fail "the log lacks: $msg"
}

# The set-up checks of the batch script fail the job with a clear line:
# OUT missing (exit 2; the job must not create it), snapshot root missing
# (3), key missing (2).
case_job_fails_when_out_missing() {
  job_must_fail noout 2 "FAILED: OUT $TMP/no-such-out does not exist" ESEP_OUT="$TMP/no-such-out"
  [ ! -e "$TMP/no-such-out" ] || fail "the job created OUT"
}
case_job_fails_when_snapshot_root_missing() {
  job_must_fail noroot 3 "FAILED: snapshot root $TMP/no-such-root does not exist" SNAPSHOT_ROOT="$TMP/no-such-root"
}
case_job_fails_when_key_missing() {
  job_must_fail nokey 2 "FAILED: signing key $TMP/no.key not readable" ESEP_KEY="$TMP/no.key"
}
# esep's own exit status comes through srun and the script: a night that
# is not a date is a usage error of esep nightly (2).
case_job_fails_with_esep_exit_status() {
  job_must_fail badon 2 "FAILED (exit 2)" ESEP_ON=2026-13-45
}
# The same through mpirun inside the allocation (ESEP_LAUNCH=mpirun): the
# job is a real 2-rank run (esep check would say "2 ranks"; here esep's
# usage error comes back through mpirun as the job's exit code).
case_job_with_mpirun_launcher() {
  job_must_fail mpirun 2 ": mpirun esep nightly .* on 2 tasks" ESEP_LAUNCH=mpirun ESEP_ON=2026-13-45
  # `sbatch --wait` polls at growing intervals: on a loaded machine the
  # job can take well over the clients' usual 20 s to be seen as ended.
  local rc=0
  SL_TIMEOUT=120 sl sbatch --wait --nodes=1 --ntasks=2 --mem-per-cpu=200M --output="$TMP/check.log" \
    --wrap "mpirun $JOB_ESEP check --snapshot $ROOT/tests/fixtures/ingest/20250415 --out $TMP/o" > /dev/null || rc=$?
  [ "$rc" -eq 0 ] || { echo "mpirun esep check in an allocation: exit $rc"; cat "$TMP/check.log"; fail "exit $rc"; }
  grep -q '^snapshot 20250415 .*, 2 ranks)$' "$TMP/check.log" || { cat "$TMP/check.log"; fail "not one 2-rank world"; }
}
run_case job_fails_when_out_missing case_job_fails_when_out_missing
run_case job_fails_when_snapshot_root_missing case_job_fails_when_snapshot_root_missing
run_case job_fails_when_key_missing case_job_fails_when_key_missing
run_case job_fails_with_esep_exit_status case_job_fails_with_esep_exit_status
run_case job_with_mpirun_launcher case_job_with_mpirun_launcher

# Two snapshot nights under a root (2000 persons each).
make_snapshots() {
  local d
  for d in 20261115 20261201; do
    "$GEN" --persons 2000 --date "$d" --seed 7 --out "$TMP/snapshots" > /dev/null || fail "gen-extracts $d"
  done
}

# The night of 2026-12-01 on a new OUT, with snapshots of 2026-11-15 and
# 2026-12-01 (outputs.md, Nightly operations): due are the periods that
# ended last before that night — 2026-11 for every monthly report (its
# snapshot: 20261201, the earliest after E = 2026-11-30) and 2026-Q3 for
# the quarterly ones (20261115). The expected list is worked out here from
# the periodicity in jobs/*.yaml, not asked of esep.
expected_items() {
  python3 - "$ROOT/jobs" <<'PY'
import glob, os, re, sys
period = {"monthly": "2026-11", "quarterly": "2026-Q3"}
items = set()  # a report with several methodology versions has several files
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.yaml"))):
    text = open(path, encoding="utf-8").read()
    rid = re.search(r"^id:\s*(\S+)", text, re.M).group(1)
    kind = re.search(r"^periodicity:\s*(\S+)", text, re.M).group(1)
    until = re.search(r"^valid_to:\s*(\S+)", text, re.M)
    if until is None or until.group(1) >= "2026-11-30":
        items.add((rid, period[kind]))
for rid, p in sorted(items):
    print(rid, p)
PY
}

case_nightly_job_publishes() {
  need_slurm
  make_site
  make_snapshots
  sbatch_nightly night ESEP_OUT="$TMP/out" SNAPSHOT_ROOT="$TMP/snapshots" ESEP_KEY="$TMP/esep.key" ESEP_ON=2026-12-01
  expect_job_exit night 0
  expected_items > "$TMP/expected.txt"
  [ "$(wc -l < "$TMP/expected.txt")" -eq 12 ] || fail "expected 12 due items"
  # Every due item done in the ledger, as `esep status --json` reports it.
  # The JSON's exact shape is the lead's: any object with report (or id),
  # period and state fields counts as one item.
  "$ESEP" status --out "$TMP/out" --json > "$TMP/status.json" || fail "esep status exit $?"
  python3 - "$TMP/status.json" "$TMP/expected.txt" <<'PY' || return 1
import json, sys
doc = json.load(open(sys.argv[1]))
want = {tuple(l.split()) for l in open(sys.argv[2]) if l.strip()}
state = {}
def walk(x):
    if isinstance(x, dict):
        rid = x.get("report", x.get("id"))
        if isinstance(rid, str) and isinstance(x.get("period"), str) and isinstance(x.get("state"), str):
            state.setdefault((rid, x["period"]), set()).add(x["state"])
        for v in x.values(): walk(v)
    elif isinstance(x, list):
        for v in x: walk(v)
walk(doc)
bad = sorted(f"{k}: {state.get(k)}" for k in want if state.get(k) != {"done"})
if bad:
    print("not done:", bad); print(json.dumps(doc, indent=1)[:3000]); sys.exit(1)
PY
  # The republic bundle of each period exists, verifies with the public
  # key, and its manifest lists exactly the period's due reports.
  local p bundle
  for p in 2026-11 2026-Q3; do
    # The `latest` revision when the layout has one, else the only bundle.
    bundle=$(find -L "$TMP/out/publish/00/$p" -name "esep-00-$p.tar.zst" |
      awk '/\/latest\//{l=$0} {a=$0} END{print l ? l : a}')
    [ -n "$bundle" ] || { find "$TMP/out/publish" | head -40; fail "no bundle esep-00-$p.tar.zst"; }
    "$ESEP" verify "$bundle" --pubkey "$TMP/esep.key.pub" || fail "verify $bundle"
    tar --zstd -xOf "$bundle" MANIFEST.json > "$TMP/manifest.json" || fail "tar $bundle"
    python3 - "$TMP/manifest.json" "$TMP/expected.txt" "$p" <<'PY' || return 1
import json, sys
m = json.load(open(sys.argv[1]))
want = sorted(l.split()[0] for l in open(sys.argv[2]) if l.split()[1:] == [sys.argv[3]])
got = sorted(r["id"] for r in m["reports"])
assert got == want, (sys.argv[3], got, want)
PY
  done
  # A second job the same night has nothing new to do and still succeeds.
  sbatch_nightly again ESEP_OUT="$TMP/out" SNAPSHOT_ROOT="$TMP/snapshots" ESEP_KEY="$TMP/esep.key" ESEP_ON=2026-12-01
  expect_job_exit again 0
}

# A nightly with a failed item fails the job with esep's exit 1: the
# persons extract of the snapshot the monthly reports use is truncated
# mid-frame, so those items fail (the quarterly ones, from the other
# snapshot, are still done).
case_nightly_job_fails_on_failed_items() {
  need_slurm
  make_site
  make_snapshots
  local f=$TMP/snapshots/20261201/persons.csv.zst
  head -c $(($(stat -c %s "$f") / 2)) "$f" > "$f.cut" && mv "$f.cut" "$f"
  sbatch_nightly failed ESEP_OUT="$TMP/out" SNAPSHOT_ROOT="$TMP/snapshots" ESEP_KEY="$TMP/esep.key" ESEP_ON=2026-12-01
  expect_job_exit failed 1
  grep -q "FAILED (exit 1): some items failed" "$TMP/failed.log" || fail "no FAILED line from the script"
}
run_case nightly_job_publishes case_nightly_job_publishes
run_case nightly_job_fails_on_failed_items case_nightly_job_fails_on_failed_items

# The systemd units: systemd-analyze finds nothing to complain about, and
# the service's own ExecStartPre/ExecStart lines — expanded the way
# systemd does (Environment=, then the EnvironmentFile's values over them;
# ${VAR} one word, $VAR split at spaces, %% a percent sign) — submit the
# job, wait for it, and fail exactly when it fails. The site file here
# points at this test's cluster, paths and one node with 2 tasks.
unit_commands() { # UNIT ENVFILE: each ExecStartPre/ExecStart argv, NUL-separated, one per line
  python3 - "$1" "$2" <<'PY'
import re, shlex, sys
unit, envfile = sys.argv[1:3]
env, cmds = {}, []
for line in open(unit):
    line = line.strip()
    if line.startswith("Environment="):
        k, v = line[len("Environment="):].split("=", 1)
        env[k] = v
    elif line.startswith(("ExecStartPre=", "ExecStart=")):
        cmds.append(line.split("=", 1)[1])
for line in open(envfile):
    if "=" in line and not line.startswith("#"):
        k, v = line.rstrip("\n").split("=", 1)
        env[k] = v
for c in cmds:
    argv = []
    for w in shlex.split(c.replace("%%", "\x00pct")):
        if re.fullmatch(r"\$[A-Za-z_][A-Za-z0-9_]*", w):
            argv += env.get(w[1:], "").split()
        else:
            argv.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: env.get(m.group(1), ""), w))
    sys.stdout.write("\x1f".join(a.replace("\x00pct", "%") for a in argv) + "\n")
PY
}

run_unit() { # UNIT ENVFILE: runs its commands in order, stops at the first failure
  local line rc=0
  local -a argv
  while IFS= read -r line; do
    IFS=$'\x1f' read -r -a argv <<<"$line"
    echo "+ ${argv[*]}"
    timeout 120 "${argv[@]}" || { rc=$?; break; }
  done < <(unit_commands "$1" "$2")
  return $rc
}

case_systemd_units() {
  need_slurm
  command -v systemd-analyze > /dev/null || fail "systemd-analyze not installed (package systemd)"
  local d=$TMP/units
  mkdir -p "$d" && cp "$ROOT"/cluster/*.service "$ROOT"/cluster/*.timer "$d/"
  (cd "$d" && systemd-analyze verify --man=no ./esep-nightly.timer ./esep-nightly.service \
    ./esep-nightly-failure@.service) > "$TMP/verify.txt" 2>&1
  # User=esep does not exist on a build machine: that one complaint is expected.
  if grep -v "User=\|esep: no such user\|Failed to resolve user" "$TMP/verify.txt" | has_line .; then
    cat "$TMP/verify.txt"; fail "systemd-analyze verify complains"
  fi
  grep -q '^OnFailure=esep-nightly-failure@%n.service$' "$d/esep-nightly.service" || fail "no OnFailure="
  grep -q '^Wants=network-online.target$' "$d/esep-nightly.service" || fail "no Wants=network-online.target"
  make_site
  cat > "$TMP/nightly.env" <<EOS
ESEP_HOME=$ROOT
ESEP_BIN=$JOB_ESEP
SNAPSHOT_ROOT=$TMP/snapshots
ESEP_OUT=$TMP/no-such-out
ESEP_KEY=$TMP/esep.key
ESEP_LOG_DIR=$TMP/logs
ESEP_SBATCH_OPTS=--nodes=1 --ntasks-per-node=2 --mem-per-cpu=200M --time=5
EOS
  # systemd hands the Environment= values to sbatch, which exports them.
  local key value
  while IFS='=' read -r key value; do export "$key=$value"; done < "$TMP/nightly.env"
  local rc=0
  run_unit "$d/esep-nightly.service" "$TMP/nightly.env" > "$TMP/unit.out" 2>&1 || rc=$?
  cat "$TMP/unit.out"
  [ $rc -eq 2 ] || fail "service with OUT missing: exit $rc, wanted 2 (the job's)"
  [ -d "$TMP/logs" ] || fail "ExecStartPre did not make the log directory"
  local log
  log=$(ls "$TMP"/logs/esep-nightly-*.log 2>/dev/null | head -1)
  [ -n "$log" ] || fail "no job log under ESEP_LOG_DIR"
  grep -q "FAILED: OUT $TMP/no-such-out does not exist" "$log" || { cat "$log"; fail "log lacks the reason"; }
}
run_case systemd_units case_systemd_units
