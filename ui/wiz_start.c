#include <curses.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ceremony/airgap.h"
#include "ui/wiz.h"

static struct cer_airgap gap;
static int gap_status;
static char gap_error[256];
static char sha_error[256];
static bool logged;

static void check(struct wiz *w)
{
	gap_status = cer_airgap_check(&gap);
	snprintf(gap_error, sizeof gap_error, "%s", gap_status == CER_OK ? "" : cer_errmsg());
	w->isolated = gap_status == CER_OK && cer_airgap_isolated(&gap);
	if (w->self_sha256[0] == '\0' && cer_self_sha256_hex(w->self_sha256) != CER_OK)
		snprintf(sha_error, sizeof sha_error, "%s", cer_errmsg());
}

static void start_init(struct wiz *w)
{
	check(w);
}

static int draw_gap(struct wiz *w, int y)
{
	unsigned i, j;
	char addrs[512];

	y = ui_wiz_print(w, y, 2, WC_NORMAL, "Air-gap check");
	if (gap_status != CER_OK)
		return ui_wiz_print(w, y, 4, WC_FAIL, "[FAIL] %s", gap_error);
	if (w->isolated)
		return ui_wiz_print(
		        w, y, 4, WC_OK,
		        "[OK] no network interface is up and no wireless device exists");
	y = ui_wiz_print(w, y, 4, WC_WARN, " WARNING: this machine is NOT air-gapped ");
	for (i = 0; i < gap.nifs && y < 12; i++) {
		size_t len = 0;

		addrs[0] = '\0';
		for (j = 0; j < gap.ifs[i].naddrs && len < sizeof addrs - 1; j++)
			len += (size_t)snprintf(addrs + len, sizeof addrs - len, "%s%s",
			                        j ? ", " : "", gap.ifs[i].addrs[j]);
		y = ui_wiz_print(w, y, 6, WC_FAIL, "[UP] %s%s: %s", gap.ifs[i].name,
		                 gap.ifs[i].wireless ? " (wireless)" : "",
		                 gap.ifs[i].naddrs ? addrs : "no address");
	}
	for (i = 0; i < gap.nwireless && y < 13; i++)
		y = ui_wiz_print(w, y, 6, WC_FAIL, "[RADIO] wireless device %s", gap.wireless[i]);
	if (gap.truncated)
		y = ui_wiz_print(w, y, 6, WC_FAIL, "(and more)");
	return ui_wiz_print(w, y, 4, WC_NORMAL,
	                    "Unplug the network and switch wireless off (or remove it) first.");
}

static void start_draw(struct wiz *w)
{
	char local[64];
	time_t now = time(NULL);
	struct tm tm;
	int y = ui_wiz_top(w);

	ui_wiz_help(w, "Enter: continue   r: check again   Esc/q: quit");
	y = draw_gap(w, y) + 1;
	strftime(local, sizeof local, "%Y-%m-%d %H:%M:%S %Z", localtime_r(&now, &tm));
	y = ui_wiz_print(w, y, 2, WC_NORMAL, "System clock    %s", local);
	y = ui_wiz_print(w, y, 2, WC_DIM,
	                 "                (certificates start now: check the date)");
	y = ui_wiz_print(w, y, 2, WC_NORMAL, "Version         sdceremony %s", SDC_VERSION);
	y = ui_wiz_print(w, y, 2, WC_NORMAL, "Binary SHA-256");
	if (sha_error[0] != '\0')
		y = ui_wiz_print(w, y, 4, WC_FAIL, "[FAIL] %s", sha_error);
	else
		y = ui_wiz_print(w, y, 4, WC_NORMAL, "%s", w->self_sha256);
	y = ui_wiz_print(w, y, 2, WC_NORMAL, "Transcript      %s (appended)", w->transcript_path);
	if (cer_memlock_state() == CER_MEMLOCK_UNLOCKED)
		y = ui_wiz_print(w, y, 2, WC_WARN, " WARNING: %s ", cer_memlock_problem());
	y++;
	ui_wiz_wrap(w, y, 2, WC_NORMAL,
	            "Compare the binary's SHA-256 with the published one before going on. "
	            "Press Enter to continue.");
}

static void log_start(struct wiz *w)
{
	unsigned i;

	if (logged)
		return;
	logged = true;
	ui_wiz_log(w, "wizard started: sdceremony %s, binary sha256 %s", SDC_VERSION,
	           w->self_sha256[0] != '\0' ? w->self_sha256 : "unknown");
	if (cer_memlock_state() == CER_MEMLOCK_UNLOCKED)
		ui_wiz_log(w, "memory: WARNING %s; operator accepted unlocked memory",
		           cer_memlock_problem());
	if (w->isolated) {
		ui_wiz_log(w, "air-gap check: [OK] no interface up, no wireless device");
		return;
	}
	for (i = 0; i < gap.nifs; i++)
		ui_wiz_log(w, "air-gap check: WARNING interface %s is up (%u addresses%s%s)",
		           gap.ifs[i].name, gap.ifs[i].naddrs, gap.ifs[i].naddrs ? ", first " : "",
		           gap.ifs[i].naddrs ? gap.ifs[i].addrs[0] : "");
	for (i = 0; i < gap.nwireless; i++)
		ui_wiz_log(w, "air-gap check: WARNING wireless device %s", gap.wireless[i]);
	ui_wiz_log(w, "air-gap check: operator confirmed going on without an air gap");
}

static enum ui_wiz_state start_key(struct wiz *w, int ch)
{
	if (ch == 'r' || ch == 'R') {
		check(w);
		return WIZ_START;
	}
	if (ch == WIZ_KEY_ESC || ch == 'q' || ch == 'Q')
		return WIZ_QUIT;
	if (!ui_wiz_is_enter(ch))
		return WIZ_START;
	if (!w->isolated && !w->airgap_confirmed) {
		if (!ui_wiz_confirm(w, "WARNING: not air-gapped",
		                    "A network interface is up or a wireless device exists.\n"
		                    "Private keys and passphrases must never touch a networked "
		                    "machine.\n\nGo on anyway (y), or disconnect first (n)?"))
			return WIZ_START;
		w->airgap_confirmed = true;
	}
	if (cer_secrets_permitted() != CER_OK) {
		if (!ui_wiz_confirm(w, "WARNING: memory not locked",
		                    "The process cannot be locked in memory, so passphrases, "
		                    "private keys and the master key may be written to swap.\n"
		                    "Run as root or raise the limit (ulimit -l) instead.\n\n"
		                    "Go on anyway (y), or stop here (n)?"))
			return WIZ_START;
		cer_memlock_accept_unlocked();
	}
	log_start(w);
	return WIZ_MENU;
}

const struct ui_wiz_screen ui_wiz_start_screen = {
        .title = "start: air-gap check",
        .init = start_init,
        .draw = start_draw,
        .key = start_key,
};
