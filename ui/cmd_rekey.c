#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "ceremony/recovery.h"
#include "ceremony/rekey.h"
#include "ceremony/report.h"
#include "ceremony/sd.h"
#include "ceremony/transcript.h"
#include "ui/cmd_recovery_keys.h"
#include "ui/ui.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: %s rekey --sd-file SD --sd-wrapping-keys KEY...\n"
	        "           [--passwords P... | --password-files F...] [--certs DIR]\n"
	        "           [--pin-file F...] [--pkcs11-module PATH]\n"
	        "           --new-certs CERT... --new-quorum Q --out NEW-SD [--force] [--json]\n"
	        "           [--transcript FILE]\n"
	        "\n"
	        "Re-shares the security domain to new custodians or a new quorum, offline.\n"
	        "A quorum of the current custodians' keys rebuilds the master key (every key\n"
	        "given is checked, as by restore-blob; with more than the quorum, every subset\n"
	        "must agree) and every item is authenticated and decrypted.  A fresh master key\n"
	        "is drawn, every item re-encrypted under it (same tags, order and plaintexts),\n"
	        "and the key split into one share per new certificate (x = 1..N in the order\n"
	        "given), each encrypted to its certificate with RSA-OAEP-256 + A256CBC-HS512,\n"
	        "in the service's version 2 layout: the new file works with az and with this\n"
	        "tool for every later recovery.  Before anything is written the new file is\n"
	        "checked in memory: every subset of Q new shares rebuilds the new master key\n"
	        "and every item authenticates under it.  NEW-SD is written atomically.\n"
	        "\n"
	        "A key may be a PKCS#11 URI (RFC 7512), e.g. pkcs11:token=alice;object=sd-wrap:\n"
	        "the custodian's key on a token (smart card, YubiKey PIV, HSM).  Its share is\n"
	        "unwrapped on the token; the key's certificate is the one on the token with\n"
	        "the key's CKA_ID, or one in --certs DIR with its public key.  --passwords and\n"
	        "--password-files pair with the key files in their order, --pin-file with the\n"
	        "URIs in theirs.\n"
	        "\n"
	        "The OLD FILE STAYS VALID: its shares still open it, a departed custodian's\n"
	        "too.  Once each new custodian has passed a drill on NEW-SD, destroy every\n"
	        "copy of the old file.\n"
	        "\n"
	        "  --sd-file SD               the current security-domain file (version 1 or 2)\n"
	        "  --sd-wrapping-keys KEY...  the current custodians' private keys, as for\n"
	        "                             restore-blob (at least the file's quorum)\n"
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
	        "  --new-certs CERT...        the new custodians' certificates (PEM or DER), 3 to\n"
	        "                             10, RSA of 2048 bits or more, each key different;\n"
	        "                             current custodians may be among them.  One\n"
	        "                             directory instead (keygen's or package's output):\n"
	        "                             its .cer files, in name order\n"
	        "  --new-quorum Q             shares needed to recover the new file, 2 to N\n"
	        "  --out NEW-SD               the new security-domain file; never the input file\n"
	        "  --force                    replace NEW-SD if it exists\n"
	        "  --json                     print the report as one JSON object\n"
	        "  --transcript FILE          append the result to FILE (both files' SHA-256,\n"
	        "                             keys, new shares; never a secret)\n"
	        "  -h, --help                 this help\n"
	        "\n"
	        "JSON fields: report (\"rekey\"), sd_file, sha256, version, required, keys [{key,\n"
	        "certificate, x5t_256}], subsets_checked, new_sd_file, new_sha256, new_version,\n"
	        "new_required, new_shares [{x, certificate, x5t_256, subject_cn, rsa_bits,\n"
	        "in_old_file}], new_subsets_checked, data [{tag, size}], result (\"rekeyed\"),\n"
	        "exit_status, message.\n"
	        "\n"
	        "Exit status: 0 new file written, 1 internal error, 2 usage error (a count or\n"
	        "quorum out of range, NEW-SD is the input file, or a key needs a password and\n"
	        "there is no terminal), 3 bad input file (security domain, key, or a new\n"
	        "certificate that is not RSA >= 2048 or repeats a key), 4 authentication failed\n"
	        "(wrong passphrase, no share for a key, same key twice, tampered share or item,\n"
	        "disagreeing shares), 5 I/O error (unreadable input, NEW-SD exists, cannot\n"
	        "write), 6 fewer keys than the file requires.  Token keys exit as for\n"
	        "restore-blob.  Nothing is written on failure.\n",
	        ui_progname);
}

enum {
	OPT_SD = UI_RK_OPT_END,
	OPT_NEW_CERTS,
	OPT_QUORUM,
	OPT_OUT,
	OPT_FORCE,
	OPT_JSON,
	OPT_TRANSCRIPT
};

static const struct option longopts[] = {
        {"sd-file", required_argument, NULL, OPT_SD},
        UI_RK_LONGOPTS,
        {"new-certs", required_argument, NULL, OPT_NEW_CERTS},
        {"new-quorum", required_argument, NULL, OPT_QUORUM},
        {"out", required_argument, NULL, OPT_OUT},
        {"force", no_argument, NULL, OPT_FORCE},
        {"json", no_argument, NULL, OPT_JSON},
        {"transcript", required_argument, NULL, OPT_TRANSCRIPT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};

int ui_rekey_main(int argc, char **argv)
{
	struct ui_recovery_keys keys = {0};
	struct cer_rekey_params p = {0};
	const char **certs = NULL, *tpath = NULL;
	struct cer_sd *sd = NULL;
	struct cer_recovery *r = NULL;
	struct cer_rekey *k = NULL;
	struct cer_report *rep = NULL;
	struct cer_transcript *t = NULL;
	char(*dir_paths)[CER_KG_PATH_MAX] = NULL;
	struct stat st;
	bool json = false, have_quorum = false;
	int ncerts = 0, c, i, ret;

	ui_exists_hint = "use --force to replace it";
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SD: p.sd_path = optarg; break;
		case OPT_OUT: p.out_path = optarg; break;
		case OPT_FORCE: p.force = true; break;
		case OPT_JSON: json = true; break;
		case OPT_TRANSCRIPT: tpath = optarg; break;
		case OPT_QUORUM:
			if (!ui_parse_uint(optarg, &p.quorum)) {
				ret = ui_usage_error("rekey", "--new-quorum: '%s' is not a number",
				                     optarg);
				goto out;
			}
			have_quorum = true;
			break;
		case OPT_NEW_CERTS:
			ncerts = ui_collect_values(optarg, argc, argv, &optind, &certs, ncerts);
			if (ncerts < 0) {
				ret = ui_report(cer_fail(CER_EINTERNAL, "out of memory"));
				goto out;
			}
			break;
		case 'h':
			usage(stdout);
			ret = CER_OK;
			goto out;
		default:
			ret = ui_recovery_keys_option(&keys, "rekey", c, argc, argv, longopts);
			if (ret != CER_OK)
				goto out;
			break;
		}
	}
	ret = ui_no_operands("rekey", argc, argv);
	if (ret != CER_OK)
		goto out;
	if (p.sd_path == NULL || p.out_path == NULL || ncerts == 0 || !have_quorum) {
		ret = ui_usage_error("rekey", "--sd-file, --new-certs, --new-quorum and --out are "
		                              "required");
		goto out;
	}
	if (ncerts > CER_KEYGEN_MAX_KEYS) {
		ret = ui_report(cer_fail(CER_EUSAGE,
		                         "%d new certificates: the service takes %d to "
		                         "%d",
		                         ncerts, CER_KEYGEN_MIN_KEYS, CER_KEYGEN_MAX_KEYS));
		goto out;
	}
	ret = ui_recovery_keys_check("rekey", &keys);
	if (ret != CER_OK)
		goto out;
	p.count = (unsigned)ncerts;
	for (i = 0; i < ncerts; i++)
		p.cert_paths[i] = certs[i];
	if (ncerts == 1 && stat(certs[0], &st) == 0 && S_ISDIR(st.st_mode)) {
		/* A directory: its certificates, as the wizard takes them. */
		dir_paths = malloc(CER_KEYGEN_MAX_KEYS * sizeof *dir_paths);
		ret = dir_paths != NULL ? cer_rekey_certs_in_dir(certs[0], dir_paths, &p.count)
		                        : cer_fail(CER_EINTERNAL, "out of memory");
		if (ret != CER_OK) {
			ui_report(ret);
			goto out;
		}
		for (i = 0; i < (int)p.count; i++)
			p.cert_paths[i] = dir_paths[i];
	}
	if (tpath != NULL) {
		ret = cer_transcript_open(tpath, &t);
		if (ret != CER_OK) {
			ui_report(ret);
			goto out;
		}
	}
	/* Everything that can be refused is refused before a key is unlocked. */
	p.transcript = t;
	ret = cer_sd_load(p.sd_path, &sd);
	if (ret == CER_OK)
		ret = cer_rekey_new(&p, &k);
	if (ret == CER_OK)
		ret = cer_rekey_record_plan(k, sd);
	if (ret == CER_OK)
		ret = cer_recovery_new(sd, &r);
	if (ret == CER_OK && t != NULL)
		ret = cer_recovery_set_transcript(r, t, "rekey", p.sd_path);
	if (ret == CER_OK && (unsigned)keys.nkeys < cer_recovery_required(r))
		ret = cer_fail(CER_EQUORUM, "%d key%s given, %s needs %u", keys.nkeys,
		               keys.nkeys == 1 ? "" : "s", p.sd_path, cer_recovery_required(r));
	if (ret == CER_OK)
		ret = ui_recovery_keys_add(r, &keys, false, false);
	if (ret == CER_OK)
		ret = cer_rekey_run(k, sd, r, &ui_stderr_progress, &rep); /* records itself */
	else if (!(ret == CER_EIO && cer_errreason() == CER_REASON_TRANSCRIPT))
		ret = cer_rekey_failed(t, ret);
	/* A written file is reported even when its record was lost. */
	if (rep != NULL && ui_print_report(rep, json) != CER_OK && ret == CER_OK)
		ret = CER_EINTERNAL;
	if (ret != CER_OK)
		ui_report(ret);
out:
	if (cer_transcript_close(t) != CER_OK) {
		ui_report(CER_EIO);
		if (ret == CER_OK)
			ret = CER_EIO;
	}
	cer_report_free(rep);
	cer_rekey_free(k);
	cer_recovery_free(r);
	cer_sd_free(sd);
	free(certs);
	free(dir_paths);
	ui_recovery_keys_free(&keys);
	return ret;
}
