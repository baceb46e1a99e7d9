#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/keygen.h"
#include "ceremony/transcript.h"
#include "ui/ui.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: %s package --certs CERT... --quorum Q --out DIR [--force] [--json]\n"
	        "           [--transcript FILE]\n"
	        "\n"
	        "Builds DIR/download-request.json (the REST body of the download call) and\n"
	        "DIR/ceremony.json (manifest with thumbprints) from existing certificates, e.g.\n"
	        "made with openssl as in the service's quickstart.  The certificates must hold\n"
	        "distinct RSA keys of at least 2048 bits; 3 to 10 of them; quorum 2 to N.\n"
	        "\n"
	        "  -c, --certs CERT...  the custodians' certificates (PEM or DER), in order;\n"
	        "                       list them after one --certs or repeat the option\n"
	        "  -q, --quorum Q       keys needed to recover, 2 to N\n"
	        "  -o, --out DIR        where to write the two files (created if missing)\n"
	        "  -f, --force          replace the two files if they exist\n"
	        "      --json           print the result as JSON on standard output\n"
	        "      --transcript FILE  append a record to FILE (time, certificates'\n"
	        "                         thumbprints, each file's SHA-256; never a secret)\n"
	        "  -h, --help           this help\n"
	        "\n"
	        "Exit status: 0 done, 1 internal error, 2 usage error, 3 bad certificate,\n"
	        "5 I/O error.\n",
	        ui_progname);
}

int ui_package_main(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"certs", required_argument, NULL, 'c'},
	        {"quorum", required_argument, NULL, 'q'},
	        {"out", required_argument, NULL, 'o'},
	        {"force", no_argument, NULL, 'f'},
	        {"json", no_argument, NULL, 'j'},
	        {"transcript", required_argument, NULL, 'R'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct cer_package_params p;
	struct cer_keygen_result *r = NULL;
	struct cer_transcript *t = NULL;
	const char *tpath = NULL;
	const char **certs = NULL;
	int ncerts = 0, c, ret;
	bool json = false, have_quorum = false;
	unsigned i;

	ui_exists_hint = "use --force to replace it";
	memset(&p, 0, sizeof p);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+c:q:o:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ncerts = ui_collect_values(optarg, argc, argv, &optind, &certs, ncerts);
			if (ncerts < 0) {
				ret = ui_report(cer_fail(CER_EINTERNAL, "out of memory"));
				goto out;
			}
			break;
		case 'q':
			if (!ui_parse_uint(optarg, &p.quorum)) {
				ret = ui_usage_error("package", "--quorum: '%s' is not a number",
				                     optarg);
				goto out;
			}
			have_quorum = true;
			break;
		case 'o': p.out_dir = optarg; break;
		case 'f': p.force = true; break;
		case 'R': tpath = optarg; break;
		case 'j': json = true; break;
		case 'h':
			usage(stdout);
			ret = CER_OK;
			goto out;
		default: ret = ui_bad_option("package", argv, opts); goto out;
		}
	}
	ret = ui_no_operands("package", argc, argv);
	if (ret != CER_OK)
		goto out;
	if (ncerts == 0 || !have_quorum || p.out_dir == NULL) {
		ret = ui_usage_error("package", "--certs, --quorum and --out are required");
		goto out;
	}
	if (ncerts > CER_KEYGEN_MAX_KEYS) {
		ret = ui_report(cer_keygen_check_counts((unsigned)ncerts, p.quorum));
		goto out;
	}
	p.count = (unsigned)ncerts;
	for (i = 0; i < p.count; i++)
		p.cert_paths[i] = certs[i];
	if (tpath != NULL && (ret = cer_transcript_open(tpath, &t)) != CER_OK) {
		ret = ui_report(ret);
		goto out;
	}
	p.transcript = t;
	ret = cer_package(&p, &r);
	if (r != NULL)
		ui_keygen_result_print(r, json);
	if (ret != CER_OK)
		ret = ui_report(ret);
out:
	if (cer_transcript_close(t) != CER_OK && ret == CER_OK)
		ret = ui_report(CER_EIO);
	cer_keygen_result_free(r);
	free(certs);
	return ret;
}
