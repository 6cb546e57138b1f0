/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sts-collector internals: the store (store.h: store_sqlite.c, store_pg.c), the HTTPS server
 * (server.c) and the command line (main.c). Functions return 0 or -errno.
 */
#ifndef STS_COLLECTOR_H
#define STS_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/crypto.h"
#include "wire/jws.h"
#include "wire/report.h"
#include "store.h"

#define COLLECTOR_STATE_DIR "/var/lib/sts-collector"
#define COLLECTOR_DEFAULT_DB COLLECTOR_STATE_DIR "/collector.db"
#define COLLECTOR_DEFAULT_SIGNING_KEY COLLECTOR_STATE_DIR "/receipt.key"
#define COLLECTOR_DEFAULT_TLS_CERT "/etc/sts-collector/tls-cert.pem"
#define COLLECTOR_DEFAULT_TLS_KEY "/etc/sts-collector/tls-key.pem"
#define COLLECTOR_DEFAULT_LISTEN "0.0.0.0:8443"
#define COLLECTOR_DEFAULT_MAX_BODY 8192
#define COLLECTOR_DEFAULT_TIMEOUT 10
#define COLLECTOR_DEFAULT_MAX_CONNS 256

struct server_opts {
	const char *listen;
	const char *tls_cert;
	const char *tls_key;
	const char *signing_key;
	const char *db;
	const char *trusted_keys; /* NULL: trust on first use */
	const char *port_file;
	long max_body;
	int timeout;
	int max_conns;
};

/* Run until SIGTERM/SIGINT has drained the in-flight requests. Returns 0 or -errno. */
int server_run(const struct server_opts *o);

#endif /* STS_COLLECTOR_H */
