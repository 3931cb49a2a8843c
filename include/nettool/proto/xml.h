#ifndef NETTOOL_PROTO_XML_H
#define NETTOOL_PROTO_XML_H
/*
 * A small XML reader for WebDAV request bodies (RFC 4918): elements with
 * their namespaces resolved, text, and where each element lies in the
 * input (a dead property is kept as the markup it came in). Not a
 * general parser, on purpose: no DTD at all (a DOCTYPE is refused, so no
 * entity of any kind can be declared or expanded), only the five
 * predefined entities and character references, comments and processing
 * instructions skipped, CDATA taken as text. Bounded: at most XML_DEPTH
 * levels and XML_NODES elements; the strings live in one arena no larger
 * than the input. Pure: bytes in, a tree out.
 */
#include <stddef.h>

#define XML_DEPTH 32
#define XML_NODES 4096

struct xml_node {
	const char *ns;         /* the namespace URI ("" for none) */
	const char *name;       /* the local name */
	const char *text;       /* its text (character data directly inside it) */
	int parent, child, next; /* indexes, -1 for none */
	size_t start, end;      /* its markup in the input: [start, end) */
	const char *lang;       /* xml:lang in scope, or NULL */
};

struct xml_doc {
	struct xml_node *nodes; /* nodes[0] is the root element */
	int n;
	char *arena;
};

/* Parse p[0..n). 0, or -1 with err filled (malformed, a DOCTYPE, an
 * unknown entity, an undeclared prefix, past a bound). */
int xml_parse(const char *p, size_t n, struct xml_doc *doc, char *err);
void xml_free(struct xml_doc *doc);
/* The first child of node i named ns:name, or -1. */
int xml_child(const struct xml_doc *doc, int i, const char *ns, const char *name);

#endif
