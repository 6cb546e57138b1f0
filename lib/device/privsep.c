// SPDX-License-Identifier: GPL-2.0-only
#include "device/privsep.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

struct ps_header {
	uint32_t type;
	uint32_t len;
};

int ps_send(int fd, uint32_t type, const void *payload, size_t len)
{
	struct ps_header h = { type, (uint32_t)len };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)payload, len } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t n;

	if (len > PS_MAX_PAYLOAD)
		return -EMSGSIZE;
	/* SOCK_SEQPACKET: one message, one record; MSG_NOSIGNAL: a dead peer is an error. */
	do
		n = sendmsg(fd, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == sizeof(h) + len ? 0 : -EIO;
}

int ps_recv(int fd, uint32_t *type, void *buf, size_t bufsz, size_t *len)
{
	static char frame[sizeof(struct ps_header) + PS_MAX_PAYLOAD + 1];
	struct ps_header h;
	ssize_t n;

	do
		n = recv(fd, frame, sizeof(frame), MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	if ((size_t)n < sizeof(h) || (size_t)n > sizeof(frame) - 1)
		return -EBADMSG;
	memcpy(&h, frame, sizeof(h));
	if (h.len != (size_t)n - sizeof(h) || h.len > PS_MAX_PAYLOAD)
		return -EBADMSG;
	if (h.len > bufsz)
		return -EMSGSIZE;
	memcpy(buf, frame + sizeof(h), h.len);
	*type = h.type;
	*len = h.len;
	return 0;
}

int ps_str_ok(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}
