/* fake-ld: a dynamic loader as a hostile image would ship one (CVE-2019-5736). When the kernel
 * runs a dynamically linked program in the container, it starts this loader from the image
 * instead of the real one, inside the process of that program. It reports what /proc/self/exe
 * is and whether it can be opened for writing, then exits: no libc, raw syscalls only, since it
 * runs before any loader has set up anything. */
#include <fcntl.h>
#include <sys/syscall.h>

static long sys3(long n, long a, long b, long c)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
}

static unsigned long len(const char *s)
{
	unsigned long n = 0;
	while (s[n])
		n++;
	return n;
}

static void say(const char *s)
{
	sys3(SYS_write, 1, (long)s, (long)len(s));
}

static void say_errno(long r)
{
	static const struct {
		long e;
		const char *name;
	} names[] = { { -1, "EPERM" }, { -13, "EACCES" }, { -26, "ETXTBSY" }, { -30, "EROFS" }, { -2, "ENOENT" } };
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].e == r) {
			say(names[i].name);
			return;
		}
	say(r >= 0 ? "ok" : "error");
}

/* The kernel enters with the stack 16-byte aligned, not as after a call: realign it. */
__attribute__((force_align_arg_pointer)) void _start(void)
{
	char buf[256];
	long n = sys3(SYS_readlink, (long)"/proc/self/exe", (long)buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	say("exe: ");
	say(buf);
	say("\nexe-write: ");
	long fd = sys3(SYS_open, (long)"/proc/self/exe", O_WRONLY, 0);
	say_errno(fd < 0 ? fd : 0);
	say("\nexe-reopen-write: ");
	fd = sys3(SYS_open, (long)"/proc/self/exe", O_RDONLY, 0);
	if (fd >= 0) {
		char path[32] = "/proc/self/fd/";
		char digits[8];
		int nd = 0;
		do
			digits[nd++] = (char)('0' + fd % 10);
		while ((fd /= 10) && nd < 7);
		char *q = path + 14;
		while (nd)
			*q++ = digits[--nd];
		*q = '\0';
		long w = sys3(SYS_open, (long)path, O_WRONLY, 0);
		say_errno(w < 0 ? w : 0);
	} else {
		say_errno(fd);
	}
	say("\n");
	sys3(SYS_exit_group, 3, 0, 0);
	for (;;)
		;
}
