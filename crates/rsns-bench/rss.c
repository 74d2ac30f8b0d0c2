/*
 * Peak RSS of one run of a command, for `make bench`: fork, exec, wait4, and
 * print ru_maxrss in KiB. Written small and linked statically on purpose: the
 * kernel counts the forked child's copy of its parent towards the child's
 * peak until it execs, so a big launcher (the Rust harness is ~2 MiB)
 * would hide the tool being measured.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	pid_t pid = fork();
	if (pid == 0) {
		/* Only our number goes to stdout (rs-lsns would print a table). */
		int null = open("/dev/null", O_WRONLY);
		if (null < 0 || dup2(null, 1) < 0)
			_exit(126);
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
		return 1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return 1;
	printf("%ld\n", ru.ru_maxrss);
	return 0;
}
