#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ceremony/exchange.h"
#include "ceremony/filekind.h"
#include "ceremony/io.h"
#include "ceremony/keys.h"
#include "ceremony/recovery.h"
#include "ceremony/report.h"
#include "ceremony/sd.h"
#include "ceremony/transcript.h"
#include "ui/cmd_recovery_keys.h"
#include "ui/ui.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: %s restore-blob --sd-file SD --sd-exchange-key X\n"
	        "           --sd-wrapping-keys KEY... [--passwords P... | --password-files F...]\n"
	        "           [--pin-file F...] [--pkcs11-module PATH]\n"
	        "           [--certs DIR] [--hsm-name NAME] [--require-attestation]\n"
	        "           [--expect-mrsigner HEX] --sd-file-restore-blob OUT [--force]\n"
	        "           [--transcript FILE]\n"
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
	        "                             JSON (RSA, at least 2048 bits); never a\n"
	        "                             custodian's certificate or key\n"
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
	        "  --hsm-name NAME            the new HSM (as az): the exchange certificate's\n"
	        "                             subject CN must be NAME.managedhsm.azure.net, or\n"
	        "                             NAME when it is a full host name\n"
	        "  --require-attestation      refuse an exchange key without an SGX attestation\n"
	        "  --expect-mrsigner HEX      require the attesting enclave's MRSIGNER (64 hex\n"
	        "                             digits, e.g. the one the last recovery printed)\n"
	        "  --sd-file-restore-blob OUT the restore blob to write (written atomically)\n"
	        "  --force                    replace OUT if it exists\n"
	        "  --transcript FILE          append a record of the recovery to FILE (time, the\n"
	        "                             SD file's SHA-256, keys and certificate\n"
	        "                             thumbprints, the blob's SHA-256; never a secret)\n"
	        "  -h, --help                 this help\n"
	        "\n"
	        "A key may be a PKCS#11 URI (RFC 7512), e.g. pkcs11:token=alice;object=sd-wrap:\n"
	        "the custodian's key on a token (smart card, YubiKey PIV, HSM).  Its share is\n"
	        "unwrapped on the token; the key's certificate is the one on the token with\n"
	        "the key's CKA_ID, or one in --certs DIR with its public key.  --passwords and\n"
	        "--password-files pair with the key files in their order, --pin-file with the\n"
	        "URIs in theirs.\n"
	        "\n"
	        "A key that needs a password and has none is asked for on the terminal, without\n"
	        "echo; with no terminal the command fails naming the key.  Every key given is\n"
	        "loaded and its share checked, also beyond the quorum: one that fails fails the\n"
	        "command, unless it is a retry that a good share of the same key file or the\n"
	        "same certificate supersedes (a wrong passphrase and then the right one, a\n"
	        "certificate and then its key, the same key twice).\n"
	        "\n"
	        "Before any key is unlocked, the exchange key's facts are printed for the\n"
	        "online administrators to compare: the file's SHA-256 (as sha256sum prints\n"
	        "it), the subject CN, the thumbprint, and its attestation.  Keys from HSMs of\n"
	        "2025 on carry an Intel SGX quote; it is verified offline (PCK chain to the\n"
	        "pinned Intel SGX Root CA, quoting enclave, quote signature, not a debug\n"
	        "enclave, bound to this certificate's key) and MRSIGNER and MRENCLAVE are\n"
	        "printed.  That proves an SGX enclave with those measurements holds the key;\n"
	        "it cannot prove freshness, a current TCB or Intel's revocation status\n"
	        "offline, nor whose enclave it is unless MRSIGNER is pinned.  Older keys are\n"
	        "reported as not attested.\n"
	        "\n"
	        "Exit status: 0 blob written, 1 internal error, 2 usage error (or a key needs a\n"
	        "password and there is no terminal), 3 bad input file (security domain, key,\n"
	        "certificate or exchange key malformed, unsupported or weak; a certificate or\n"
	        "a directory given as a key; an exchange key that is a custodian's), 4\n"
	        "authentication or verification failed (wrong passphrase, no share for a\n"
	        "certificate, tampered share or item, inconsistent shares; an exchange key\n"
	        "whose attestation does not verify, or that --hsm-name, --require-attestation\n"
	        "or --expect-mrsigner refuses), 5 I/O error (unreadable input, OUT exists,\n"
	        "cannot write OUT), 6 fewer good shares than required (the same key twice\n"
	        "counts once).  Token keys: 2 a URI that is malformed, carries a PIN or\n"
	        "matches several tokens or keys, or a PIN needed and no terminal; 3 no RSA key\n"
	        "on the token matches, or no certificate for it; 4 wrong or locked PIN, no\n"
	        "share for its certificate; 5 no token present matches (token absent) or the\n"
	        "module cannot be loaded.\n",
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

enum {
	OPT_SD = UI_RK_OPT_END,
	OPT_X,
	OPT_OUT,
	OPT_FORCE,
	OPT_HSM,
	OPT_REQUIRE,
	OPT_MRSIGNER,
	OPT_TRANSCRIPT
};

static const struct option longopts[] = {
        {"sd-file", required_argument, NULL, OPT_SD},
        {"sd-exchange-key", required_argument, NULL, OPT_X},
        UI_RK_LONGOPTS,
        {"sd-file-restore-blob", required_argument, NULL, OPT_OUT},
        {"force", no_argument, NULL, OPT_FORCE},
        {"hsm-name", required_argument, NULL, OPT_HSM},
        {"require-attestation", no_argument, NULL, OPT_REQUIRE},
        {"expect-mrsigner", required_argument, NULL, OPT_MRSIGNER},
        {"transcript", required_argument, NULL, OPT_TRANSCRIPT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};

/* A recovery that stopped before the session could record its end. */
static void log_failure(struct cer_transcript *t, const char *sd_path, int status)
{
	enum cer_reason why = cer_errreason();
	char msg[1024];

	snprintf(msg, sizeof msg, "%s", cer_errmsg());
	if (cer_recovery_failed(t, "recovery", sd_path, status) != status) {
		fprintf(stderr, "%s: %s\n", ui_progname, cer_errmsg());
		cer_fail_reason(status, why, "%s", msg);
	}
}

int ui_restore_blob_main(int argc, char **argv)
{
	struct ui_recovery_keys keys = {0};
	const char *sd_path = NULL, *x_path = NULL, *out = NULL, *tpath = NULL;
	struct cer_transcript *t = NULL;
	struct cer_sd *sd = NULL;
	struct cer_exchange_policy policy = {.now = time(NULL)};
	struct cer_exchange *x = NULL;
	struct cer_recovery *r = NULL;
	struct cer_report *rep = NULL;
	char sha[65];
	bool force = false, recorded = false;
	int c, ret;

	ui_exists_hint = "use --force to replace it";
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SD: sd_path = optarg; break;
		case OPT_X: x_path = optarg; break;
		case OPT_OUT: out = optarg; break;
		case OPT_FORCE: force = true; break;
		case OPT_TRANSCRIPT: tpath = optarg; break;
		case OPT_REQUIRE: policy.require_attestation = true; break;
		case OPT_HSM:
		case OPT_MRSIGNER:
			ret = c == OPT_HSM ? cer_exchange_policy_hsm_name(&policy, optarg)
			                   : cer_exchange_policy_mrsigner(&policy, optarg);
			if (ret != CER_OK) {
				ret = ui_usage_error("restore-blob", "%s: %s",
				                     c == OPT_HSM ? "--hsm-name"
				                                  : "--expect-mrsigner",
				                     cer_errmsg());
				goto out;
			}
			break;
		case 'h':
			usage(stdout);
			ret = CER_OK;
			goto out;
		default:
			ret = ui_recovery_keys_option(&keys, "restore-blob", c, argc, argv,
			                              longopts);
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
		ret = ui_report(cer_fail_exists(out));
		goto out;
	}
	/* A temporary an interrupted run left is named now, before any key. */
	ret = cer_stale_temps_check(out, true);
	if (ret != CER_OK) {
		ret = ui_report(ret);
		goto out;
	}
	if (!dir_writable(out)) {
		ret = ui_report(cer_fail(CER_EIO, "%s: cannot write in its directory: %s", out,
		                         strerror(errno)));
		goto out;
	}
	if (tpath != NULL) {
		ret = cer_transcript_open(tpath, &t);
		if (ret != CER_OK) {
			ret = ui_report(ret);
			goto out;
		}
	}
	ret = cer_exchange_open(x_path, &policy, &x);
	if (ret != CER_OK)
		ret = ui_explain_file(
		        ret, x_path, "an exchange key", CER_FILE_SECURITY_DOMAIN,
		        "are --sd-file and --sd-exchange-key swapped?", CER_FILE_PRIVATE_KEY,
		        "--sd-exchange-key takes the new HSM's "
		        "certificate that init-recovery downloaded; a custodian's key "
		        "never goes there",
		        CER_FILE_UNKNOWN);
	if (ret == CER_OK)
		ret = ui_print_report(cer_exchange_report(x), false);
	fflush(stdout);
	if (ret == CER_OK) {
		ret = cer_sd_load(sd_path, &sd);
		ret = ui_explain_file(ret, sd_path, "a security-domain file", CER_FILE_CERTIFICATE,
		                      "are --sd-file and --sd-exchange-key swapped?",
		                      CER_FILE_PRIVATE_KEY, "keys go after --sd-wrapping-keys",
		                      CER_FILE_UNKNOWN);
	}
	if (ret == CER_OK)
		ret = cer_recovery_new(sd, &r);
	if (ret == CER_OK && t != NULL)
		ret = cer_recovery_set_transcript(r, t, "recovery", sd_path);
	if (ret == CER_OK)
		ret = cer_recovery_set_exchange(r, x, keys.certs_dir);
	if (ret == CER_OK && (unsigned)keys.nkeys < cer_recovery_required(r))
		ret = cer_fail(CER_EQUORUM, "%d key%s given, %s needs %u", keys.nkeys,
		               keys.nkeys == 1 ? "" : "s", sd_path, cer_recovery_required(r));
	if (ret == CER_OK)
		ret = ui_recovery_keys_add(r, &keys, false, false);
	if (ret == CER_OK) {
		recorded = true;
		ret = cer_recovery_restore_blob(r, out, force, &ui_stderr_progress, sha);
		ret = ui_recovery_keys_explain(&keys, r, ret);
	}
	if (ret != CER_OK) {
		if (t != NULL && !recorded)
			log_failure(t, sd_path, ret);
		ui_report(ret);
		goto out;
	}
	ret = cer_recovery_blob_report(out, sha, policy.hsm_name, &rep);
	if (ret == CER_OK)
		ret = ui_print_report(rep, false);
	if (ret != CER_OK)
		ui_report(ret);
out:
	cer_report_free(rep);
	cer_recovery_free(r);
	cer_sd_free(sd);
	cer_exchange_free(x);
	ui_recovery_keys_free(&keys);
	if (cer_transcript_close(t) != CER_OK && ret == CER_OK)
		ret = ui_report(CER_EIO);
	return ret;
}
