# nettool: a command-line network toolkit. POSIX make.
.POSIX:

PREFIX = /usr/local
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man/man1
CC = cc
CFLAGS = -O2 -g
WARN = -std=c11 -Wall -Wextra -Werror -pedantic
NT_CPPFLAGS = -D_POSIX_C_SOURCE=200809L -Iinclude -pthread
LIBS = -lm
SAN = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
PYTHON = python3

# The layers, lowest first: a file includes headers of its own layer or
# of a lower one only (tests/integration/test_tree.py checks it).
BASE_OBJ = src/base/util.o src/base/buf.o src/base/rate.o
PROTO_OBJ = src/proto/http.o src/proto/url.o src/proto/multipart.o src/proto/pack.o \
	src/proto/pack_text.o src/proto/pack_printf.o src/proto/frame.o src/proto/rdgram.o \
	src/proto/sha256.o src/proto/writeout.o src/proto/cookie.o src/proto/urlglob.o src/proto/tar.o src/proto/xml.o
CORE_OBJ = src/core/cmd.o src/core/cmd_config.o src/core/loop.o src/core/net.o src/core/dgram.o src/core/rsend.o src/core/gather.o src/core/infile.o src/core/server.o src/core/acl.o \
	src/core/pump.o src/core/proxy.o src/core/fwatch.o src/core/sockopt.o
HTTP_OBJ = src/http/fcache.o src/http/serve.o src/http/respond.o src/http/upload.o \
	src/http/client.o src/http/client_body.o src/http/client_data.o src/http/client_out.o src/http/client_retry.o src/http/client_cookie.o src/http/fetch.o src/http/fetch_many.o src/http/auth.o src/http/listing.o src/http/tar_stream.o src/http/dav.o src/http/reply.o src/http/dav_props.o src/http/dav_lock.o src/http/dav_tree.o
TCP_OBJ = src/tcp/tcp_exec.o src/tcp/tcp_chat.o src/tcp/tcp_spawn.o
LIB_OBJ = $(BASE_OBJ) $(PROTO_OBJ) $(CORE_OBJ) $(HTTP_OBJ) $(TCP_OBJ)
CMD_OBJ = src/cmd/main.o src/cmd/tcp_client.o src/cmd/tcp_server.o src/cmd/tcp_echo_server.o \
	src/cmd/pack.o src/cmd/unpack.o src/cmd/udp_server.o src/cmd/udp_client.o \
	src/cmd/http_get.o src/cmd/http_serve.o src/cmd/relay.o
HDR = include/nettool/*/*.h
UNIT = tests/unit/test_cmd tests/unit/test_util tests/unit/test_net tests/unit/test_loop tests/unit/test_loop_poll \
	tests/unit/test_pack tests/unit/test_frame tests/unit/test_rdgram \
	tests/unit/test_http tests/unit/test_fwatch tests/unit/test_multipart tests/unit/test_proxy \
	tests/unit/test_writeout tests/unit/test_retry tests/unit/test_cookie tests/unit/test_urlglob tests/unit/test_auth tests/unit/test_xml tests/unit/test_davprops

all: nettool

nettool: $(CMD_OBJ) $(LIB_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -pthread -o $@ $(CMD_OBJ) $(LIB_OBJ) $(LIBS)

.SUFFIXES: .c .o
.c.o:
	$(CC) $(WARN) $(NT_CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(CMD_OBJ) $(LIB_OBJ): $(HDR)

tests/unit/test_davprops: tests/unit/test_davprops.c tests/unit/check.h $(LIB_OBJ)
	$(CC) $(WARN) $(NT_CPPFLAGS) $(CFLAGS) -o $@ tests/unit/test_davprops.c $(LIB_OBJ) $(LIBS)
tests/unit/test_xml: tests/unit/test_xml.c tests/unit/check.h $(LIB_OBJ)
	$(CC) $(WARN) $(NT_CPPFLAGS) $(CFLAGS) -o $@ tests/unit/test_xml.c $(LIB_OBJ) $(LIBS)
tests/unit/test_auth: tests/unit/test_auth.c tests/unit/check.h $(LIB_OBJ)
	$(CC) $(WARN) $(NT_CPPFLAGS) $(CFLAGS) -o $@ tests/unit/test_auth.c $(LIB_OBJ) $(LIBS)
tests/unit/test_urlglob: tests/unit/test_urlglob.c tests/unit/check.h $(LIB_OBJ)
	$(CC) $(WARN) $(NT_CPPFLAGS) $(CFLAGS) -o $@ tests/unit/test_urlglob.c $(LIB_OBJ) $(LIBS)
tests/unit/test_cookie: tests/unit/test_cookie.c tests/unit/check.h $(LIB_OBJ)
	$(CC) $(WARN) $(NT_CPPFLAGS) $(CFLAGS) -o $@ tests/unit/test_cookie.c $(LIB_OBJ) $(LIBS)
tests/unit/test_retry: tests/unit/test_retry.c tests/unit/check.h $(LIB_OBJ)
	$(CC) $(WARN) $(NT_CPPFLAGS) $(CFLAGS) -o $@ tests/unit/test_retry.c $(LIB_OBJ) $(LIBS)
tests/unit/test_writeout: tests/unit/test_writeout.c tests/unit/check.h $(LIB_OBJ)
	$(CC) $(WARN) $(NT_CPPFLAGS) $(CFLAGS) -o $@ tests/unit/test_writeout.c $(LIB_OBJ) $(LIBS)
tests/unit/test_cmd: tests/unit/test_cmd.c tests/unit/check.h $(LIB_OBJ)
	$(CC) $(WARN) $(NT_CPPFLAGS) $(CFLAGS) -o $@ tests/unit/test_cmd.c $(LIB_OBJ) $(LIBS)
tests/unit/test_util: tests/unit/test_util.c tests/unit/check.h $(LIB_OBJ)
	$(CC) $(WARN) $(NT_CPPFLAGS) $(CFLAGS) -o $@ tests/unit/test_util.c $(LIB_OBJ) $(LIBS)
tests/unit/test_net: tests/unit/test_net.c tests/unit/check.h $(LIB_OBJ)
	$(CC) $(WARN) $(NT_CPPFLAGS) $(CFLAGS) -o $@ tests/unit/test_net.c $(LIB_OBJ) $(LIBS)
tests/unit/test_loop: tests/unit/test_loop.c tests/unit/check.h $(LIB_OBJ)
	$(CC) $(WARN) $(NT_CPPFLAGS) $(CFLAGS) -o $@ tests/unit/test_loop.c $(LIB_OBJ) $(LIBS)
tests/unit/test_pack: tests/unit/test_pack.c tests/unit/check.h $(LIB_OBJ)
	$(CC) $(WARN) $(NT_CPPFLAGS) $(CFLAGS) -o $@ tests/unit/test_pack.c $(LIB_OBJ) $(LIBS)
tests/unit/test_frame: tests/unit/test_frame.c tests/unit/check.h $(LIB_OBJ)
	$(CC) $(WARN) $(NT_CPPFLAGS) $(CFLAGS) -o $@ tests/unit/test_frame.c $(LIB_OBJ) $(LIBS)
tests/unit/test_rdgram: tests/unit/test_rdgram.c tests/unit/check.h $(LIB_OBJ)
	$(CC) $(WARN) $(NT_CPPFLAGS) $(CFLAGS) -o $@ tests/unit/test_rdgram.c $(LIB_OBJ) $(LIBS)
tests/unit/test_http: tests/unit/test_http.c tests/unit/check.h $(LIB_OBJ)
	$(CC) $(WARN) $(NT_CPPFLAGS) $(CFLAGS) -o $@ tests/unit/test_http.c $(LIB_OBJ) $(LIBS)
tests/unit/test_multipart: tests/unit/test_multipart.c tests/unit/check.h $(LIB_OBJ)
	$(CC) $(WARN) $(NT_CPPFLAGS) $(CFLAGS) -o $@ tests/unit/test_multipart.c $(LIB_OBJ) $(LIBS)
tests/unit/test_proxy: tests/unit/test_proxy.c tests/unit/check.h $(LIB_OBJ)
	$(CC) $(WARN) $(NT_CPPFLAGS) $(CFLAGS) -o $@ tests/unit/test_proxy.c $(LIB_OBJ) $(LIBS)
tests/unit/test_fwatch: tests/unit/test_fwatch.c tests/unit/check.h $(LIB_OBJ)
	$(CC) $(WARN) $(NT_CPPFLAGS) $(CFLAGS) -o $@ tests/unit/test_fwatch.c $(LIB_OBJ) $(LIBS)
# the same loop tests against the portable poll(2) backend
tests/unit/test_loop_poll: tests/unit/test_loop.c tests/unit/check.h src/core/loop.c src/base/util.o
	$(CC) $(WARN) $(NT_CPPFLAGS) -DNT_USE_POLL $(CFLAGS) -o $@ tests/unit/test_loop.c src/core/loop.c src/base/util.o

check: test
test: nettool $(UNIT)
	$(PYTHON) tests/run.py --nettool ./nettool --slowest 10 $(TEST_FLAGS) $(UNIT)

# The whole suite again under AddressSanitizer and UndefinedBehaviorSanitizer,
# built in a tree of its own so the normal objects are untouched.
asan:
	rm -rf build/asan && mkdir -p build/asan
	cp -R Makefile src include tests man build/asan/
	cd build/asan && $(MAKE) clean >/dev/null && \
		NETTOOL_TEST_SLOW=3 ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		$(MAKE) test CC="$(CC)" CFLAGS="-O1 -g $(SAN)" LDFLAGS="$(SAN)" \
		PYTHON="$(PYTHON)"

# The multi-threaded servers' tests (http-serve; udp-server --reliable's writer), and the server layer's, again under
# ThreadSanitizer (clang).
TSAN_CC = clang
tsan:
	rm -rf build/tsan && mkdir -p build/tsan
	cp -R Makefile src include tests man build/tsan/
	cd build/tsan && $(MAKE) clean >/dev/null && \
		$(MAKE) nettool CC="$(TSAN_CC)" CFLAGS="-O1 -g -fsanitize=thread" \
		LDFLAGS="-fsanitize=thread" && \
		NETTOOL_TEST_SLOW=3 $(PYTHON) tests/run.py --nettool ./nettool -k http_serve,http_upload,http_many,http_dav/litmus,http_dav/a_lock,servers/,relay/,reliable/

# libFuzzer targets (clang, with Debian's libclang-rt-14-dev); FUZZ_SECONDS each
FUZZ_CC = clang
FUZZ_SECONDS = 10
FUZZ_TARGETS = pack unpack frame rdgram http_request http_response url map_path multipart writeout \
	cookie urlglob tar xml
FUZZ_SRC = src/proto/pack.c src/proto/pack_text.c src/proto/pack_printf.c src/proto/frame.c \
	src/proto/rdgram.c src/proto/sha256.c src/proto/http.c src/proto/url.c src/proto/multipart.c \
	src/proto/writeout.c src/proto/cookie.c src/proto/urlglob.c src/proto/tar.c src/proto/xml.c \
	src/base/buf.c src/base/util.c
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
fuzz:
	mkdir -p build/fuzz
	for t in $(FUZZ_TARGETS); do \
		$(FUZZ_CC) $(WARN) $(NT_CPPFLAGS) $(FUZZ_FLAGS) -o build/fuzz/fuzz_$$t \
			tests/fuzz/fuzz_$$t.c $(FUZZ_SRC) -lm || exit 1; \
	done

fuzz-run: fuzz
	for t in $(FUZZ_TARGETS); do \
		mkdir -p build/fuzz/corpus_$$t && \
		build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			build/fuzz/corpus_$$t tests/fuzz/seeds_$$t || exit 1; \
	done

install: nettool
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)
	cp nettool $(DESTDIR)$(BINDIR)/nettool
	chmod 755 $(DESTDIR)$(BINDIR)/nettool
	cp man/nettool.1 $(DESTDIR)$(MANDIR)/nettool.1
	chmod 644 $(DESTDIR)$(MANDIR)/nettool.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/nettool $(DESTDIR)$(MANDIR)/nettool.1

clean:
	rm -f nettool src/*/*.o $(UNIT)
	rm -rf build

.PHONY: all check test asan tsan fuzz fuzz-run install uninstall clean
