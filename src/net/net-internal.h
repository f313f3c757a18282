/*
 * net-internal.h - shared by src/net's files that speak rtnetlink
 * (netlink.c, vxlan.c): a request built in a stack buffer (attributes
 * appended, nests opened and closed by offset) and the one exchange that
 * sends it and reads the answer.
 */
#ifndef GR_NET_INTERNAL_H
#define GR_NET_INTERNAL_H

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdint.h>
#include <string.h>
#include "net/net.h"

#define MSG_MAX 4096

struct msg {
	union {
		struct nlmsghdr h;
		char buf[MSG_MAX];
	};
};

static inline void *tail(struct msg *m)
{
	return m->buf + NLMSG_ALIGN(m->h.nlmsg_len);
}

static inline void put_attr(struct msg *m, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = tail(m);
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	m->h.nlmsg_len = NLMSG_ALIGN(m->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static inline void put_str(struct msg *m, unsigned short type, const char *s)
{
	put_attr(m, type, s, strlen(s) + 1);
}

static inline void put_u32(struct msg *m, unsigned short type, uint32_t v)
{
	put_attr(m, type, &v, sizeof v);
}

static inline size_t nest_begin(struct msg *m, unsigned short type)
{
	size_t off = NLMSG_ALIGN(m->h.nlmsg_len);
	put_attr(m, type, NULL, 0);
	return off;
}

static inline void nest_end(struct msg *m, size_t off)
{
	struct rtattr *a = (struct rtattr *)(m->buf + off);
	a->rta_len = (unsigned short)(m->h.nlmsg_len - off);
}

static inline void msg_init(struct msg *m, uint16_t type, uint16_t flags, const void *hdr, size_t hlen)
{
	memset(m, 0, sizeof *m);
	m->h.nlmsg_len = (uint32_t)NLMSG_LENGTH(hlen);
	m->h.nlmsg_type = type;
	m->h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	memcpy(NLMSG_DATA(&m->h), hdr, hlen);
}

/* Send m on nl and read the answer: 0 on an ack, -errno from the kernel
 * otherwise; fn (may be NULL) sees each non-error reply (a dump's parts). */
int gr__nl_talk(struct gr_nl *nl, struct msg *m, void (*fn)(struct nlmsghdr *h, void *ud), void *ud);

/* Delete the links name(inst, 0..n-1) (a NIC's host ends: veths or taps);
 * absent ones are fine; the first error is kept and the rest still tried. */
int gr__net_del_links(const char *inst, unsigned n, char *(*name)(const char *inst, unsigned index, char *buf),
		      gr_error_t *err);

#endif
