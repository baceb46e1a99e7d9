#include "ui/ui.h"

/* Replaced by the command's real implementation. */
int ui_keygen_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return ui_usage_error("keygen", "not built yet");
}
