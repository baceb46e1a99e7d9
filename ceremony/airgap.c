#include "ceremony/airgap.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ceremony/io.h"

static bool net_has(const char *name, const char *leaf)
{
	char path[512];
	int n = snprintf(path, sizeof path, "/sys/class/net/%s/%s", name, leaf);

	return n > 0 && (size_t)n < sizeof path && access(path, F_OK) == 0;
}

static bool net_is_wireless(const char *name)
{
	return net_has(name, "wireless") || net_has(name, "phy80211");
}

static struct cer_airgap_if *find_or_add(struct cer_airgap *a, const char *name)
{
	unsigned i;
	struct cer_airgap_if *f;

	for (i = 0; i < a->nifs; i++)
		if (strcmp(a->ifs[i].name, name) == 0)
			return &a->ifs[i];
	if (a->nifs == CER_AIRGAP_MAX_IFS) {
		a->truncated = true;
		return NULL;
	}
	f = &a->ifs[a->nifs++];
	snprintf(f->name, sizeof f->name, "%s", name);
	f->wireless = net_is_wireless(name);
	return f;
}

static void add_addr(struct cer_airgap *a, struct cer_airgap_if *f, const struct sockaddr *sa)
{
	char text[INET6_ADDRSTRLEN] = "";
	const void *src;

	if (sa == NULL || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return;
	if (f->naddrs == CER_AIRGAP_MAX_ADDRS) {
		a->truncated = true;
		return;
	}
	if (sa->sa_family == AF_INET)
		src = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else
		src = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (inet_ntop(sa->sa_family, src, text, sizeof text) == NULL)
		return;
	snprintf(f->addrs[f->naddrs++], CER_AIRGAP_ADDR_LEN, "%s", text);
}

static void add_wireless(struct cer_airgap *a, const char *name)
{
	unsigned i;

	for (i = 0; i < a->nwireless; i++)
		if (strcmp(a->wireless[i], name) == 0)
			return;
	if (a->nwireless == CER_AIRGAP_MAX_WIRELESS) {
		a->truncated = true;
		return;
	}
	snprintf(a->wireless[a->nwireless++], CER_AIRGAP_NAME_LEN, "%s", name);
}

static void scan_wireless(struct cer_airgap *a)
{
	DIR *d;
	struct dirent *e;

	d = opendir("/sys/class/net");
	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			if (net_is_wireless(e->d_name))
				add_wireless(a, e->d_name);
		}
		closedir(d);
	}
	d = opendir("/sys/class/ieee80211");
	if (d != NULL) {
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				add_wireless(a, e->d_name);
		closedir(d);
	}
}

int cer_airgap_check(struct cer_airgap *out)
{
	struct ifaddrs *list = NULL, *p;

	memset(out, 0, sizeof *out);
	if (getifaddrs(&list) != 0)
		return cer_fail(CER_EIO, "cannot list network interfaces: %s", strerror(errno));
	for (p = list; p != NULL; p = p->ifa_next) {
		struct cer_airgap_if *f;

		if (p->ifa_name == NULL || !(p->ifa_flags & IFF_UP) ||
		    (p->ifa_flags & IFF_LOOPBACK))
			continue;
		f = find_or_add(out, p->ifa_name);
		if (f != NULL)
			add_addr(out, f, p->ifa_addr);
	}
	freeifaddrs(list);
	scan_wireless(out);
	return CER_OK;
}

bool cer_airgap_isolated(const struct cer_airgap *a)
{
	return a->nifs == 0 && a->nwireless == 0;
}

int cer_self_sha256_hex(char hex[static 65])
{
	int ret = cer_file_sha256_hex("/proc/self/exe", hex);

	if (ret != CER_OK)
		return cer_fail_context(ret, "own binary");
	return CER_OK;
}
