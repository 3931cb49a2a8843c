/* A fast TCP sink for benchmarks: listens on 127.0.0.1 (port 0), prints
 * "port N", then for each connection reads to EOF into a 1 MiB buffer,
 * closes, and prints the byte count. Ends after COUNT connections. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	struct sockaddr_in sa = { 0 };
	socklen_t len = sizeof sa;
	int count = argc > 1 ? atoi(argv[1]) : 1, one = 1;
	int ls = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 16) < 0 ||
	    getsockname(ls, (struct sockaddr *)&sa, &len) < 0) {
		perror("sink");
		return 1;
	}
	printf("port %d\n", ntohs(sa.sin_port));
	fflush(stdout);
	while (count-- > 0) {
		long long total = 0;
		ssize_t n;
		int fd = accept(ls, NULL, NULL);

		if (fd < 0) {
			perror("accept");
			return 1;
		}
		while ((n = read(fd, buf, sizeof buf)) > 0)
			total += n;
		close(fd);
		printf("%lld\n", total);
		fflush(stdout);
	}
	return 0;
}
