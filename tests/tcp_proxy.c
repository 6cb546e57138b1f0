// SPDX-License-Identifier: GPL-2.0-only
#include "tcp_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int connect_port(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/*
 * Walk the client's TLS records; true once it has sent a large application_data record (the
 * request, not the handshake's Finished): from then on, a stalled relay drops the answers.
 */
struct walk {
	size_t left;
	unsigned char hdr[5];
	size_t have;
	bool request_sent;
};

static void walk(struct walk *w, const unsigned char *b, size_t n)
{
	size_t take;

	while (n) {
		if (w->left) {
			take = n < w->left ? n : w->left;
			w->left -= take;
			b += take;
			n -= take;
			continue;
		}
		w->hdr[w->have++] = *b++;
		n--;
		if (w->have < 5)
			continue;
		w->have = 0;
		w->left = (size_t)w->hdr[3] << 8 | w->hdr[4];
		if (w->hdr[0] == 23 && w->left > 100)
			w->request_sent = true;
	}
}

/* Wait ms for the client; false if it closed meanwhile (it gave up on us). */
static bool client_waits(int cfd, int ms)
{
	struct pollfd pf = { cfd, POLLRDHUP, 0 };

	if (poll(&pf, 1, ms) <= 0)
		return true;
	return !(pf.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static void relay(struct tcp_proxy *p, int cfd)
{
	bool sent, answered = false;
	struct walk w = { 0 };
	struct pollfd pf[2];
	char buf[16384];
	int sfd, i;
	ssize_t n;

	sfd = p->target_port ? connect_port(p->target_port) : -1;
	if (sfd < 0) {
		close(cfd);
		return;
	}
	pf[0] = (struct pollfd){ cfd, POLLIN, 0 };
	pf[1] = (struct pollfd){ sfd, POLLIN, 0 };
	while (p->running && poll(pf, 2, 100) >= 0) {
		for (i = 0; i < 2; i++) {
			if (!pf[i].revents)
				continue;
			n = read(pf[i].fd, buf, sizeof(buf));
			if (n <= 0 && i == 1 && p->stall && w.request_sent) {
				/* Hold the client: it waits for an answer that never comes. */
				pf[1].fd = -1;
				continue;
			}
			if (n <= 0)
				goto done;
			if (i == 0) {
				sent = w.request_sent;
				walk(&w, (unsigned char *)buf, n);
				if (!sent && w.request_sent) {
					p->requests++;
					if (p->delay_request_ms &&
					    !client_waits(cfd, p->delay_request_ms))
						goto done;
				}
			}
			if (i == 1 && w.request_sent && !answered) {
				answered = true;
				p->answers++;
				for (int t = 0; t < p->delay_answer_ms && !p->release; t += 5)
					usleep(5000);
				p->release = false;
			}
			/* Stalled: once the request went out, the answer is read and dropped. */
			if (i == 1 && p->stall && w.request_sent)
				continue;
			if (write(pf[1 - i].fd, buf, n) != n)
				goto done;
		}
	}
done:
	close(sfd); /* pf[1].fd may be -1 by now; sfd is the socket */
	close(cfd);
}

static void *run(void *arg)
{
	struct tcp_proxy *p = arg;
	struct pollfd pf = { p->fd, POLLIN, 0 };
	int cfd;

	while (p->running) {
		if (poll(&pf, 1, 100) <= 0)
			continue;
		cfd = accept(p->fd, NULL, NULL);
		if (cfd < 0)
			continue;
		p->connections++;
		relay(p, cfd);
	}
	return NULL;
}

int tcp_proxy_start(struct tcp_proxy *p)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	p->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (p->fd < 0 || bind(p->fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(p->fd, 16) ||
	    getsockname(p->fd, (struct sockaddr *)&sa, &len))
		return -errno;
	p->port = ntohs(sa.sin_port);
	p->running = true;
	if (pthread_create(&p->thread, NULL, run, p)) {
		p->running = false;
		return -EAGAIN;
	}
	return 0;
}

void tcp_proxy_stop(struct tcp_proxy *p)
{
	if (p->running) {
		p->running = false;
		pthread_join(p->thread, NULL);
	}
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}
