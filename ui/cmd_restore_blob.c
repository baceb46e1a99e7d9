#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ceremony/io.h"
#include "ceremony/keys.h"
#include "ceremony/recovery.h"
#include "ceremony/sd.h"
#include "ui/cmd_recovery_keys.h"
#include "ui/ui.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: %s restore-blob --sd-file SD --sd-exchange-key X\n"
	        "           --sd-wrapping-keys KEY... [--passwords P... | --password-files F...]\n"
	        "           [--certs DIR] --sd-file-restore-blob OUT [--force]\n"
	        "\n"
	        "Rebuilds the security domain's master key from a quorum of the custodians'\n"
	        "wrapping keys and writes the restore blob for\n"
	        "  az keyvault security-domain upload --hsm-name H --sd-file OUT --restore-blob\n"
	        "Flags as az keyvault security-domain restore-blob.  Every item of the security\n"
	        "domain is authenticated and decrypted before anything is written; the blob is\n"
	        "encrypted to the new HSM's exchange key under a fresh random master key.\n"
	        "\n"
	        "  --sd-file SD               the downloaded security-domain file (its JSON, the\n"
	        "                             {\"value\": ...} wrapper, or base64 of the JSON)\n"
	        "  --sd-exchange-key X        the exchange key from init-recovery: PEM or DER\n"
	        "                             certificate, JWK with x5c, or the REST transfer-key\n"
	        "                             JSON (RSA, at least 2048 bits)\n"
	        "  --sd-wrapping-keys KEY...  private keys: PEM PKCS#8 (plain or encrypted),\n"
	        "                             PEM traditional RSA, or PKCS#12 (.pfx/.p12); a\n"
	        "                             key's certificate is KEY with its extension\n"
	        "                             replaced by .cer (as az), the one inside a PKCS#12\n"
	        "                             file, or one in --certs DIR with the same key\n"
	        "  --passwords P...           one password per key, in order (az style).  On a\n"
	        "                             command line they are visible to other processes\n"
	        "                             and may land in shell history: prefer\n"
	        "                             --password-files or the prompt\n"
	        "  --password-files F...      files whose first line is the password of the key\n"
	        "                             in the same position\n"
	        "  --certs DIR                where to look for certificates not beside their key\n"
	        "  --sd-file-restore-blob OUT the restore blob to write (written atomically)\n"
	        "  --force                    replace OUT if it exists\n"
	        "  -h, --help                 this help\n"
	        "\n"
	        "A key that needs a password and has none is asked for on the terminal, without\n"
	        "echo; with no terminal the command fails naming the key.  Keys are used in the\n"
	        "order given until the quorum is reached.\n"
	        "\n"
	        "Exit status: 0 blob written, 1 internal error, 2 usage error (or a key needs a\n"
	        "password and there is no terminal), 3 bad input file (security domain, key,\n"
	        "certificate or exchange key malformed, unsupported or weak), 4 authentication\n"
	        "failed (wrong password, no share for a certificate, same key twice, tampered\n"
	        "share or item, inconsistent shares), 5 I/O error (unreadable input, OUT exists,\n"
	        "cannot write OUT), 6 fewer keys than required.\n",
	        ui_progname);
}

/* Checked before any key is touched, so a typo costs no passwords. */
static bool dir_writable(const char *path)
{
	char *copy = strdup(path);
	bool ok;

	if (copy == NULL)
		return false;
	ok = access(dirname(copy), W_OK | X_OK) == 0;
	free(copy);
	return ok;
}

enum { OPT_SD = UI_RK_OPT_END, OPT_X, OPT_OUT, OPT_FORCE };

static const struct option longopts[] = {
	{ "sd-file", required_argument, NULL, OPT_SD },
	{ "sd-exchange-key", required_argument, NULL, OPT_X },
	{ "sd-wrapping-keys", required_argument, NULL, UI_RK_OPT_KEYS },
	{ "passwords", required_argument, NULL, UI_RK_OPT_PASSWORDS },
	{ "password-files", required_argument, NULL, UI_RK_OPT_PASSWORD_FILES },
	{ "certs", required_argument, NULL, UI_RK_OPT_CERTS },
	{ "sd-file-restore-blob", required_argument, NULL, OPT_OUT },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int ui_restore_blob_main(int argc, char **argv)
{
	struct ui_recovery_keys keys = { 0 };
	const char *sd_path = NULL, *x_path = NULL, *out = NULL;
	struct cer_sd *sd = NULL;
	struct cer_cert *x = NULL;
	struct cer_recovery *r = NULL;
	char sha[65];
	bool force = false;
	int c, ret;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SD: sd_path = optarg; break;
		case OPT_X: x_path = optarg; break;
		case OPT_OUT: out = optarg; break;
		case OPT_FORCE: force = true; break;
		case 'h':
			usage(stdout);
			ret = CER_OK;
			goto out;
		default:
			ret = ui_recovery_keys_option(&keys, "restore-blob", c, argc, argv);
			if (ret != CER_OK)
				goto out;
			break;
		}
	}
	ret = ui_no_operands("restore-blob", argc, argv);
	if (ret != CER_OK)
		goto out;
	if (sd_path == NULL || x_path == NULL || out == NULL) {
		ret = ui_usage_error("restore-blob", "--sd-file, --sd-exchange-key and "
		                     "--sd-file-restore-blob are required");
		goto out;
	}
	ret = ui_recovery_keys_check("restore-blob", &keys);
	if (ret != CER_OK)
		goto out;
	if (!force && cer_path_exists(out)) {
		ret = ui_report(cer_fail(CER_EIO, "%s: already exists (use --force to replace it)",
		                         out));
		goto out;
	}
	if (!dir_writable(out)) {
		ret = ui_report(cer_fail(CER_EIO, "%s: cannot write in its directory: %s", out,
		                         strerror(errno)));
		goto out;
	}
	ret = cer_exchange_key_load(x_path, &x);
	if (ret == CER_OK)
		ret = cer_sd_load(sd_path, &sd);
	if (ret == CER_OK)
		ret = cer_recovery_new(sd, &r);
	if (ret == CER_OK && (unsigned)keys.nkeys < cer_recovery_required(r))
		ret = cer_fail(CER_EQUORUM, "%d key%s given, %s needs %u", keys.nkeys,
		               keys.nkeys == 1 ? "" : "s", sd_path, cer_recovery_required(r));
	if (ret == CER_OK)
		ret = ui_recovery_keys_add(r, &keys, true, true);
	if (ret == CER_OK)
		ret = cer_recovery_restore_blob(r, x, out, force, &ui_stderr_progress, sha);
	if (ret != CER_OK) {
		ui_report(ret);
		goto out;
	}
	printf("Exchange key %s: x5t_256 %s\n", x_path, cer_cert_thumb_b64(x));
	printf("Restore blob written to %s\nSHA-256 %s\n"
	       "Upload it with: az keyvault security-domain upload --hsm-name HSM --sd-file %s "
	       "--restore-blob\n", out, sha, out);
out:
	cer_recovery_free(r);
	cer_sd_free(sd);
	cer_cert_free(x);
	ui_recovery_keys_free(&keys);
	return ret;
}
