#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tests/service/systemd-run.sh DESTDIR WORKDIR [PORT]: run the installed units for real, under a
# systemd of their own, and print what happened. Called by tests/progs/service.c (root).
#
# The machine's own init is not touched (it need not be systemd): systemd runs as PID 1 of new
# PID, mount and cgroup namespaces, as in a container, on a private /run, a cgroup2 subtree of
# its own, an overlay over /etc, empty /var/lib and /usr/local (where DESTDIR's /usr/local is
# bound), and an empty unit directory holding only a few empty targets: no unit of the machine
# can start. It shares the network, so the collector listens on 127.0.0.1 only.
#
# Then: sts-collector.service is started (its receipt key made by keygen as root first), then
# stsd.service (with --observe added: the host may refuse BPF LSM) activates against it; both
# run with every directive of their unit. Lines "RESULT key value" are what the test checks.
set -euo pipefail

dest=$1
work=$2
port=${3:-$((20000 + $$ % 20000))}
pid1=

cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$cg2" ] || { echo "SKIP: no cgroup2 hierarchy"; exit 77; }
cg="$cg2/sts-svctest-$$"

cleanup() {
	[ -n "$pid1" ] && kill -9 "$pid1" 2>/dev/null && sleep 0.5
	[ -n "${upid:-}" ] && kill -9 "$upid" 2>/dev/null && sleep 0.5
	# The namespace's cgroups, deepest first, once their processes are gone.
	[ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
}
trap cleanup EXIT
trap "exit 1" INT TERM

mkdir -p "$work"/{units,etc-up,etc-work,varlib,logs}
chmod 755 "$work" "$work/logs"
: > "$work/logs/console.log"

# The targets the units refer to, empty; the one the namespace's systemd starts.
for t in sysinit basic shutdown network-online multi-user sockets timers paths; do
	printf '[Unit]\nDefaultDependencies=no\n' > "$work/units/$t.target"
done
printf '[Unit]\nDefaultDependencies=no\n' > "$work/units/svctest.target"

# Inside the namespaces: the private mounts, then systemd as PID 1.
cat > "$work/inner.sh" <<INNER
#!/bin/bash
set -e
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/lock
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount --bind "$work/units" /usr/lib/systemd/system
mount -t tmpfs tmpfs /usr/lib/systemd/system-generators
mount -t overlay overlay -o lowerdir=/etc,upperdir="$work/etc-up",workdir="$work/etc-work" /etc
mount -t tmpfs tmpfs /etc/systemd/system
mount --bind "$work/varlib" /var/lib
mount --bind "$dest/usr/local" /usr/local
# PID 1 logs to the console: here, a file.
mount --bind "$work/logs/console.log" /dev/console
exec env -i container=stsguard-test PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	/lib/systemd/systemd --unit=svctest.target --log-target=console --log-level=info
INNER
chmod 755 "$work/inner.sh"

mkdir -p "$cg"
echo $$ > "$cg/cgroup.procs"
unshare --kill-child --cgroup --mount --pid --fork --mount-proc --propagation private \
	"$work/inner.sh" \
	> "$work/logs/pid1.log" 2>&1 &
upid=$!
echo $$ > "$cg2/cgroup.procs" # this shell leaves: the namespace's root is systemd's alone
for _ in $(seq 100); do
	pid1=$(pgrep -P "$upid" -x systemd || true)
	[ -n "$pid1" ] && [ -S "/proc/$pid1/root/run/systemd/private" ] && break
	sleep 0.1
done
[ -n "$pid1" ] || { cat "$work/logs/pid1.log"; echo "SKIP: systemd does not start here"; exit 77; }
# -p too: the manager refuses peers it cannot see in its PID namespace.
ns() { nsenter -t "$pid1" -m -p -- "$@"; }
for _ in $(seq 100); do
	ns systemctl is-system-running 2>/dev/null | grep -Eq 'running|degraded' && break
	sleep 0.1
done
echo "RESULT manager $(ns systemctl is-system-running 2>&1 || true)"

# -- the collector: TLS chain for localhost from a test CA, receipt key made by root --
pki=$work/etc-up/sts-collector
mkdir -p "$pki"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=test-ca \
	-keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
	-keyout "$pki/tls-key.pem" -out "$work/leaf.csr" 2>/dev/null
openssl x509 -req -in "$work/leaf.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -days 2 \
	-extfile <(printf 'subjectAltName=DNS:localhost\n') -out "$pki/tls-cert.pem" 2>/dev/null
# The users, as a package would make them (in the overlay: the machine's /etc is untouched).
ns systemd-sysusers
echo "RESULT sysusers $(ns getent passwd sts-collector stsagent | cut -d: -f1 | tr '\n' ' ')"
ns chown root:sts-collector /etc/sts-collector/tls-key.pem
ns chmod 0640 /etc/sts-collector/tls-key.pem
ns sts-collector keygen >/dev/null
# Drop-ins (the test's changes) in the namespace's /run/systemd/system.
dropins=/proc/$pid1/root/run/systemd/system
mkdir -p "$dropins/sts-collector.service.d" "$dropins/stsd.service.d"
cat > "$dropins/sts-collector.service.d/test.conf" <<CONF
[Service]
ExecStart=
ExecStart=/usr/local/bin/sts-collector serve --listen 127.0.0.1:$port \
	--tls-cert /etc/sts-collector/tls-cert.pem --tls-key /etc/sts-collector/tls-key.pem \
	--signing-key /var/lib/sts-collector/receipt.key --db /var/lib/sts-collector/collector.db
StandardOutput=append:$work/logs/sts-collector.log
StandardError=inherit
CONF
ns systemctl daemon-reload
if ns systemctl start sts-collector.service; then
	for _ in $(seq 50); do
		grep -q listening "$work/logs/sts-collector.log" 2>/dev/null && break
		sleep 0.1
	done
fi
cpid=$(ns systemctl show -P MainPID sts-collector.service)
ns systemctl status --no-pager sts-collector.service > "$work/logs/sts-collector.status" 2>&1 ||
	true
echo "RESULT collector-active $(ns systemctl is-active sts-collector.service || true)"
echo "RESULT receipt-key-owner $(ns stat -c %U /var/lib/sts-collector/receipt.key)"
echo "RESULT collector-uid $(ns id -un "$(ns awk '/^Uid:/ { print $2 }' "/proc/$cpid/status")")"
echo "RESULT collector-capeff $(ns awk '/^CapEff:/ { print $2 }' "/proc/$cpid/status")"
echo "RESULT collector-listening $(grep -c 'listening on 127.0.0.1' "$work/logs/sts-collector.log" ||
	true)"

# -- the monitor: a device configured against that collector --
sg=$work/etc-up/stsguard
mkdir -p "$sg"
cp "$work/ca.pem" "$sg/collector-ca.pem"
ns cat /var/lib/sts-collector/receipt.key.pub > "$sg/collector-key.pub"
echo 490154203237518 > "$sg/imei"
model=
[ -r /sys/class/dmi/id/product_name ] || model="model Test Phone"
cat > "$sg/stsd.conf" <<CONF
collector-host localhost
collector-addr 127.0.0.1:$port
collector-ca /etc/stsguard/collector-ca.pem
collector-key /etc/stsguard/collector-key.pub
imei-source file:/etc/stsguard/imei
agent /usr/local/libexec/stsguard/sts-agent
agent-user nobody
retry-initial 1
retry-max 2
$model
CONF
cat > "$sg/policy.conf" <<CONF
collector 127.0.0.1:$port
allow-read /etc/ld.so.cache
allow-read /lib64/ld-linux-x86-64.so.2
allow-read-dir /lib/x86_64-linux-gnu
allow-read /etc/os-release
allow-read /etc/stsguard/collector-ca.pem
$([ -r /sys/class/dmi/id/product_name ] && echo allow-read /sys/class/dmi/id/product_name)
state-dir /var/lib/stsguard/agent
CONF
chmod 644 "$sg"/*
cat > "$dropins/stsd.service.d/test.conf" <<CONF
[Service]
ExecStart=
ExecStart=/usr/local/bin/stsd daemon --notify --observe
StandardOutput=append:$work/logs/stsd.log
StandardError=inherit
CONF
ns systemctl daemon-reload
ns systemctl start stsd.service || true
echo "RESULT stsd-ready $(ns systemctl is-active stsd.service || true)"
# The monitor resumes its agent, stopped at SSL_write, by the PID the kernel reported: a PID of
# the machine's namespace, not of this test's, so its kill() misses here (it would not on a
# device, where the monitor runs in the initial PID namespace). Once the report is approved,
# the test resumes the agent in its place; all else is the monitor's.
log=$work/varlib/stsguard/evidence.log
for _ in $(seq 300); do
	grep -q '"type":"payload_allow"' "$log" 2>/dev/null && break
	sleep 0.1
done
agent=$(grep -o '"type":"payload_allow"[^}]*' "$log" 2>/dev/null | head -n 1 |
	sed -n 's/.*"pid":\([0-9]*\).*/\1/p')
echo "RESULT agent-approved ${agent:+yes}"
[ -n "$agent" ] && kill -CONT "$agent"
for _ in $(seq 300); do
	state=$(ns systemctl show -P ActiveState stsd.service)
	[ "$state" = active ] || [ "$state" = activating ] || break
	sleep 0.1
done
echo "RESULT stsd-state $state"
ns systemctl status --no-pager stsd.service > "$work/logs/stsd.status" 2>&1 || true
echo "RESULT stsd-result $(ns systemctl show -P Result stsd.service)"
echo "RESULT stsd-status $(ns systemctl show -P ExecMainStatus stsd.service)"
echo "RESULT stored $(ns sts-collector list --db /var/lib/sts-collector/collector.db --json |
	grep -o '"aid"' | wc -l)"
echo "RESULT receipt-verified $(ns grep -c '"status":"verified"' /var/lib/stsguard/evidence.log ||
	true)"

ns systemctl stop sts-collector.service
echo "RESULT collector-stop $(ns systemctl show -P Result sts-collector.service)"\
"/$(ns systemctl show -P ExecMainStatus sts-collector.service)"
echo "RESULT collector-drained $(grep -c 'draining' "$work/logs/sts-collector.log" || true)"
