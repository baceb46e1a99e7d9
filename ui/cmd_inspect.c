#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "ceremony/filekind.h"
#include "ceremony/report.h"
#include "ceremony/transcript.h"
#include "ui/ui.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: %s inspect --sd-file SD [--certs DIR] [--json] [--transcript FILE]\n"
	        "\n"
	        "Describes a security-domain file without any key: its form, version, key\n"
	        "algorithm, required shares, each share's certificate thumbprint (x5t_256) and\n"
	        "JWE algorithms, the items' tags, encryption and sizes, and the KDF.  Every\n"
	        "malformed part (bad base64url, malformed JWE, unknown alg/enc, missing fields)\n"
	        "is listed; inspect does not stop at the first.\n"
	        "\n"
	        "  --sd-file SD   the security-domain file (JSON, {\"value\": ...}, or base64)\n"
	        "  --certs DIR    name the certificate file in DIR that each share belongs to\n"
	        "                 (no share matching any certificate there is a failure)\n"
	        "  --json         print one JSON object instead of text\n"
	        "  --transcript FILE  append the report to FILE (time, the file's SHA-256,\n"
	        "                 the report's lines), or the failure\n"
	        "  -h, --help     this help\n"
	        "\n"
	        "JSON fields: report (\"inspect\"), sd_file, sha256, size, form (json, value, "
	        "b64),\n"
	        "version, key_algorithm, required, shares, kdf (as in the file), file_problems\n"
	        "[text]; enc_shares: [{index, x5t_256, alg, enc, certificate (with --certs),\n"
	        "pair and half (version 1), problem}]; data: [{index, tag, size (ciphertext\n"
	        "bytes), enc, problem}]; certs_dir and certificates_matched (with --certs);\n"
	        "problems (count), ok.  Absent values are null.\n"
	        "\n"
	        "Exit status: 0 well formed, 1 internal error, 2 usage error, 3 the file is\n"
	        "malformed (the report lists every problem found), 4 --certs DIR holds the\n"
	        "certificate of no share in the file, 5 cannot read the file.\n",
	        ui_progname);
}

enum { OPT_SD = 256, OPT_CERTS, OPT_JSON, OPT_TRANSCRIPT };

static const struct option longopts[] = {
        {"sd-file", required_argument, NULL, OPT_SD},
        {"certs", required_argument, NULL, OPT_CERTS},
        {"json", no_argument, NULL, OPT_JSON},
        {"transcript", required_argument, NULL, OPT_TRANSCRIPT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};

int ui_inspect_main(int argc, char **argv)
{
	const char *sd_path = NULL, *certs = NULL, *tpath = NULL;
	struct cer_transcript *t = NULL;
	struct cer_report *rep = NULL;
	bool json = false;
	int c, ret, closed;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SD: sd_path = optarg; break;
		case OPT_CERTS: certs = optarg; break;
		case OPT_JSON: json = true; break;
		case OPT_TRANSCRIPT: tpath = optarg; break;
		case 'h': usage(stdout); return CER_OK;
		default: return ui_bad_option("inspect", argv, longopts);
		}
	}
	if (ui_no_operands("inspect", argc, argv) != CER_OK)
		return CER_EUSAGE;
	if (sd_path == NULL)
		return ui_usage_error("inspect", "--sd-file is required");
	if (tpath != NULL && cer_transcript_open(tpath, &t) != CER_OK)
		return ui_report(CER_EIO);
	ret = cer_inspect(sd_path, certs, t, &rep);
	closed = cer_transcript_close(t);
	if (closed != CER_OK)
		ret = closed;
	if (ret == CER_EIO && cer_errreason() == CER_REASON_TRANSCRIPT) {
		cer_report_free(rep); /* the report stands, its record is lost */
		return ui_report(ret);
	}
	if (rep == NULL)
		return ui_report(ui_explain_file(
		        ret, sd_path, "a security-domain file", CER_FILE_CERTIFICATE,
		        "--sd-file takes the file the "
		        "download call wrote; certificates go in --certs DIR",
		        CER_FILE_PRIVATE_KEY, "inspect needs no key", CER_FILE_UNKNOWN));
	if (ui_print_report(rep, json) != CER_OK) {
		cer_report_free(rep);
		return ui_report(CER_EINTERNAL);
	}
	cer_report_free(rep);
	if (ret != CER_OK)
		ui_report(ret);
	return ret;
}
