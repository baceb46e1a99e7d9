#include <stdio.h>
#include <string.h>

#include "sdc_build.h"
#include "ui/ui.h"

int ui_version_main(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("Usage: %s version\n\nPrints the version, then the commit the binary was "
		       "built from, the commit's date and the compiler.  Two builds of the same "
		       "commit\nwith the same compiler and libraries are identical byte for "
		       "byte (see the\nceremony guide: rebuilding on a second machine).\n",
		       ui_progname);
		return CER_OK;
	}
	if (argc > 1)
		return ui_usage_error("version", "unexpected argument '%s'", argv[1]);
	printf("sdceremony %s\n", SDC_VERSION);
	printf("commit   %s\n", SDC_COMMIT);
	printf("date     %s\n", SDC_BUILD_DATE);
	printf("compiler %s\n", SDC_COMPILER);
	return CER_OK;
}
