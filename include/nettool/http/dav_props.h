#ifndef NETTOOL_HTTP_DAV_PROPS_H
#define NETTOOL_HTTP_DAV_PROPS_H
/*
 * WebDAV's dead properties (PROPPATCH), kept in the file's own extended
 * attributes: one user.nettool.dav.HASH each (HASH: of the namespace and
 * name), its value the namespace, the name, and the property element
 * serialized (namespaces declared on it), so a MOVE keeps them with the
 * file and a DELETE takes them along. A filesystem without user extended
 * attributes has no dead properties: PROPPATCH there is 507 (documented
 * in nettool(1)). At most DAVP_MAX bytes a property.
 */
#include "nettool/base/buf.h"
#include "nettool/proto/xml.h"

#define DAVP_MAX (16 * 1024)
#define DAVP_PREFIX "user.nettool.dav."

/* The property element doc.nodes[i], serialized with its namespaces
 * declared, into b. */
void davp_serialize(const struct xml_doc *doc, int i, struct buf *b);
/* Set (value non-NULL, its serialized element) or remove the property
 * ns:name of path. 0, or an errno (ENOTSUP: no extended attributes). */
int davp_put(const char *path, const char *ns, const char *name, const struct buf *value);
/* The value of ns:name of path into b: 1, or 0 when it has none. */
int davp_get(const char *path, const char *ns, const char *name, struct buf *b);
/* Each dead property of path: fn(ctx, ns, name, serialized element). */
void davp_each(const char *path, void (*fn)(void *ctx, const char *ns, const char *name,
					    const char *elem), void *ctx);
/* Those of src copied to dst (a COPY). */
void davp_copy(const char *src, const char *dst);

#endif
