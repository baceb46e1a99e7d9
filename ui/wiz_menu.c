#include <curses.h>

#include "ui/wiz.h"

static const char *const items[] = {
        "New key ceremony",
        "Recovery: write a restore blob",
        "DR drill: check keys, write nothing",
        "Inspect a security-domain file",
        "Show a file as QR codes",
        "Quit",
};
static const enum ui_wiz_state targets[] = {
        WIZ_KEYGEN, WIZ_RECOVERY, WIZ_DRILL, WIZ_INSPECT, WIZ_QRSHOW, WIZ_QUIT,
};
static struct ui_wiz_menu menu = {items, (int)(sizeof items / sizeof items[0]), 0};

static void menu_draw(struct wiz *w)
{
	int y = ui_wiz_top(w);

	ui_wiz_help(w, "Up/Down: move   Enter or 1-6: choose   Esc: back to the air-gap check");
	y = ui_wiz_print(w, y, 2, WC_NORMAL, "What are we doing?") + 1;
	ui_wiz_menu_draw(w, &menu, y, 4);
	y += 2 * menu.n;
	if (!w->isolated)
		ui_wiz_print(w, y, 4, WC_WARN, " WARNING: this machine is not air-gapped ");
}

static enum ui_wiz_state menu_key(struct wiz *w, int ch)
{
	int i;

	(void)w;
	if (ch == WIZ_KEY_ESC)
		return WIZ_START;
	if (ch == 'q')
		return WIZ_QUIT;
	i = ui_wiz_menu_key(&menu, ch);
	return i < 0 ? WIZ_MENU : targets[i];
}

const struct ui_wiz_screen ui_wiz_menu_screen = {
        .title = "menu",
        .draw = menu_draw,
        .key = menu_key,
};
