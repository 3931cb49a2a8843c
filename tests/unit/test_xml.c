/* The WebDAV bodies' XML reader: namespaces, text, offsets, refusals. */
#include "check.h"
#include "nettool/base/util.h"
#include "nettool/proto/xml.h"

#include <stdio.h>
#include <string.h>

static struct xml_doc doc;
static char err[NT_ERR_LEN];

static int parse(const char *s)
{
	xml_free(&doc);
	return xml_parse(s, strlen(s), &doc, err);
}

static void test_propfind(void)
{
	const char *body = "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
			   "<D:propfind xmlns:D=\"DAV:\"><D:prop xmlns:R=\"http://ns.example/\">"
			   "<D:getetag/><R:color xml:lang=\"en\">r&amp;d &#x4E2D;<!-- no -->"
			   "<![CDATA[<raw>]]></R:color></D:prop></D:propfind>";
	int prop, c;

	CHECK(parse(body) == 0);
	CHECK(doc.n == 4 && !strcmp(doc.nodes[0].ns, "DAV:") && !strcmp(doc.nodes[0].name, "propfind"));
	prop = xml_child(&doc, 0, "DAV:", "prop");
	CHECK(prop == 1);
	CHECK(xml_child(&doc, prop, "DAV:", "getetag") == 2);
	c = xml_child(&doc, prop, "http://ns.example/", "color");
	CHECK(c == 3 && !strcmp(doc.nodes[c].text, "r&d \xe4\xb8\xad<raw>"));
	CHECK(doc.nodes[c].lang && !strcmp(doc.nodes[c].lang, "en"));
	CHECK(!strncmp(body + doc.nodes[c].start, "<R:color", 8));
	CHECK(!strncmp(body + doc.nodes[c].end - 10, "</R:color>", 10));
	CHECK(xml_child(&doc, prop, "DAV:", "color") == -1);
	/* a default namespace, and one redeclared inside */
	CHECK(parse("<a xmlns=\"urn:x\"><b/><c xmlns=\"\"><d>t</d></c></a>") == 0);
	CHECK(!strcmp(doc.nodes[1].ns, "urn:x") && !strcmp(doc.nodes[3].ns, "") &&
	      !strcmp(doc.nodes[3].text, "t"));
	/* mixed content: the element's own text, around its children */
	CHECK(parse("<a>x<b>y</b>z</a>") == 0 && !strcmp(doc.nodes[0].text, "xz") &&
	      !strcmp(doc.nodes[1].text, "y"));
}

static void test_refusals(void)
{
	char deep[4096];
	int i;

	CHECK(parse("<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>") < 0 && strstr(err, "DOCTYPE"));
	CHECK(parse("<a>&e;</a>") < 0);
	CHECK(parse("<a>&#0;</a>") < 0);
	CHECK(parse("<a>&#xD800;</a>") < 0);
	CHECK(parse("<a><b></a></b>") < 0);
	CHECK(parse("<a></a><b/>") < 0);
	CHECK(parse("<p:a/>") < 0);
	CHECK(parse("<a xmlns:p=\"\"/>") < 0);
	CHECK(parse("<a>") < 0);
	CHECK(parse("") < 0);
	CHECK(parse("text") < 0);
	CHECK(parse("<a x=1/>") < 0);
	CHECK(parse("<a><!-- open") < 0);
	deep[0] = '\0';
	for (i = 0; i < 40; i++)
		strcat(deep, "<a>");
	CHECK(parse(deep) < 0 && strstr(err, "deep"));
	CHECK(parse("<a b='&lt;' c=\"&quot;\"/>") == 0);
	xml_free(&doc);
}

int main(void)
{
	RUN(test_propfind);
	RUN(test_refusals);
	return CHECK_DONE();
}
