// SPDX-License-Identifier: GPL-2.0-only
#include "collector_helpers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ftw.h>
#include <grp.h>
#include <pwd.h>

#include <libpq-fe.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/crypto.h"
#include "test.h"
#include "core/util.h"

const char *collector_db_url;

const char *collector_bin(char *buf, size_t bufsz, const char *name)
{
	snprintf(buf, bufsz, "%s/%s", test__out_dir(), name);
	return buf;
}

static EVP_PKEY *new_p256(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -EINVAL;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -EIO;
}

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
		       long serial)
{
	X509 *cert = X509_new();
	X509_NAME *name;
	int err = 0;

	if (!cert)
		return NULL;
	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
	X509_gmtime_adj(X509_getm_notBefore(cert), -60);
	X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
	X509_set_pubkey(cert, key);
	name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
	if (!issuer) {
		err = add_ext(cert, cert, NID_basic_constraints, "critical,CA:TRUE");
		if (!err)
			err = add_ext(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
		if (!err)
			err = add_ext(cert, cert, NID_subject_key_identifier, "hash");
	} else {
		err = add_ext(cert, issuer, NID_basic_constraints, "critical,CA:FALSE");
		if (!err)
			err = add_ext(cert, issuer, NID_key_usage, "critical,digitalSignature");
		if (!err)
			err = add_ext(cert, issuer, NID_ext_key_usage, "serverAuth");
		if (!err)
			err = add_ext(cert, issuer, NID_subject_alt_name,
				      "DNS:localhost,IP:127.0.0.1");
		if (!err)
			err = add_ext(cert, issuer, NID_authority_key_identifier, "keyid");
	}
	if (err || !X509_sign(cert, issuer_key, EVP_sha256())) {
		X509_free(cert);
		return NULL;
	}
	return cert;
}

static int write_pem(const char *path, X509 *cert, EVP_PKEY *key)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return -errno;
	ok = cert ? PEM_write_X509(f, cert)
		  : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	if (fclose(f) != 0 || !ok)
		return -EIO;
	return 0;
}

int tls_make_pki(const char *dir)
{
	EVP_PKEY *cakey = NULL, *srvkey = NULL;
	X509 *ca = NULL, *srv = NULL;
	char path[512];
	int err = -EIO;

	cakey = new_p256();
	srvkey = new_p256();
	if (!cakey || !srvkey)
		goto cleanup;
	ca = make_cert(cakey, "stsguard test CA", NULL, cakey, 1);
	srv = ca ? make_cert(srvkey, "localhost", ca, cakey, 2) : NULL;
	if (!srv)
		goto cleanup;
	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	err = write_pem(path, ca, NULL);
	if (err)
		goto cleanup;
	snprintf(path, sizeof(path), "%s/server.pem", dir);
	err = write_pem(path, srv, NULL);
	if (err)
		goto cleanup;
	snprintf(path, sizeof(path), "%s/server.key", dir);
	err = write_pem(path, NULL, srvkey);
cleanup:
	X509_free(ca);
	X509_free(srv);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(srvkey);
	return err;
}

int collector_start(const char *dir, const char *const *extra, struct collector *c)
{
	char bin[256], key[300], cert[300], tkey[300], portf[300], buf[32];
	const char *argv[40];
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	struct sts_key k;
	struct stat st;
	int argc = 0, i, fd, err;
	ssize_t n;

	memset(c, 0, sizeof(*c));
	snprintf(c->dir, sizeof(c->dir), "%s", dir);
	snprintf(c->ca, sizeof(c->ca), "%s/ca.pem", dir);
	if (collector_db_url)
		snprintf(c->db, sizeof(c->db), "%s", collector_db_url);
	else
		snprintf(c->db, sizeof(c->db), "%s/collector.db", dir);
	snprintf(key, sizeof(key), "%s/receipt.key", dir);
	snprintf(c->pubkey, sizeof(c->pubkey), "%s/receipt.key.pub", dir);
	snprintf(cert, sizeof(cert), "%s/server.pem", dir);
	snprintf(tkey, sizeof(tkey), "%s/server.key", dir);
	snprintf(portf, sizeof(portf), "%s/port", dir);
	if (stat(c->ca, &st) < 0) {
		err = tls_make_pki(dir);
		if (err)
			return err;
	}
	if (stat(key, &st) < 0) {
		err = sts_key_generate(key, c->pubkey, &k);
		if (err)
			return err;
		sts_key_free(&k);
	}
	/* A collector that closes early must fail a write, not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	unlink(portf);
	argv[argc++] = collector_bin(bin, sizeof(bin), "sts-collector");
	argv[argc++] = "serve";
	argv[argc++] = "--listen";
	argv[argc++] = "127.0.0.1:0";
	argv[argc++] = "--tls-cert";
	argv[argc++] = cert;
	argv[argc++] = "--tls-key";
	argv[argc++] = tkey;
	argv[argc++] = "--signing-key";
	argv[argc++] = key;
	argv[argc++] = "--db";
	argv[argc++] = c->db;
	argv[argc++] = "--port-file";
	argv[argc++] = portf;
	for (i = 0; extra && extra[i] && argc < 39; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;

	c->pid = fork();
	if (c->pid < 0)
		return -errno;
	if (c->pid == 0) {
		char logp[320];

		/* The collector's log goes to a file in its directory, shown on failure. */
		snprintf(logp, sizeof(logp), "%s/collector.log", dir);
		fd = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		/* A crashed test must not leave a collector behind. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (i = 0; i < 500; i++) {
		fd = open(portf, O_RDONLY);
		if (fd >= 0) {
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (n > 0) {
				buf[n] = '\0';
				c->port = atoi(buf);
				return 0;
			}
		}
		if (waitpid(c->pid, NULL, WNOHANG) == c->pid) {
			c->pid = 0;
			return -ECHILD;
		}
		nanosleep(&ts, NULL);
	}
	kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
	c->pid = 0;
	return -ETIMEDOUT;
}

int collector_stop(struct collector *c, int *status)
{
	int st = 0;

	if (c->pid <= 0)
		return -ESRCH;
	if (kill(c->pid, SIGTERM) < 0)
		return -errno;
	if (waitpid(c->pid, &st, 0) < 0)
		return -errno;
	c->pid = 0;
	if (status)
		*status = st;
	return 0;
}

SSL *tls_connect(const char *ca, int port, int max_version, int *fdp)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	int fd = -1;

	*fdp = -1;
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return NULL;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
		goto fail;
	if (max_version)
		SSL_CTX_set_max_proto_version(ctx, max_version);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	ssl = SSL_new(ctx);
	if (!ssl || !SSL_set_tlsext_host_name(ssl, "localhost") ||
	    !SSL_set1_host(ssl, "localhost") || !SSL_set_fd(ssl, fd) || SSL_connect(ssl) != 1)
		goto fail;
	SSL_CTX_free(ctx); /* the SSL holds its own reference */
	*fdp = fd;
	return ssl;
fail:
	ERR_clear_error();
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
	return NULL;
}

void tls_close(SSL *ssl, int fd)
{
	if (ssl) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	if (fd >= 0)
		close(fd);
}

int tls_write_all(SSL *ssl, const void *buf, size_t len)
{
	const char *p = buf;
	int n;

	while (len) {
		n = SSL_write(ssl, p, len > 1 << 20 ? 1 << 20 : (int)len);
		if (n <= 0)
			return -EIO;
		p += n;
		len -= n;
	}
	return 0;
}

int http_read_response(SSL *ssl, int *status, char **body)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap), *nb, *sep;
	int n;

	*body = NULL;
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len + 1024 > cap) {
			nb = realloc(buf, cap *= 2);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = SSL_read(ssl, buf + len, (int)(cap - len - 1));
		if (n <= 0)
			break;
		len += n;
	}
	ERR_clear_error();
	buf[len] = '\0';
	sep = strstr(buf, "\r\n\r\n");
	if (!sep || sscanf(buf, "HTTP/1.1 %d", status) != 1) {
		free(buf);
		return -EPROTO;
	}
	*body = strdup(sep + 4);
	free(buf);
	return *body ? 0 : -ENOMEM;
}

int https_post(const char *ca, int port, const char *path, const char *ctype, const void *body,
	       size_t len, int *status, char **resp)
{
	char head[512];
	SSL *ssl;
	int fd, err;

	*resp = NULL;
	ssl = tls_connect(ca, port, 0, &fd);
	if (!ssl)
		return -ECONNREFUSED;
	snprintf(head, sizeof(head),
		 "POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: %s\r\n"
		 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		 path, ctype, len);
	err = tls_write_all(ssl, head, strlen(head));
	if (!err && len)
		err = tls_write_all(ssl, body, len);
	if (!err)
		err = http_read_response(ssl, status, resp);
	tls_close(ssl, fd);
	return err;
}

char *jws_forge(const struct sts_key *key, const char *header, const void *payload, size_t plen)
{
	size_t hl = sts_b64url_len(strlen(header)), pl = sts_b64url_len(plen),
	       sl = sts_b64url_len(STS_ED25519_SIG_LEN);
	uint8_t sig[STS_ED25519_SIG_LEN];
	char *out = malloc(hl + pl + sl + 3);

	if (!out)
		return NULL;
	if (sts_b64url_encode((const uint8_t *)header, strlen(header), out, hl + 1))
		goto fail;
	out[hl] = '.';
	if (sts_b64url_encode(payload, plen, out + hl + 1, pl + 1))
		goto fail;
	if (sts_sign(key, out, hl + 1 + pl, sig))
		goto fail;
	out[hl + 1 + pl] = '.';
	if (sts_b64url_encode(sig, sizeof(sig), out + hl + pl + 2, sl + 1))
		goto fail;
	return out;
fail:
	free(out);
	return NULL;
}

int https_raw(const char *ca, int port, const void *req, size_t len, char **resp)
{
	size_t cap = 4096, n = 0;
	char *buf, *nb;
	SSL *ssl;
	int fd, r, err;

	*resp = NULL;
	ssl = tls_connect(ca, port, 0, &fd);
	if (!ssl)
		return -ECONNREFUSED;
	err = tls_write_all(ssl, req, len);
	buf = malloc(cap);
	if (!buf) {
		tls_close(ssl, fd);
		return -ENOMEM;
	}
	/* Even when the write failed (refused early), read what the server answered. */
	for (;;) {
		if (n + 1024 > cap) {
			nb = realloc(buf, cap *= 2);
			if (!nb)
				break;
			buf = nb;
		}
		r = SSL_read(ssl, buf + n, (int)(cap - n - 1));
		if (r <= 0)
			break;
		n += r;
	}
	ERR_clear_error();
	buf[n] = '\0';
	tls_close(ssl, fd);
	*resp = buf;
	return n ? 0 : err ? err : -EPROTO;
}

/* ---- PostgreSQL ---- */

int pg_find_bindir(char *out, size_t outsz)
{
	static const char *const vers[] = { "15", "16", "17", "14", "13" };
	char p[256];
	size_t i;

	for (i = 0; i < sizeof(vers) / sizeof(vers[0]); i++) {
		snprintf(p, sizeof(p), "/usr/lib/postgresql/%s/bin/postgres", vers[i]);
		if (access(p, X_OK) == 0) {
			snprintf(p, sizeof(p), "/usr/lib/postgresql/%s/bin/initdb", vers[i]);
			if (access(p, X_OK) != 0)
				continue;
			snprintf(out, outsz, "/usr/lib/postgresql/%s/bin", vers[i]);
			return 0;
		}
	}
	return -ENOENT;
}

/* Run argv as the unprivileged owner of the server, output to dir/name.log. */
static pid_t pg_spawn(struct pg_server *pg, const char *const *argv, const char *logname)
{
	char logp[200];
	pid_t pid = fork();
	int fd;

	if (pid != 0)
		return pid;
	snprintf(logp, sizeof(logp), "%s/%s", pg->dir, logname);
	fd = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (geteuid() == 0 && (setgroups(0, NULL) || setgid(pg->gid) || setuid(pg->uid)))
		_exit(126);
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

static void pg_conninfo(struct pg_server *pg, const char *db, char *out, size_t outsz)
{
	/* The unix socket's name carries the port. */
	if (pg->port)
		snprintf(out, outsz, "postgresql:///%s?host=%s&port=%d&user=sts", db, pg->dir,
			 pg->port);
	else
		snprintf(out, outsz, "postgresql:///%s?host=%s&user=sts", db, pg->dir);
}

/* A loopback port free now (the server binds it a moment later). */
static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd, port = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    !getsockname(fd, (struct sockaddr *)&sa, &len))
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* The server's certificate and key into its directory, its own and 0600 as it demands. */
static int pg_tls_files(struct pg_server *pg)
{
	static const char *const names[][2] = { { "server.pem", "server.crt" },
						{ "server.key", "server.key" } };
	char from[360], to[200], buf[8192];
	int i, in, out, err = 0;
	ssize_t n;

	for (i = 0; !err && i < 2; i++) {
		snprintf(from, sizeof(from), "%s/%s", pg->tls_dir, names[i][0]);
		snprintf(to, sizeof(to), "%s/%s", pg->dir, names[i][1]);
		in = open(from, O_RDONLY | O_CLOEXEC);
		out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (in < 0 || out < 0)
			err = -errno;
		while (!err && (n = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, n) != n)
				err = -EIO;
		if (!err && fchown(out, pg->uid, pg->gid) < 0)
			err = -errno;
		if (in >= 0)
			close(in);
		if (out >= 0)
			close(out);
	}
	return err;
}

/* Unix socket: trust (the tests' own admin); TCP: TLS and a password, or nothing. */
static int pg_tls_hba(struct pg_server *pg)
{
	char path[200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/data/pg_hba.conf", pg->dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fputs("local all all trust\n"
	      "hostssl all all 127.0.0.1/32 scram-sha-256\n"
	      "hostnossl all all 127.0.0.1/32 reject\n",
	      f);
	return fclose(f) ? -EIO : 0;
}

int pg_start(struct pg_server *pg)
{
	char initdb[200], postgres[200], data[200], ver[256], ci[300];
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	struct passwd *pw;
	struct stat st;
	int i, status;
	pid_t pid;

	if (!pg->bindir[0] && pg_find_bindir(pg->bindir, sizeof(pg->bindir)))
		return -ENOENT;
	if (!pg->dir[0]) {
		snprintf(pg->dir, sizeof(pg->dir), "/tmp/sts-pg.XXXXXX");
		if (!mkdtemp(pg->dir))
			return -errno;
		pg->uid = geteuid();
		pg->gid = getegid();
		if (pg->uid == 0) {
			/* initdb and postgres refuse to run as root. */
			pw = getpwnam("nobody");
			if (!pw)
				return -ESRCH;
			pg->uid = pw->pw_uid;
			pg->gid = pw->pw_gid;
			if (chown(pg->dir, pg->uid, pg->gid) < 0)
				return -errno;
		}
	}
	snprintf(initdb, sizeof(initdb), "%s/initdb", pg->bindir);
	snprintf(postgres, sizeof(postgres), "%s/postgres", pg->bindir);
	snprintf(data, sizeof(data), "%s/data", pg->dir);
	snprintf(ver, sizeof(ver), "%s/PG_VERSION", data);
	if (stat(ver, &st) < 0) {
		const char *argv[] = { initdb,	       "-D", data,   "-U",	  "sts",
				       "--auth=trust", "-E", "UTF8", "--no-sync", NULL };

		pid = pg_spawn(pg, argv, "initdb.log");
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			return -EIO;
	}
	{
		/* A unix socket in its own directory; no TCP listener unless TLS is asked for. */
		char port[32], cert[220], key[220];
		const char *argv[24] = { postgres,
					 "-D",
					 data,
					 "-k",
					 pg->dir,
					 "-c",
					 "listen_addresses=",
					 "-c",
					 "max_connections=40",
					 "-c",
					 "shared_buffers=16MB",
					 NULL };
		int argc = 11, err;

		if (pg->tls_dir[0]) {
			if (!pg->port)
				pg->port = free_port();
			if (pg->port < 0)
				return -EADDRNOTAVAIL;
			err = pg_tls_files(pg);
			if (!err)
				err = pg_tls_hba(pg);
			if (err)
				return err;
			snprintf(port, sizeof(port), "port=%d", pg->port);
			snprintf(cert, sizeof(cert), "ssl_cert_file=%s/server.crt", pg->dir);
			snprintf(key, sizeof(key), "ssl_key_file=%s/server.key", pg->dir);
			argv[6] = "listen_addresses=127.0.0.1";
			argv[argc++] = "-c";
			argv[argc++] = port;
			argv[argc++] = "-c";
			argv[argc++] = "ssl=on";
			argv[argc++] = "-c";
			argv[argc++] = cert;
			argv[argc++] = "-c";
			argv[argc++] = key;
			argv[argc] = NULL;
		}
		pg->pid = pg_spawn(pg, argv, "server.log");
		if (pg->pid < 0)
			return -errno;
	}
	pg_conninfo(pg, "postgres", ci, sizeof(ci));
	for (i = 0; i < 400; i++) {
		if (PQping(ci) == PQPING_OK)
			return 0;
		if (waitpid(pg->pid, NULL, WNOHANG) == pg->pid) {
			pg->pid = 0;
			return -ECHILD;
		}
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}

int pg_stop(struct pg_server *pg)
{
	int status;

	if (pg->pid <= 0)
		return -ESRCH;
	/* SIGINT: fast shutdown, as `pg_ctl stop -m fast`. */
	if (kill(pg->pid, SIGINT) < 0 || waitpid(pg->pid, &status, 0) != pg->pid)
		return -errno;
	pg->pid = 0;
	return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void pg_destroy(struct pg_server *pg)
{
	if (pg->pid > 0)
		pg_stop(pg);
	if (pg->dir[0])
		nftw(pg->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	pg->dir[0] = '\0';
}

int pg_new_db(struct pg_server *pg, const char *name, char *url, size_t urlsz)
{
	char ci[300], sql[128];
	PGresult *res;
	PGconn *conn;
	int err = 0;

	pg_conninfo(pg, "postgres", ci, sizeof(ci));
	conn = PQconnectdb(ci);
	if (PQstatus(conn) != CONNECTION_OK) {
		PQfinish(conn);
		return -ECONNREFUSED;
	}
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		printf("    %s: %s", sql, PQerrorMessage(conn));
		err = -EIO;
	}
	PQclear(res);
	PQfinish(conn);
	pg_conninfo(pg, name, url, urlsz);
	return err;
}

static struct pg_server shared_pg;
static int shared_pg_dbs;

static void shared_pg_destroy(void)
{
	pg_destroy(&shared_pg);
}

const char *pg_shared_db(char *why, size_t whysz, struct pg_server **pg)
{
	static char url[300];
	char name[32];
	int err;

	if (pg)
		*pg = &shared_pg;
	if (shared_pg.pid <= 0) {
		err = pg_start(&shared_pg);
		if (err == -ENOENT) {
			snprintf(why, whysz,
				 "PostgreSQL server binaries (/usr/lib/postgresql/*/bin/postgres, "
				 "initdb) are not installed: apt-get install postgresql-15");
			return NULL;
		}
		if (err) {
			snprintf(why, whysz, "PostgreSQL did not start in %s: %s (see its logs)",
				 shared_pg.dir, strerror(-err));
			return NULL;
		}
		if (shared_pg_dbs == 0)
			atexit(shared_pg_destroy);
	}
	snprintf(name, sizeof(name), "t%d", ++shared_pg_dbs);
	err = pg_new_db(&shared_pg, name, url, sizeof(url));
	if (err) {
		snprintf(why, whysz, "CREATE DATABASE %s: %s", name, strerror(-err));
		return NULL;
	}
	return url;
}
