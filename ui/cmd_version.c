#include <stdio.h>
#include <string.h>

#include "ui/ui.h"

int ui_version_main(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("Usage: %s version\n\nPrints the version.\n", ui_progname);
		return CER_OK;
	}
	if (argc > 1)
		return ui_usage_error("version", "unexpected argument '%s'", argv[1]);
	printf("sdceremony %s\n", SDC_VERSION);
	return CER_OK;
}
