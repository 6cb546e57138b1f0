#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tests/service/openrc-run.sh DESTDIR WORKDIR: the installed OpenRC scripts (make install
# OPENRC=1) run by the real openrc-run and supervise-daemon, and what happened printed as
# "RESULT key value" lines for tests/unit/service.c. Root; OpenRC installed, not booted: the
# service state goes to a private /run (a mount namespace of its own), so nothing of the
# machine's own init is touched.
#
# sts-collector: started on loopback as nobody, killed (supervise-daemon respawns it), stopped
# (it drains and exits). stsd: start_pre refuses a missing configuration and a missing policy.
set -uo pipefail

dest=$1
work=$2

if [ -z "${STS_OPENRC_INNER:-}" ]; then
	exec env STS_OPENRC_INNER=1 unshare --mount --propagation private -- "$0" "$@"
fi
mount -t tmpfs -o mode=755 tmpfs /run
# What `openrc` makes at boot: the state directories, and "booted" (openrc-run refuses
# to run otherwise).
for d in daemons exclusive failed hotplugged inactive options scheduled started starting \
	stopping tmp wasinactive; do
	mkdir -p "/run/openrc/$d"
done
echo default > /run/openrc/softlevel
# The scripts name PREFIX/bin (PREFIX=/usr/local): DESTDIR's /usr/local stands in for it.
mount --bind "$dest/usr/local" /usr/local

init=$dest/etc/init.d
mkdir -p "$work/state" "$work/pki"
chmod 755 "$work" "$work/pki"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
	-keyout "$work/pki/tls-key.pem" -out "$work/pki/tls-cert.pem" 2>/dev/null
/usr/local/bin/sts-collector keygen --signing-key "$work/state/receipt.key" >/dev/null
cat > "$dest/etc/conf.d/sts-collector" <<CONF
collector_user=nobody
collector_group=nogroup
collector_listen=127.0.0.1:0
collector_tls_cert=$work/pki/tls-cert.pem
collector_tls_key=$work/pki/tls-key.pem
collector_state=$work/state
collector_opts="--port-file $work/state/port"
CONF

# The process supervise-daemon runs (pgrep -P: its only child).
child() { pgrep -P "$(cat /run/sts-collector.pid 2>/dev/null || echo 0)" -x sts-collector; }
wait_for() { for _ in $(seq 100); do eval "$1" && return 0; sleep 0.1; done; return 1; }

"$init/sts-collector" --nodeps start > "$work/start.out" 2>&1
echo "RESULT collector-start $?"
wait_for '[ -s "$work/state/port" ]'
echo "RESULT collector-port $(cat "$work/state/port" 2>/dev/null)"
"$init/sts-collector" status >/dev/null 2>&1
echo "RESULT collector-status $?"
pid=$(child)
echo "RESULT collector-user $([ -n "$pid" ] && ps -o user= -p "$pid")"
echo "RESULT receipt-key-owner $(stat -c %U "$work/state/receipt.key")"
echo "RESULT tls-key-group $(stat -c %G:%a "$work/pki/tls-key.pem")"
rm -f "$work/state/port"
[ -n "$pid" ] && kill -9 "$pid"
# respawn_delay is 5 s
wait_for '[ -s "$work/state/port" ]' || wait_for '[ -s "$work/state/port" ]'
new=$(child)
echo "RESULT collector-respawned $([ -n "$new" ] && [ "$new" != "$pid" ] && echo yes)"
"$init/sts-collector" --nodeps stop > "$work/stop.out" 2>&1
echo "RESULT collector-stop $?"
echo "RESULT collector-gone $([ -n "$new" ] && ! kill -0 "$new" 2>/dev/null && echo yes)"
"$init/sts-collector" status >/dev/null 2>&1
echo "RESULT collector-status-after $?"

# stsd: what start_pre refuses, before anything runs.
cfg=$work/stsd.conf
echo "stsd_config=$cfg" > "$dest/etc/conf.d/stsd"
"$init/stsd" --nodeps start > "$work/stsd1.out" 2>&1
echo "RESULT stsd-noconf $? $(grep -c 'no configuration' "$work/stsd1.out")"
printf 'collector-host localhost\npolicy %s/missing.conf\n' "$work" > "$cfg"
"$init/stsd" --nodeps start > "$work/stsd2.out" 2>&1
echo "RESULT stsd-nopolicy $? $(grep -c "no policy $work/missing.conf" "$work/stsd2.out")"
exit 0
