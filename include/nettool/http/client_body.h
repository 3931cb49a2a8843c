#ifndef NETTOOL_HTTP_CLIENT_BODY_H
#define NETTOOL_HTTP_CLIENT_BODY_H

/* Inside the HTTP client: sending a request body from its source. */

#include "nettool/http/client.h"

/* Send b on c, counting it in c->up_done for the uploaded hook. 0, or -1
 * with errno set: ESPIPE when a file was shorter than measured, EILSEQ
 * when a -F file holds the boundary. */
int hc_body_send(struct hc_conn *c, struct hc_body *b);

#endif
