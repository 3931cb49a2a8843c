#ifndef NETTOOL_CORE_CMD_CONFIG_H
#define NETTOOL_CORE_CMD_CONFIG_H
/*
 * Options read from a file in curl's config syntax (-K FILE): one option
 * a line, its name with or without dashes, a value after blanks, '=' or
 * ':', in double quotes when it holds blanks (\\ \" \t \n \r \v escaped);
 * "url = URL" an operand; '#' starts a comment line. The file's options
 * take the place of -K FILE (or --config FILE) in argv, so the command's
 * parser reads them as typed; a file may name another, to a depth of 4.
 */
#include "nettool/core/cmd.h"

struct cmd_argv {
	int argc;
	char **argv;    /* the new argv, NULL-ended */
	char **owned;   /* what was made for it, freed by cmd_argv_free */
	int nowned;
	int own_argv;   /* argv was made here */
};

/* argv with every -K FILE / --config FILE of c replaced by the file's
 * options. 0 (out untouched when there is none), or -1 with err filled
 * (a file that cannot be read, a line that is no option of c). */
int cmd_config_expand(const struct cmd *c, int argc, char **argv, struct cmd_argv *out,
		      char *err);
void cmd_argv_free(struct cmd_argv *a);

#endif
