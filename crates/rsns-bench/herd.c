/*
 * A herd of namespaced processes for the rs-lsns benchmark: `rsns-herd N`
 * starts N processes, each in its own UTS and IPC namespaces, prints "ready"
 * once all are in place, and when its stdin closes kills them all (they also
 * die with it: PR_SET_PDEATHSIG). Built by the Makefile with cc -O2.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 0;
	int ready[2];

	if (n <= 0 || pipe(ready) < 0)
		return 2;
	/* Our own process group, so the kill(0, ...) at the end hits only us. */
	if (setpgid(0, 0) < 0)
		return 1;
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			kill(0, SIGKILL);
			return 1;
		}
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (unshare(CLONE_NEWUTS | CLONE_NEWIPC) < 0)
				_exit(1);
			if (write(ready[1], "", 1) != 1)
				_exit(1);
			for (;;)
				pause();
		}
	}
	close(ready[1]);
	char c;
	for (int i = 0; i < n; i++) {
		if (read(ready[0], &c, 1) != 1) {
			fprintf(stderr, "rsns-herd: a member failed to start\n");
			return 1;
		}
	}
	printf("ready\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	signal(SIGTERM, SIG_IGN);
	kill(0, SIGTERM);
	while (wait(NULL) > 0)
		;
	return 0;
}
