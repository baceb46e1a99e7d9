#ifndef CER_AIRGAP_H
#define CER_AIRGAP_H

/*
 * Air-gap check for the start of a ceremony: which network interfaces are
 * up (loopback excluded) with their addresses, which wireless devices exist,
 * and the SHA-256 of the running binary for the transcript.  Nothing here is
 * secret.  The check only reports; deciding whether to go on is the caller's.
 */

#include <stdbool.h>
#include <stddef.h>

#include "ceremony/cer.h"

#define CER_AIRGAP_MAX_IFS 16
#define CER_AIRGAP_MAX_ADDRS 8
#define CER_AIRGAP_MAX_WIRELESS 8
#define CER_AIRGAP_NAME_LEN 64 /* IFNAMSIZ is 16; phy names are short too */
#define CER_AIRGAP_ADDR_LEN 64 /* "ffff:...%scope" fits INET6_ADDRSTRLEN + scope */

struct cer_airgap_if {
	char name[CER_AIRGAP_NAME_LEN];
	bool wireless;   /* /sys/class/net/NAME/wireless exists */
	unsigned naddrs; /* IPv4 and IPv6 addresses, at most MAX_ADDRS */
	char addrs[CER_AIRGAP_MAX_ADDRS][CER_AIRGAP_ADDR_LEN];
};

struct cer_airgap {
	unsigned nifs; /* up, not loopback */
	struct cer_airgap_if ifs[CER_AIRGAP_MAX_IFS];
	unsigned nwireless; /* every wireless device, up or down */
	char wireless[CER_AIRGAP_MAX_WIRELESS][CER_AIRGAP_NAME_LEN];
	bool truncated; /* more interfaces/addresses/devices than fit */
};

/*
 * Fills *out.  Interfaces come from getifaddrs() (IFF_UP set, IFF_LOOPBACK
 * clear, in the order first seen); wireless devices from the net devices
 * with a wireless/ or phy80211 entry under /sys/class/net and the radios in
 * /sys/class/ieee80211.  Fails with CER_EIO only when getifaddrs() fails;
 * a missing /sys is not an error.
 */
int cer_airgap_check(struct cer_airgap *out) CER_WUR;

/* True when nothing is up and no wireless device exists. */
bool cer_airgap_isolated(const struct cer_airgap *a);

/* SHA-256 of /proc/self/exe as 64 lowercase hex digits plus NUL. */
int cer_self_sha256_hex(char hex[static 65]) CER_WUR;

#endif
