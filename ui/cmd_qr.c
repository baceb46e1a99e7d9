#include "ui/ui.h"

/* Replaced by the command's real implementation. */
int ui_qr_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return ui_usage_error("qr", "not built yet");
}
