/*
 * The floor for `make bench`: the least a program can do for each benchmarked
 * invocation: the raw unshare/clone, the maps and mounts, exec and wait,
 * without parsing, checks or messages. Built by the Makefile with cc -O2.
 *
 *   rsns-floor U   PROG...   unshare(CLONE_NEWUSER), exec
 *   rsns-floor n   PROG...   unshare(CLONE_NEWNET), exec
 *   rsns-floor pf  PROG...   clone(CLONE_NEWPID), exec, wait
 *   rsns-floor Urpfmu-proc PROG...
 *                            clone(USER|PID|NS|UTS), write setgroups and the
 *                            root maps, child: make / private, mount proc,
 *                            exec; wait
 *   rsns-floor pinit PROG... clone(CLONE_NEWPID); the child forks the program,
 *                            reaps until it ends, exits as it did; wait
 *   rsns-floor mpivot ROOT PROG...
 *                            unshare(CLONE_NEWNS), make / private, bind ROOT
 *                            onto itself, pivot_root(".", "."), detach the
 *                            old root, exec (what rs-pivot --root does)
 *   rsns-floor cgroup DIR [FILE=VALUE...] -- PROG...
 *                            mkdir(DIR), write each limit to DIR/FILE,
 *                            clone3(CLONE_INTO_CGROUP), exec, wait,
 *                            rmdir(DIR) (what rs-cgroup does)
 *   rsns-floor join PID PROG...
 *                            pidfd_open(PID), setns(pidfd, MNT|UTS|IPC|NET|PID),
 *                            fork, exec, wait (what nsenter -t PID -a needs
 *                            for a box made with -pfmuin)
 *   rsns-floor nnp PROG...   prctl(PR_SET_NO_NEW_PRIVS), exec (setpriv --nnp)
 *   rsns-floor ids UID GID PROG...
 *                            setgroups(0), setresgid, setresuid, exec
 *                            (setpriv --reuid --regid --clear-groups)
 *   rsns-floor nocaps PROG...
 *                            drop every capability from the bounding set,
 *                            clear the inheritable set, exec (setpriv
 *                            --bounding-set=-all --inh-caps=-all)
 *   rsns-floor seccomp FILE... -- PROG...
 *                            load each file's raw BPF program with
 *                            seccomp(2), exec (the filters rs-setpriv
 *                            --seccomp=container compiles, written out by
 *                            rsns-bench, so only the compiling differs)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <stdint.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		_exit(1);
	close(fd);
}

static int wait_for(pid_t pid)
{
	int status;
	if (waitpid(pid, &status, 0) < 0)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static pid_t clone_into(int flags)
{
	return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
}

/* clone3's arguments up to the cgroup field (Linux 5.7). */
struct clone3_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
		set_tid, set_tid_size, cgroup;
};

static int in_cgroup(int argc, char **argv)
{
	const char *dir = argv[2];
	char path[4096];
	int i = 3;
	if (mkdir(dir, 0755))
		return 1;
	for (; i < argc && strcmp(argv[i], "--"); i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq)
			return 2;
		snprintf(path, sizeof path, "%s/%.*s", dir, (int)(eq - argv[i]), argv[i]);
		put(path, eq + 1);
	}
	if (i + 1 >= argc)
		return 2;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct clone3_args args = { .flags = 0x200000000ULL /* CLONE_INTO_CGROUP */,
				    .exit_signal = SIGCHLD,
				    .cgroup = (uint64_t)fd };
	pid_t pid = fd < 0 ? -1 : (pid_t)syscall(SYS_clone3, &args, sizeof args);
	if (pid == 0) {
		execvp(argv[i + 1], argv + i + 1);
		_exit(127);
	}
	int status = pid < 0 ? 1 : wait_for(pid);
	while (rmdir(dir) && errno == EBUSY)
		;
	return status;
}

static int seccomp_filters(int argc, char **argv)
{
	static struct sock_filter insns[BPF_MAXINSNS];
	int i = 2;
	for (; i < argc && strcmp(argv[i], "--"); i++) {
		int fd = open(argv[i], O_RDONLY | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, insns, sizeof insns);
		struct sock_fprog prog = { .len = (unsigned short)(n / sizeof insns[0]), .filter = insns };
		if (n <= 0 || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
			return 1;
		close(fd);
	}
	if (i + 1 >= argc)
		return 2;
	execvp(argv[i + 1], argv + i + 1);
	return 127;
}

static int drop_caps(char **prog)
{
	struct __user_cap_header_struct head = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	for (int cap = 0; prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0; cap++)
		;
	if (syscall(SYS_capget, &head, data))
		return 1;
	data[0].inheritable = data[1].inheritable = 0;
	if (syscall(SYS_capset, &head, data))
		return 1;
	execvp(prog[0], prog);
	return 127;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *mode = argv[1];
	char **prog = argv + 2;

	if (!strcmp(mode, "U") || !strcmp(mode, "n")) {
		if (unshare(mode[0] == 'U' ? CLONE_NEWUSER : CLONE_NEWNET))
			return 1;
		execvp(prog[0], prog);
		return 127;
	}
	if (!strcmp(mode, "pf")) {
		pid_t pid = clone_into(CLONE_NEWPID);
		if (pid == 0) {
			execvp(prog[0], prog);
			_exit(127);
		}
		return pid < 0 ? 1 : wait_for(pid);
	}
	if (!strcmp(mode, "pinit")) {
		pid_t pid = clone_into(CLONE_NEWPID);
		if (pid == 0) {
			pid_t prog_pid = fork();
			if (prog_pid == 0) {
				execvp(prog[0], prog);
				_exit(127);
			}
			int status = 1;
			for (;;) {
				int st;
				pid_t got = wait(&st);
				if (got < 0)
					break;
				if (got == prog_pid)
					status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			}
			_exit(status);
		}
		return pid < 0 ? 1 : wait_for(pid);
	}
	if (!strcmp(mode, "mpivot") && argc >= 4) {
		const char *root = argv[2];
		prog = argv + 3;
		if (unshare(CLONE_NEWNS) ||
		    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount(root, root, NULL, MS_BIND | MS_REC, NULL) || chdir(root) ||
		    syscall(SYS_pivot_root, ".", ".") || umount2(".", MNT_DETACH) || chdir("/"))
			return 1;
		execvp(prog[0], prog);
		return 127;
	}
	if (!strcmp(mode, "nnp")) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
			return 1;
		execvp(prog[0], prog);
		return 127;
	}
	if (!strcmp(mode, "ids") && argc >= 5) {
		unsigned uid = (unsigned)atol(argv[2]), gid = (unsigned)atol(argv[3]);
		prog = argv + 4;
		if (setgroups(0, NULL) || setresgid(gid, gid, gid) || setresuid(uid, uid, uid))
			return 1;
		execvp(prog[0], prog);
		return 127;
	}
	if (!strcmp(mode, "nocaps"))
		return drop_caps(prog);
	if (!strcmp(mode, "seccomp"))
		return seccomp_filters(argc, argv);
	if (!strcmp(mode, "cgroup") && argc >= 5)
		return in_cgroup(argc, argv);
	if (!strcmp(mode, "join") && argc >= 4) {
		int pidfd = (int)syscall(SYS_pidfd_open, atoi(argv[2]), 0);
		prog = argv + 3;
		if (pidfd < 0 || setns(pidfd, CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
					  CLONE_NEWNET | CLONE_NEWPID))
			return 1;
		pid_t pid = fork();
		if (pid == 0) {
			execvp(prog[0], prog);
			_exit(127);
		}
		return pid < 0 ? 1 : wait_for(pid);
	}
	if (!strcmp(mode, "Urpfmu-proc")) {
		int go[2];
		char path[64], map[64];
		if (pipe2(go, O_CLOEXEC))
			return 1;
		unsigned uid = geteuid(), gid = getegid();
		pid_t pid = clone_into(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS);
		if (pid == 0) {
			char byte;
			close(go[1]);
			if (read(go[0], &byte, 1) != 1)
				_exit(1);
			if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
			    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
				_exit(1);
			execvp(prog[0], prog);
			_exit(127);
		}
		if (pid < 0)
			return 1;
		snprintf(path, sizeof path, "/proc/%d/setgroups", pid);
		put(path, "deny");
		snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
		snprintf(map, sizeof map, "0 %u 1", uid);
		put(path, map);
		snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
		snprintf(map, sizeof map, "0 %u 1", gid);
		put(path, map);
		if (write(go[1], "g", 1) != 1)
			return 1;
		return wait_for(pid);
	}
	return 2;
}
