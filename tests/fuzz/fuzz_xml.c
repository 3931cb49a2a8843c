/* Fuzz the XML reader: any bytes parse or are refused; a tree it makes
 * keeps to its bounds, its links and offsets consistent. */
#include "nettool/base/util.h"
#include "nettool/proto/xml.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct xml_doc doc;
	char err[NT_ERR_LEN];
	int i;

	if (xml_parse((const char *)data, size, &doc, err) < 0)
		return 0;
	if (doc.n < 1 || doc.n > XML_NODES || doc.nodes[0].parent != -1)
		abort();
	for (i = 0; i < doc.n; i++) {
		const struct xml_node *nd = &doc.nodes[i];

		if (nd->start >= nd->end || nd->end > size || data[nd->start] != '<' ||
		    data[nd->end - 1] != '>')
			abort();
		if ((i && (nd->parent < 0 || nd->parent >= i)) || nd->next >= doc.n ||
		    (nd->child >= 0 && (nd->child <= i || doc.nodes[nd->child].parent != i)))
			abort();
		if (strlen(nd->text) > size || strlen(nd->name) == 0 || !nd->ns)
			abort();
	}
	xml_free(&doc);
	return 0;
}
