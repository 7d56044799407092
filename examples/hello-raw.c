// SPDX-License-Identifier: MIT
/*
 * hello-raw: a complete hvx launcher on the raw ioctls of <linux/hvx.h>.
 *
 * The guest is a few bytes of 16-bit real-mode code: it prints a greeting
 * one character at a time on port 0x10, adds BX and CX, writes the sum to
 * port 0x11 and halts.  Documentation/tutorial.rst walks through it.
 *
 * Usage: hvx-hello-raw [auto|nested|shadow]   (the VM's paging mode)
 */
#define _DEFAULT_SOURCE		/* MAP_ANONYMOUS under -std=c11 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/hvx.h>

#define MEM_SIZE	0x10000		/* guest RAM: 64 KiB at guest-physical 0 */
#define CODE_GPA	0x1000		/* where the guest code is loaded */
#define GREETING	"Hello from a real-mode guest!\n"
#define PORT_TEXT	0x10
#define PORT_SUM	0x11
#define X		1234		/* the guest adds these two */
#define Y		4321

static const unsigned char guest_code[] = {
	0xbe, 0x13, 0x10,	/*     mov  $greeting, %si   (CODE_GPA + 0x13) */
	0xac,			/* 1:  lodsb                  (%ds:%si++ -> %al) */
	0x84, 0xc0,		/*     test %al, %al */
	0x74, 0x04,		/*     jz   2f */
	0xe6, PORT_TEXT,	/*     out  %al, $PORT_TEXT */
	0xeb, 0xf7,		/*     jmp  1b */
	0x89, 0xd8,		/* 2:  mov  %bx, %ax */
	0x01, 0xc8,		/*     add  %cx, %ax */
	0xe7, PORT_SUM,		/*     out  %ax, $PORT_SUM */
	0xf4,			/*     hlt */
};
_Static_assert(sizeof(guest_code) == 0x13, "the mov to %si points past the code");

/* What failed, with errno's text.  exit() closes the fds: the VM goes with them. */
static void die(const char *what)
{
	fprintf(stderr, "hvx-hello-raw: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The paging mode the command line asks for (HVX_PAGING_*), or -1. */
static int paging_mode(int argc, char **argv)
{
	if (argc == 1 || (argc == 2 && !strcmp(argv[1], "auto")))
		return HVX_PAGING_AUTO;
	if (argc == 2 && !strcmp(argv[1], "nested"))
		return HVX_PAGING_NESTED;
	if (argc == 2 && !strcmp(argv[1], "shadow"))
		return HVX_PAGING_SHADOW;
	return -1;
}

int main(int argc, char **argv)
{
	int paging = paging_mode(argc, argv);
	struct hvx_vm_create vm_create = { .paging = paging };
	struct hvx_vcpu_create vcpu_create = { .id = 0 };
	struct hvx_memory_region region = { .slot = 0 };
	struct hvx_vcpu_state state;
	struct hvx_run *run;
	char text[64] = "";
	size_t text_len = 0;
	int sys, version, vm, vcpu, run_size, sum = -1;
	unsigned char *mem;

	if (paging < 0) {
		fprintf(stderr, "usage: hvx-hello-raw [auto|nested|shadow]  (the paging mode)\n");
		return 2;
	}

	sys = open("/dev/hvx", O_RDWR | O_CLOEXEC);
	if (sys < 0)
		die("/dev/hvx");
	version = ioctl(sys, HVX_GET_API_VERSION, 0);
	if (version < 0)
		die("HVX_GET_API_VERSION");
	if (version != HVX_API_VERSION) {
		fprintf(stderr, "hvx-hello-raw: /dev/hvx speaks API version %d, not %d\n",
			version, HVX_API_VERSION);
		return 1;
	}
	vm = ioctl(sys, HVX_CREATE_VM, &vm_create);
	if (vm < 0)
		die("HVX_CREATE_VM");

	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap of guest RAM");
	memcpy(mem + CODE_GPA, guest_code, sizeof(guest_code));
	memcpy(mem + CODE_GPA + sizeof(guest_code), GREETING, sizeof(GREETING));
	region.guest_phys_addr = 0;
	region.size = MEM_SIZE;
	region.userspace_addr = (__u64)(unsigned long)mem;
	if (ioctl(vm, HVX_SET_MEMORY_REGION, &region) < 0)
		die("HVX_SET_MEMORY_REGION");

	vcpu = ioctl(vm, HVX_CREATE_VCPU, &vcpu_create);
	if (vcpu < 0)
		die("HVX_CREATE_VCPU");
	run_size = ioctl(sys, HVX_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < 0)
		die("HVX_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap of the run page");

	/* From the reset state (real mode, CS base 0xffff0000) to CS:IP 0:CODE_GPA. */
	memset(&state, 0, sizeof(state));
	state.components = HVX_STATE_REGS | HVX_STATE_SREGS;
	if (ioctl(vcpu, HVX_GET_STATE, &state) < 0)
		die("HVX_GET_STATE");
	state.sregs.cs.selector = 0;
	state.sregs.cs.base = 0;
	state.regs.rip = CODE_GPA;
	state.regs.rbx = X;
	state.regs.rcx = Y;
	if (ioctl(vcpu, HVX_SET_STATE, &state) < 0)
		die("HVX_SET_STATE");

	for (;;) {
		if (ioctl(vcpu, HVX_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			die("HVX_RUN");
		}
		if (run->exit_reason == HVX_EXIT_HLT)
			break;
		if (run->exit_reason == HVX_EXIT_IO && run->io.direction == HVX_IO_OUT &&
		    run->io.port == PORT_TEXT && run->io.size == 1) {
			if (text_len < sizeof(text) - 1)
				text[text_len++] = run->io_data[0];
			putchar(run->io_data[0]);
		} else if (run->exit_reason == HVX_EXIT_IO && run->io.direction == HVX_IO_OUT &&
			   run->io.port == PORT_SUM && run->io.size == 2) {
			sum = run->io_data[0] | run->io_data[1] << 8;
			printf("%d + %d = %d\n", X, Y, sum);
		} else {
			fprintf(stderr, "hvx-hello-raw: unexpected exit %u at rip %#llx\n",
				run->exit_reason, (unsigned long long)run->rip);
			return 1;
		}
	}

	if (strcmp(text, GREETING) || sum != X + Y) {
		fprintf(stderr, "hvx-hello-raw: wrong guest output: expected the greeting "
			"and the sum %d\n", X + Y);
		return 1;
	}
	munmap(run, run_size);
	close(vcpu);
	close(vm);
	munmap(mem, MEM_SIZE);
	close(sys);
	return 0;
}
