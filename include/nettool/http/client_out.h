#ifndef NETTOOL_HTTP_CLIENT_OUT_H
#define NETTOOL_HTTP_CLIENT_OUT_H
/*
 * Where a fetched body goes: standard output, or a file that is written
 * to a temporary beside it and renamed into place only when the transfer
 * is complete, so a failed attempt never leaves half a file under its
 * name. A file continued with a range (append) is written in place.
 */
#include <stddef.h>

struct hc_out {
	int fd;                       /* -1 while closed */
	char path[4096];              /* "" for standard output */
	char tmp[4200];               /* the temporary, "" when none */
	int create_dirs;              /* make the missing folders of path */
};

/* Open for writing: stdout when path is "", else a temporary beside it,
 * or the file itself to append (or when it is no regular file: a device
 * or FIFO is written in place). 0, or -1 with err filled. */
int hc_out_open(struct hc_out *o, int append, char *err);
/* Close and drop what an attempt wrote (the temporary is removed). */
void hc_out_discard(struct hc_out *o);
/* Close, and rename the temporary into place. 0, or -1 with err filled
 * (the temporary is then removed). */
int hc_out_finish(struct hc_out *o, char *err);
/* The size of the file at path (for a continued transfer), or 0. */
long long hc_out_size(const struct hc_out *o);

#endif
