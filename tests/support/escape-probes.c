/* The escape battery's probes (tests/isolation.rs): each tries one thing a
 * program in a box must not be able to do, with arguments chosen so that it
 * does no harm where it is allowed (an invalid flag past the permission
 * check, a missing path, a mount undone at once), and prints
 *
 *     NAME blocked ERRNO-NAME      the kernel refused before acting
 *     NAME open RESULT             it got past every check
 *
 * "Blocked" means a refusal by privilege (EPERM, EACCES), by a filter
 * (ENOSYS, or EPERM), or by a read-only or masked path (EROFS, an empty
 * read). Built static, as the box has only busybox.
 *
 * Run it in a box only: where nothing blocks them, some probes act (a
 * tmpfs mounted and unmounted, the hostname set to itself).
 *
 * Usage: escape-probes [MARKER]   MARKER: a host path the box must not see
 * (the chroot escape looks for it).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <netinet/in.h>

static const char *ename(int e)
{
    switch (e) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOSYS: return "ENOSYS";
    case EROFS: return "EROFS";
    case ENOENT: return "ENOENT";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case EBADF: return "EBADF";
    case EBUSY: return "EBUSY";
    case ENODEV: return "ENODEV";
    case ENOTDIR: return "ENOTDIR";
    case EEXIST: return "EEXIST";
    case ENXIO: return "ENXIO";
    case ESTALE: return "ESTALE";
    case ENOEXEC: return "ENOEXEC";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return "E?";
    }
}

static int refused(int e)
{
    return e == EPERM || e == EACCES || e == ENOSYS || e == EROFS;
}

/* A system call's result: blocked on a refusal, open otherwise. */
static void call(const char *name, long ret)
{
    int e = errno;
    if (ret < 0 && refused(e))
        printf("%s blocked %s\n", name, ename(e));
    else if (ret < 0)
        printf("%s open %s\n", name, ename(e));
    else
        printf("%s open ok\n", name);
    fflush(stdout);
}

/* A file opened for writing: open if it opens (nothing is written). */
static void writable(const char *name, const char *path)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    int e = errno;
    if (fd >= 0) {
        close(fd);
        printf("%s open ok\n", name);
    } else if (e == ENOENT) {
        printf("%s blocked ENOENT\n", name);
    } else {
        errno = e;
        call(name, -1);
    }
    fflush(stdout);
}

/* A file that must not give anything away: open if a read returns bytes. */
static void readable(const char *name, const char *path)
{
    char buf[64];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        printf("%s blocked %s\n", name, ename(errno));
    } else {
        ssize_t n = read(fd, buf, sizeof buf);
        int e = errno;
        close(fd);
        if (n > 0)
            printf("%s open %zd bytes\n", name, n);
        else if (n == 0)
            printf("%s blocked empty\n", name);
        else
            printf("%s %s %s\n", name, refused(e) ? "blocked" : "open", ename(e));
    }
    fflush(stdout);
}

/* A directory that must be masked: open if it lists anything. */
static void listable(const char *name, const char *path)
{
    DIR *d = opendir(path);
    int n = 0;
    struct dirent *ent;
    if (!d) {
        printf("%s blocked %s\n", name, ename(errno));
        return;
    }
    while ((ent = readdir(d)))
        if (strcmp(ent->d_name, ".") && strcmp(ent->d_name, ".."))
            n++;
    closedir(d);
    if (n)
        printf("%s open %d entries\n", name, n);
    else
        printf("%s blocked empty\n", name);
    fflush(stdout);
}

/* A device node made here, then opened: the device policy's test. */
static void device(const char *name, unsigned maj, unsigned min)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/rsns-probe-%s", name);
    unlink(path);
    if (mknod(path, S_IFCHR | 0600, makedev(maj, min)) < 0) {
        printf("%s blocked mknod %s\n", name, ename(errno));
        fflush(stdout);
        return;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int e = errno;
    unlink(path);
    if (fd >= 0) {
        close(fd);
        printf("%s open ok\n", name);
    } else {
        /* ENXIO: no such device here, but the policy let the open through. */
        printf("%s %s open %s\n", name, refused(e) ? "blocked" : "open", ename(e));
    }
    fflush(stdout);
}

/* The classic chroot escape: chroot into a subdirectory while the working
 * directory stays outside it, climb, chroot to what was reached. Run in a
 * child, so the probe keeps its own root. */
static void chroot_escape(const char *marker)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        mkdir("/tmp/rsns-jail", 0700);
        if (chroot("/tmp/rsns-jail") < 0) {
            printf("chroot-escape blocked %s\n", ename(errno));
            _exit(0);
        }
        for (int i = 0; i < 64; i++)
            if (chdir("..") < 0)
                break;
        chroot(".");
        struct stat st;
        if (marker && stat(marker, &st) == 0)
            printf("chroot-escape open reached the host\n");
        else
            printf("chroot-escape blocked stayed in the box\n");
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    rmdir("/tmp/rsns-jail");
}

int main(int argc, char **argv)
{
    const char *marker = argc > 1 ? argv[1] : NULL;
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* Kernel code and the machine. */
    call("init_module", syscall(SYS_init_module, NULL, 0, ""));
    call("finit_module", syscall(SYS_finit_module, -1, "", 0));
    call("delete_module", syscall(SYS_delete_module, "rsns_no_such_module", O_NONBLOCK));
    call("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0xdead0000UL));
    call("kexec_file_load", syscall(SYS_kexec_file_load, -1, -1, 0, "", 0xdead0000UL));
    call("reboot", syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, 0x12345678, NULL));
    call("swapon", syscall(SYS_swapon, "/rsns-no-such-swap", 0));
    call("swapoff", syscall(SYS_swapoff, "/rsns-no-such-swap"));
    call("acct", syscall(SYS_acct, "/rsns-no-such-file"));
    struct timezone tz = { .tz_minuteswest = 15 * 60 + 1 };
    call("settimeofday", syscall(SYS_settimeofday, NULL, &tz));
#if defined(__x86_64__)
    call("iopl", syscall(SYS_iopl, 0));
    call("ioperm", syscall(SYS_ioperm, 0x80, 1, 0));
#endif
    call("syslog", syscall(SYS_syslog, 10 /* SIZE_BUFFER */, NULL, 0));
    call("quotactl", syscall(SYS_quotactl, 0x800002 /* Q_QUOTAON, user */, "/rsns-no-such-dev", 0, NULL));

    /* BPF, perf, io_uring, userfaultfd, keys. */
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    call("bpf", syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr));
    struct perf_event_attr pe;
    memset(&pe, 0, sizeof pe);
    pe.type = PERF_TYPE_SOFTWARE;
    pe.size = sizeof pe;
    pe.config = PERF_COUNT_SW_CPU_CLOCK;
    pe.disabled = 1;
    pe.exclude_kernel = 1;
    call("perf_event_open", syscall(SYS_perf_event_open, &pe, 0, -1, -1, 0));
    char uring[120];
    memset(uring, 0, sizeof uring);
    call("io_uring_setup", syscall(SYS_io_uring_setup, 1, uring));
    call("userfaultfd", syscall(SYS_userfaultfd, O_CLOEXEC));
    long key = syscall(SYS_add_key, "user", "rsns-probe", "x", 1, KEY_SPEC_PROCESS_KEYRING);
    call("add_key", key);
    if (key >= 0)
        syscall(SYS_keyctl, KEYCTL_REVOKE, key);
    call("fanotify_init", syscall(SYS_fanotify_init, 0, 0));

    /* Sockets. */
    int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    call("packet_socket", s);
    if (s >= 0)
        close(s);
    s = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
    call("raw_socket", s);
    if (s >= 0)
        close(s);

    /* Namespaces, mounts, the root. */
    call("unshare_mount_ns", unshare(CLONE_NEWNS));
    /* Its own namespace: nothing changes where the call is allowed. */
    int ns = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
    call("setns", syscall(SYS_setns, ns, 0));
    if (ns >= 0)
        close(ns);
    long m = mount("rsns-probe", "/tmp", "tmpfs", 0, NULL);
    call("mount_tmpfs", m);
    if (m == 0)
        umount2("/tmp", MNT_DETACH);
    call("remount_proc_sys_rw", mount(NULL, "/proc/sys", NULL, MS_REMOUNT | MS_BIND, NULL));
    call("pivot_root", syscall(SYS_pivot_root, ".", "."));
    /* The name it has: nothing changes where the call is allowed. */
    char host[65] = "";
    gethostname(host, sizeof host - 1);
    call("sethostname", sethostname(host, strlen(host)));
    call("open_by_handle_at", syscall(SYS_open_by_handle_at, AT_FDCWD,
                                      "\x08\0\0\0\x01\0\0\0\0\0\0\0\0\0\0\0", O_RDONLY));
    chroot_escape(marker);

    /* Scheduling and limits beyond the box's share. */
    struct sched_param sp = { .sched_priority = 1 };
    long rt = sched_setscheduler(0, SCHED_FIFO, &sp);
    call("realtime_scheduling", rt);
    if (rt == 0) {
        sp.sched_priority = 0;
        sched_setscheduler(0, SCHED_OTHER, &sp);
    }
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_max != RLIM_INFINITY) {
        rl.rlim_max += 1;
        call("raise_hard_rlimit", setrlimit(RLIMIT_NOFILE, &rl));
    }
    call("personality", syscall(SYS_personality, 0x0400000 /* READ_IMPLIES_EXEC */));
    syscall(SYS_personality, 0);

    /* Paths: masked, read-only, device nodes. */
    readable("proc_kcore", "/proc/kcore");
    readable("proc_keys", "/proc/keys");
    readable("proc_timer_list", "/proc/timer_list");
    writable("proc_sysrq_trigger", "/proc/sysrq-trigger");
    writable("proc_core_pattern", "/proc/sys/kernel/core_pattern");
    writable("proc_drop_caches", "/proc/sys/vm/drop_caches");
    writable("sys_uevent_helper", "/sys/kernel/uevent_helper");
    listable("sys_firmware", "/sys/firmware");
    readable("dev_kmsg", "/dev/kmsg");
    device("mknod_disk", 8, 0);
    device("mknod_mem", 1, 1);
    return 0;
}
