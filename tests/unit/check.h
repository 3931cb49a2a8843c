/* A minimal unit-test harness: one "ok"/"not ok" line per check group. */
#ifndef NETTOOL_CHECK_H
#define NETTOOL_CHECK_H

#include <stdio.h>

static int check_failed_now, check_pass, check_fail;

#define CHECK(cond)                                                         \
	do {                                                                \
		if (!(cond)) {                                              \
			printf("#   %s:%d: CHECK(%s) failed\n", __FILE__,   \
			       __LINE__, #cond);                            \
			check_failed_now = 1;                               \
		}                                                           \
	} while (0)

#define RUN(fn)                                                             \
	do {                                                                \
		check_failed_now = 0;                                       \
		fn();                                                       \
		if (check_failed_now) {                                     \
			check_fail++;                                       \
			printf("not ok - %s\n", #fn);                       \
		} else {                                                    \
			check_pass++;                                       \
			printf("ok - %s\n", #fn);                           \
		}                                                           \
		fflush(stdout);                                             \
	} while (0)

#define CHECK_DONE() (check_fail ? 1 : 0)

#endif
