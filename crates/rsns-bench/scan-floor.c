/*
 * The floor for rs-lsns in `make bench`: a bare scan that only stats
 * /proc/PID/ns/TYPE for every process and type and prints nothing, the least
 * any namespace lister must do. Built by the Makefile with cc -O2.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>

int main(void)
{
	static const char *types[] = { "mnt", "net", "pid", "uts", "ipc", "user", "cgroup", "time" };
	DIR *proc = opendir("/proc");
	struct dirent *d;
	char path[300];
	struct stat st;
	unsigned long sum = 0;

	if (!proc)
		return 1;
	while ((d = readdir(proc))) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		for (unsigned i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
			snprintf(path, sizeof(path), "/proc/%s/ns/%s", d->d_name, types[i]);
			if (stat(path, &st) == 0)
				sum += st.st_ino;
		}
	}
	closedir(proc);
	return sum == 0;
}
