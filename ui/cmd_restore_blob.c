#include "ui/ui.h"

/* Replaced by the command's real implementation. */
int ui_restore_blob_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return ui_usage_error("restore-blob", "not built yet");
}
