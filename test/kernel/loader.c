/*
 * The module loader of the real-kernel test's initramfs: busybox insmod
 * cannot pass finit_module flags, and modules built for another Debian ABI
 * need them. Usage: loader FLAGS MODULE.ko...  For each module it prints
 * one line "@@LOAD <file> <errno>" (0 = loaded).
 *
 * FLAGS is what `modprobe --force` passes (checked against Linux 6.12):
 * - MODULE_INIT_IGNORE_MODVERSIONS (1): kernel/module/main.c sets
 *   info->index.vers = 0 ("pretend no __versions section"), and
 *   check_version() in kernel/module/version.c then calls try_to_force_load()
 *   for every symbol instead of comparing CRCs: allowed with
 *   CONFIG_MODULE_FORCE_LOAD=y, taint F. This alone is modprobe
 *   --force-modversion, and it is not enough across releases:
 * - check_modinfo() compares vermagic with same_magic(modmagic, vermagic,
 *   info->index.vers), which skips the leading release word only when the
 *   module has __versions. With them ignored the whole string is compared,
 *   and 6.12.95+deb12 != 6.12.117+deb13: ENOEXEC. MODULE_INIT_IGNORE_VERMAGIC
 *   (2) drops the comparison (try_to_force_load "bad vermagic" instead).
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
