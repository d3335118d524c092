/*
 * The module loader of the real-kernel test's initramfs: busybox insmod
 * cannot pass finit_module flags, and modules built for another Debian ABI
 * need them. Usage: loader FLAGS MODULE.ko...  For each module it prints
 * one line "@@LOAD <file> <errno>" (0 = loaded).
 *
 * FLAGS is what `modprobe --force` passes: MODULE_INIT_IGNORE_MODVERSIONS (1)
 * makes the kernel pretend there is no __versions section (check_version then
 * force-loads, taint F, needs CONFIG_MODULE_FORCE_LOAD), and
 * MODULE_INIT_IGNORE_VERMAGIC (2) skips the vermagic string, which without
 * __versions would be compared whole, release included (same_magic).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: loader FLAGS MODULE.ko...\n");
		return 2;
	}
	int flags = atoi(argv[1]);
	for (int i = 2; i < argc; i++) {
		int err = 0;
		int fd = open(argv[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			err = errno;
		else {
			if (syscall(SYS_finit_module, fd, "", flags) != 0)
				err = errno;
			close(fd);
		}
		printf("@@LOAD %s %d\n", argv[i], err);
		fflush(stdout);
	}
	return 0;
}
