#include "ui/cmd_recovery_keys.h"

#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ceremony/io.h"
#include "ui/ui.h"

/* Replaces passwords[from..to) (argv strings) by secret copies and wipes argv's. */
static int take_passwords(struct ui_recovery_keys *k, int from, int to)
{
	int i, ret = CER_OK;

	for (i = from; i < to; i++) {
		char *arg = (char *)k->passwords[i];
		char *copy = ret == CER_OK ? cer_secret_strdup(arg) : NULL;

		if (copy == NULL)
			ret = CER_EINTERNAL;
		sodium_memzero(arg, strlen(arg));
		k->passwords[i] = copy;
	}
	if (ret != CER_OK)
		k->npasswords = to; /* so that ui_recovery_keys_free wipes what was copied */
	return ret;
}

int ui_recovery_keys_option(struct ui_recovery_keys *k, const char *cmd, int c, int argc,
                            char **argv, const struct option *opts)
{
	const char ***list;
	int *count, n;

	switch (c) {
	case UI_RK_OPT_KEYS:
		list = &k->keys;
		count = &k->nkeys;
		break;
	case UI_RK_OPT_PASSWORDS:
		list = &k->passwords;
		count = &k->npasswords;
		break;
	case UI_RK_OPT_PASSWORD_FILES:
		list = &k->password_files;
		count = &k->npassword_files;
		break;
	case UI_RK_OPT_CERTS:
		k->certs_dir = optarg;
		return CER_OK;
	default:
		return ui_bad_option(cmd, argv, opts);
	}
	n = ui_collect_values(optarg, argc, argv, &optind, list, *count);
	if (n < 0)
		return ui_report(cer_fail(CER_EINTERNAL, "out of memory"));
	if (c == UI_RK_OPT_PASSWORDS && take_passwords(k, *count, n) != CER_OK)
		return ui_report(CER_EINTERNAL);
	*count = n;
	return CER_OK;
}

void ui_recovery_keys_free(struct ui_recovery_keys *k)
{
	int i;

	for (i = 0; k->cache != NULL && i < k->nkeys; i++)
		cer_secret_free(k->cache[i]);
	free(k->cache);
	k->cache = NULL;
	for (i = 0; k->passwords != NULL && i < k->npasswords; i++)
		cer_secret_free((void *)k->passwords[i]);
	free(k->keys);
	free(k->passwords);
	free(k->password_files);
	k->keys = k->passwords = k->password_files = NULL;
	k->nkeys = k->npasswords = k->npassword_files = 0;
}

/* A --passwords value that is the name of a file: --password-files was meant. */
static int password_naming_file(const struct ui_recovery_keys *k)
{
	struct stat st;
	int i;

	for (i = 0; i < k->npasswords; i++)
		if (k->passwords[i][0] != '\0' && stat(k->passwords[i], &st) == 0 &&
		    S_ISREG(st.st_mode))
			return i;
	return -1;
}

int ui_recovery_keys_check(const char *cmd, const struct ui_recovery_keys *k)
{
	int i;

	if (k->nkeys == 0)
		return ui_usage_error(cmd, "--sd-wrapping-keys is required");
	i = password_naming_file(k);
	if (i >= 0)
		return ui_usage_error(cmd, "--passwords takes the passwords themselves, and value %d "
		                      "is the name of a file: give password files with "
		                      "--password-files", i + 1);
	if (k->npasswords > 0 && k->npassword_files > 0)
		return ui_usage_error(cmd, "give --passwords or --password-files, not both");
	if (k->npasswords > k->nkeys)
		return ui_usage_error(cmd, "%d passwords for %d keys", k->npasswords, k->nkeys);
	if (k->npassword_files > k->nkeys)
		return ui_usage_error(cmd, "%d password files for %d keys", k->npassword_files,
		                      k->nkeys);
	return CER_OK;
}

/* How many passwords or password files were given, when fewer than the keys; else 0. */
static int given_for(const struct ui_recovery_keys *k)
{
	int n = k->npasswords > 0 ? k->npasswords : k->npassword_files;

	return n < k->nkeys ? n : 0;
}

const char *ui_recovery_keys_hint(const struct ui_recovery_keys *k)
{
	static char hint[256];
	int n = given_for(k);

	if (n == 0)
		return "";
	if (k->npasswords > 0)
		snprintf(hint, sizeof hint, "%d password%s given for %d keys: they go to the keys "
		         "in order, one per key, \"\" for a key that has none", n,
		         n == 1 ? "" : "s", k->nkeys);
	else
		snprintf(hint, sizeof hint, "%d password file%s given for %d keys: they go to the "
		         "keys in order, one per key, keys that need none last", n,
		         n == 1 ? "" : "s", k->nkeys);
	return hint;
}

static int password_for(struct ui_recovery_keys *k, int i, char **pass)
{
	*pass = NULL;
	if (k->cache != NULL && k->cache[i] != NULL) {
		*pass = cer_secret_strdup(k->cache[i]);
		return *pass != NULL ? CER_OK : CER_EINTERNAL;
	}
	if (i < k->npasswords) {
		const char *given = k->passwords[i];

		/* As az: an empty password means none. */
		if (given[0] == '\0')
			return CER_OK;
		*pass = cer_secret_strdup(given);
		return *pass != NULL ? CER_OK : CER_EINTERNAL;
	}
	if (i < k->npassword_files)
		return cer_passphrase_file_read(k->password_files[i], pass);
	return CER_OK;
}

/* Keeps a copy of the password that opened key i (best effort: on out of memory it is asked again). */
static void remember(struct ui_recovery_keys *k, int i, const char *pass)
{
	if (pass == NULL)
		return;
	if (k->cache == NULL)
		k->cache = calloc((size_t)k->nkeys, sizeof *k->cache);
	if (k->cache != NULL && k->cache[i] == NULL)
		k->cache[i] = cer_secret_strdup(pass);
}

/* Up to three tries on the terminal for a key that needs a password; *good gets the one that worked. */
static int ask_and_add(struct cer_recovery *r, const char *path, const char *certs_dir,
                       char **good)
{
	enum cer_share_outcome outcome = CER_SHARE_NEEDS_PASSWORD;
	char prompt[512], why[256];
	char *pass;
	int tries, ret = CER_EUSAGE;

	for (tries = 0; tries < 3; tries++) {
		if (tries > 0)
			fprintf(stderr, "%s: %s\n", ui_progname, cer_errmsg());
		snprintf(prompt, sizeof prompt, "Password for key %s: ", path);
		pass = ui_read_passphrase(prompt);
		if (pass == NULL) {
			snprintf(why, sizeof why, "%s", cer_errmsg());
			return cer_fail(CER_EUSAGE, "key %s: no password given (%s)", path, why);
		}
		ret = cer_recovery_add_key(r, path, pass, certs_dir, &outcome);
		if (outcome != CER_SHARE_WRONG_PASSWORD && outcome != CER_SHARE_NEEDS_PASSWORD) {
			*good = pass;
			break;
		}
		cer_secret_free(pass);
	}
	if (outcome == CER_SHARE_NEEDS_PASSWORD)
		ret = cer_fail(CER_EAUTH, "key %s: wrong passphrase", path);
	return ret;
}

int ui_recovery_keys_add(struct cer_recovery *r, struct ui_recovery_keys *k,
                         bool stop_on_failure, bool stop_when_ready)
{
	enum cer_share_outcome outcome;
	int i, ret = CER_OK;

	for (i = 0; i < k->nkeys; i++) {
		const char *path = k->keys[i];
		char *pass = NULL;

		if (stop_when_ready && cer_recovery_ready(r))
			break;
		ret = password_for(k, i, &pass);
		if (ret != CER_OK) {
			cer_secret_free(pass);
			return ret;
		}
		ret = cer_recovery_add_key(r, path, pass, k->certs_dir, &outcome);
		if (outcome == CER_SHARE_NEEDS_PASSWORD) {
			if (!isatty(STDIN_FILENO)) {
				cer_secret_free(pass);
				if (given_for(k) > 0)
					return cer_fail(CER_EUSAGE, "key %s is encrypted and needs a "
					                "password, but %s (no terminal to ask on)", path,
					                ui_recovery_keys_hint(k));
				return cer_fail(CER_EUSAGE, "key %s is encrypted and needs a password: "
				                "give --passwords or --password-files (no terminal to "
				                "ask on)", path);
			}
			cer_secret_free(pass);
			pass = NULL;
			ret = ask_and_add(r, path, k->certs_dir, &pass);
			if (ret == CER_EUSAGE) {
				cer_secret_free(pass);
				return ret;
			}
			remember(k, i, pass);
		} else if (outcome != CER_SHARE_WRONG_PASSWORD && outcome != CER_SHARE_NOT_A_KEY) {
			remember(k, i, pass);
		}
		cer_secret_free(pass);
		if (ret == CER_OK)
			continue;
		if (ret == CER_EINTERNAL)
			return ret;
		if (stop_on_failure)
			return ret;
		ret = CER_OK;
	}
	return ret;
}

int ui_recovery_keys_explain(const struct ui_recovery_keys *k, const struct cer_recovery *r,
                             int status)
{
	char msg[1024];
	size_t i;

	if (status == CER_OK || ui_recovery_keys_hint(k)[0] == '\0')
		return status;
	for (i = 0; i < cer_recovery_key_count(r); i++) {
		struct cer_recovery_key key;

		cer_recovery_key(r, i, &key);
		if (key.outcome == CER_SHARE_GOOD || key.superseded)
			continue;
		if (key.outcome != CER_SHARE_WRONG_PASSWORD)
			return status;
		snprintf(msg, sizeof msg, "%s", cer_errmsg());
		return cer_fail(status, "%s (%s)", msg, ui_recovery_keys_hint(k));
	}
	return status;
}
