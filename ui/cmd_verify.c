#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "ceremony/filekind.h"
#include "ceremony/recovery.h"
#include "ceremony/report.h"
#include "ceremony/sd.h"
#include "ceremony/transcript.h"
#include "ui/cmd_recovery_keys.h"
#include "ui/ui.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: %s verify --sd-file SD [--sd-file SD]... --sd-wrapping-keys KEY...\n"
	        "           [--passwords P... | --password-files F...] [--certs DIR] [--json]\n"
	        "           [--pin-file F...] [--pkcs11-module PATH] [--transcript FILE]\n"
	        "\n"
	        "The DR drill: proves that these keys and passwords recover the security domain,\n"
	        "without writing anything that could restore it.  Each key's share is found,\n"
	        "decrypted and authenticated.  With at least the required number of good shares\n"
	        "the master key is rebuilt and every item authenticated and decrypted (then\n"
	        "wiped); with more shares than required, every subset of the required size must\n"
	        "rebuild the same key, and shares that disagree are named.  With fewer, each\n"
	        "key is still checked (a custodian can check their own key alone) and the report\n"
	        "says how many more are needed.\n"
	        "\n"
	        "Retries are listed, not held against the drill: a failed attempt (a wrong\n"
	        "password, a certificate given for its key, the same key twice) that a good\n"
	        "share of the same key file or the same certificate supersedes.  A failed\n"
	        "attempt that nothing supersedes fails the drill.\n"
	        "\n"
	        "A key may be a PKCS#11 URI (RFC 7512), e.g. pkcs11:token=alice;object=sd-wrap:\n"
	        "the custodian's key on a token (smart card, YubiKey PIV, HSM).  Its share is\n"
	        "unwrapped on the token; the key's certificate is the one on the token with\n"
	        "the key's CKA_ID, or one in --certs DIR with its public key.  --passwords and\n"
	        "--password-files pair with the key files in their order, --pin-file with the\n"
	        "URIs in theirs.\n"
	        "\n"
	        "With several files (organisations with several HSMs often have the same\n"
	        "custodians for each), each key is asked for once and tried against every\n"
	        "file, and there is one report per file.\n"
	        "\n"
	        "  --sd-file SD...            the security-domain file, or several\n"
	        "  --sd-wrapping-keys KEY...  private keys, as for restore-blob\n"
	        "  --passwords P...           one password per key, in order.  Anything on a\n"
	        "                             command line is visible to other processes: prefer\n"
	        "                             --password-files or the prompt\n"
	        "  --password-files F...      files whose first line is the password of the key\n"
	        "                             in the same position (--passphrase-file F..., as\n"
	        "                             keygen spells it, is the same option)\n"
	        "  --certs DIR                where to look for certificates not beside their key\n"
	        "  --pin-file F...            for the PKCS#11 URIs among the keys, in their "
	        "order:\n"
	        "                             files whose first line is the token's user PIN;\n"
	        "                             without one the PIN is asked for on the terminal,\n"
	        "                             without echo (there is no option taking a PIN)\n"
	        "  --pkcs11-module PATH       the PKCS#11 module of the tokens (default: every\n"
	        "                             module registered with p11-kit)\n"
	        "  --json                     print the report as one JSON object\n"
	        "  --transcript FILE          append a record of the drill to FILE (time, the SD\n"
	        "                             file's SHA-256, keys and certificate thumbprints,\n"
	        "                             result; never a secret)\n"
	        "  -h, --help                 this help\n"
	        "\n"
	        "JSON fields: report (\"verify\"), sd_file, sha256, version, key_algorithm,\n"
	        "required, kdf (as in the security-domain file); keys: [{key, certificate,\n"
	        "x5t_256, status (good, needs_password, wrong_password, not_a_key,\n"
	        "no_certificate, no_share, duplicate, auth_failed, malformed, exchange_key),\n"
	        "disagrees, message, superseded (a retry), superseded_by (the number, from 1,\n"
	        "of the key that gave its share, or null)}], every attempt in order; good\n"
	        "(good shares), needed (more shares needed, 0 when reached),\n"
	        "subsets_checked; data:\n"
	        "[{tag, size (plaintext bytes), status (authenticated, failed, not_checked)}];\n"
	        "result (verified, quorum_not_reached, failed), exit_status, message.  With\n"
	        "several files: {report (\"verify_files\"), files: [one report per file, or\n"
	        "{report, sd_file, result (\"failed\"), exit_status, message} for a file that\n"
	        "could not be drilled], exit_status}.\n"
	        "\n"
	        "Exit status: 0 full recovery verified, 1 internal error, 2 usage error (or a key\n"
	        "needs a password and there is no terminal), 3 bad input file (a key that is\n"
	        "not a usable private key: a certificate, a directory; its certificate not\n"
	        "found), 4 a key or share failed (wrong passphrase, no share, failed\n"
	        "authentication, disagreeing shares, tampered item), 5 I/O error (a key file\n"
	        "that cannot be read), 6 every key given is good but fewer than required (the\n"
	        "same key twice counts once).  Only attempts that are not superseded count.  A\n"
	        "token key that cannot be used fails the drill as it fails restore-blob: 5\n"
	        "token absent, 4 wrong or locked PIN.\n"
	        "With several files: 0 when every file is verified, else the status of the\n"
	        "first file that was not.\n",
	        ui_progname);
}

enum { OPT_SD = UI_RK_OPT_END, OPT_JSON, OPT_TRANSCRIPT };

static const struct option longopts[] = {
        {"sd-file", required_argument, NULL, OPT_SD},
        UI_RK_LONGOPTS,
        {"json", no_argument, NULL, OPT_JSON},
        {"transcript", required_argument, NULL, OPT_TRANSCRIPT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};

/* A drill that stopped before its session recorded the end; a lost record is said. */
static void log_failure(struct cer_transcript *t, const char *sd_path, int status)
{
	enum cer_reason why = cer_errreason();
	char msg[1024];

	snprintf(msg, sizeof msg, "%s", cer_errmsg());
	if (cer_recovery_failed(t, "drill", sd_path, status) != status) {
		fprintf(stderr, "%s: %s\n", ui_progname, cer_errmsg());
		cer_fail_reason(status, why, "%s", msg);
	}
}

/*
 * One file's drill.  The report is printed (text), or its JSON handed back in
 * *json_text (malloc'ed) for the caller to print.
 */
static int verify_one(const char *sd_path, struct ui_recovery_keys *keys, struct cer_transcript *t,
                      bool json, char **json_text, char failure[static 1024])
{
	struct cer_sd *sd = NULL;
	struct cer_recovery *r = NULL;
	struct cer_report *rep = NULL;
	char msg[1024];
	enum cer_reason why = CER_REASON_NONE;
	int ret;

	*json_text = NULL;
	failure[0] = '\0';
	ret = cer_sd_load(sd_path, &sd);
	ret = ui_explain_file(ret, sd_path, "a security-domain file", CER_FILE_CERTIFICATE,
	                      "--sd-file takes the file the download call wrote",
	                      CER_FILE_PRIVATE_KEY, "keys go after --sd-wrapping-keys",
	                      CER_FILE_UNKNOWN);
	if (ret == CER_OK)
		ret = cer_recovery_new(sd, &r);
	if (ret == CER_OK && t != NULL)
		ret = cer_recovery_set_transcript(r, t, "drill", sd_path);
	if (ret == CER_OK)
		ret = ui_recovery_keys_add(r, keys, false, false);
	if (ret != CER_OK) {
		snprintf(failure, 1024, "%s", cer_errmsg());
		log_failure(t, sd_path, ret);
		ui_report(ret);
		goto out;
	}
	ret = cer_recovery_verify(r, &ui_stderr_progress, &rep);
	ret = ui_recovery_keys_explain(keys, r, ret);
	snprintf(msg, sizeof msg, "%s", cer_errmsg());
	why = cer_errreason();
	if (rep == NULL) {
		snprintf(failure, 1024, "%s", msg);
		log_failure(t, sd_path, ret);
		ui_report(ret);
		goto out;
	}
	if (json) {
		*json_text = cer_report_json(rep);
		if (*json_text == NULL)
			ui_report(cer_fail(CER_EINTERNAL, "out of memory"));
	} else if (ui_print_report(rep, false) != CER_OK) {
		ui_report(CER_EINTERNAL);
	}
	if (ret != CER_OK)
		ui_report(cer_fail_reason(ret, why, "%s", msg));
out:
	cer_report_free(rep);
	cer_recovery_free(r);
	cer_sd_free(sd);
	return ret;
}

static void json_string_print(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	putchar('"');
	for (; *u != '\0'; u++) {
		if (*u == '"' || *u == '\\')
			printf("\\%c", *u);
		else if (*u < 0x20 || *u == 0x7f)
			printf("\\u%04x", *u);
		else
			putchar(*u);
	}
	putchar('"');
}

/* The entry of a file whose drill could not even produce a report. */
static void json_failure_print(const char *sd_path, int status, const char *message)
{
	printf("{\"report\": \"verify\", \"sd_file\": ");
	json_string_print(sd_path);
	printf(", \"result\": \"failed\", \"exit_status\": %d, \"message\": ", status);
	json_string_print(message);
	printf("}");
}

int ui_verify_main(int argc, char **argv)
{
	struct ui_recovery_keys keys = {0};
	const char **sd_paths = NULL, *tpath = NULL;
	struct cer_transcript *t = NULL;
	bool json = false;
	char *jtext, failure[1024];
	int nsd = 0, c, i, ret, st;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SD:
			nsd = ui_collect_values(optarg, argc, argv, &optind, &sd_paths, nsd);
			if (nsd < 0) {
				ret = ui_report(cer_fail(CER_EINTERNAL, "out of memory"));
				goto out;
			}
			break;
		case OPT_JSON: json = true; break;
		case OPT_TRANSCRIPT: tpath = optarg; break;
		case 'h':
			usage(stdout);
			ret = CER_OK;
			goto out;
		default:
			ret = ui_recovery_keys_option(&keys, "verify", c, argc, argv, longopts);
			if (ret != CER_OK)
				goto out;
			break;
		}
	}
	ret = ui_no_operands("verify", argc, argv);
	if (ret != CER_OK)
		goto out;
	if (nsd == 0) {
		ret = ui_usage_error("verify", "--sd-file is required");
		goto out;
	}
	ret = ui_recovery_keys_check("verify", &keys);
	if (ret != CER_OK)
		goto out;
	if (tpath != NULL) {
		ret = cer_transcript_open(tpath, &t);
		if (ret != CER_OK) {
			ui_report(ret);
			goto out;
		}
	}
	if (json && nsd > 1)
		printf("{\n\"report\": \"verify_files\",\n\"files\": [\n");
	for (i = 0; i < nsd; i++) {
		if (!json && i > 0)
			printf("\n");
		st = verify_one(sd_paths[i], &keys, t, json, &jtext, failure);
		if (st != CER_OK && ret == CER_OK)
			ret = st;
		if (jtext != NULL)
			printf("%s", jtext);
		else if (json && nsd > 1)
			json_failure_print(sd_paths[i], st, failure);
		if (json && (jtext != NULL || nsd > 1))
			printf("%s\n", nsd > 1 && i + 1 < nsd ? "," : "");
		free(jtext);
		fflush(stdout);
	}
	if (json && nsd > 1)
		printf("],\n\"exit_status\": %d\n}\n", ret);
out:
	if (cer_transcript_close(t) != CER_OK) {
		ui_report(CER_EIO);
		if (ret == CER_OK)
			ret = CER_EIO;
	}
	free(sd_paths);
	ui_recovery_keys_free(&keys);
	return ret;
}
