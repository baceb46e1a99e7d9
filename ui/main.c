#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ceremony/cer.h"
#include "ui/ui.h"

struct command {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *description;
	bool secrets; /* handles private keys, passphrases or the master key */
};

static const struct command commands[] = {
        {"wizard", ui_wizard_main, "guided ceremony, recovery and drill on a terminal"},
        {"keygen", ui_keygen_main, "generate the custodians' key pairs and certificates", true},
        {"package", ui_package_main, "build the download request from existing certificates"},
        {"inspect", ui_inspect_main, "describe a security-domain file (no keys needed)"},
        {"verify", ui_verify_main, "DR drill: prove the keys recover the domain; writes nothing",
         true},
        {"restore-blob", ui_restore_blob_main, "recover the master key and write the restore blob",
         true},
        {"rekey", ui_rekey_main, "re-share the domain to new custodians or a new quorum", true},
        {"passwd", ui_passwd_main, "re-encrypt a custodian's private key under a new passphrase",
         true},
        {"token", ui_token_main, "list PKCS#11 tokens and their keys (custodian keys in hardware)",
         true},
        {"qr", ui_qr_main, "split a file into QR codes, show them, join scanned parts"},
        {"version", ui_version_main, "print the version"},
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
	        "Usage: %s [COMMAND] [OPTIONS]\n\n"
	        "Offline side of Azure Key Vault Managed HSM security-domain ceremonies.\n"
	        "With no command on a terminal, starts the wizard.\n\nCommands:\n",
	        ui_progname);
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-13s %s\n", commands[i].name, commands[i].description);
	fprintf(f,
	        "\nRun '%s COMMAND --help' for a command's options.\n"
	        "\nExit status: 0 success, 1 internal error, 2 usage error, 3 bad input file,\n"
	        "4 authentication or verification failed, 5 I/O error, 6 quorum not reached\n"
	        "(verify: every share given is good, but fewer than required), 7 memory\n"
	        "cannot be locked (see --allow-unlocked-memory).\n"
	        "\nGlobal option, before the command:\n"
	        "  --allow-unlocked-memory  handle secrets even when the process cannot be\n"
	        "                           locked in memory (mlockall), so that they may be\n"
	        "                           written to swap; without it keygen, verify,\n"
	        "                           restore-blob refuse and the wizard asks first.\n",
	        ui_progname);
}

static bool asks_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

/* Said once, before a command that handles secrets starts. */
static int check_memory_lock(void)
{
	if (cer_memlock_state() != CER_MEMLOCK_UNLOCKED)
		return CER_OK;
	if (cer_secrets_permitted() != CER_OK)
		return ui_report(CER_ENOLOCK);
	fprintf(stderr,
	        "%s: warning: %s; going on as --allow-unlocked-memory asks: "
	        "secrets may be written to swap\n",
	        ui_progname, cer_memlock_problem());
	return CER_OK;
}

int main(int argc, char **argv)
{
	size_t i;

	if (cer_init() != CER_OK)
		return ui_report(CER_EINTERNAL);
	if (argc >= 2 && strcmp(argv[1], "--allow-unlocked-memory") == 0) {
		cer_memlock_accept_unlocked();
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	if (argc < 2) {
		if (ui_interactive())
			return ui_wizard_main(1, (char *[]){"wizard", NULL});
		usage(stderr);
		return CER_EUSAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CER_OK;
	}
	if (strcmp(argv[1], "--version") == 0)
		return ui_version_main(1, (char *[]){"version", NULL});
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0) {
			if (commands[i].secrets && !asks_help(argc - 1, argv + 1) &&
			    check_memory_lock() != CER_OK)
				return CER_ENOLOCK;
			return commands[i].main(argc - 1, argv + 1);
		}
	fprintf(stderr, "%s: unknown command '%s'\n", ui_progname, argv[1]);
	usage(stderr);
	return CER_EUSAGE;
}
