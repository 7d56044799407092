// SPDX-License-Identifier: MIT
/*
 * hello-lib: the guest of hello-raw.c, launched through libhvx.
 *
 * libhvx opens /dev/hvx and checks the API version, maps the run page and
 * puts the vCPU into real mode; its functions return 0 or -errno.
 *
 * Usage: hvx-hello-lib [auto|nested|shadow]   (the VM's paging mode)
 */
#define _DEFAULT_SOURCE		/* MAP_ANONYMOUS under -std=c11 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <libhvx.h>

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

/* What failed, with the text of the -errno it returned. */
static void die(const char *what, int err)
{
	fprintf(stderr, "hvx-hello-lib: %s: %s\n", what, strerror(-err));
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
	struct hvx_sys sys;
	struct hvx_vm vm;
	struct hvx_vcpu vcpu;
	struct hvx_vcpu_state state;
	struct hvx_run *run;
	char text[64] = "";
	size_t text_len = 0;
	int paging = paging_mode(argc, argv);
	int ret, sum = -1;
	unsigned char *mem;

	if (paging < 0) {
		fprintf(stderr, "usage: hvx-hello-lib [auto|nested|shadow]  (the paging mode)\n");
		return 2;
	}

	ret = hvx_open(&sys);
	if (ret == -EPROTO) {
		fprintf(stderr, "hvx-hello-lib: /dev/hvx does not speak API version %d\n",
			HVX_API_VERSION);
		return 1;
	}
	if (ret)
		die(HVX_DEVICE_PATH, ret);
	ret = hvx_vm_create(&sys, &vm, paging, 0);
	if (ret)
		die("hvx_vm_create", ret);

	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap of guest RAM", -errno);
	memcpy(mem + CODE_GPA, guest_code, sizeof(guest_code));
	memcpy(mem + CODE_GPA + sizeof(guest_code), GREETING, sizeof(GREETING));
	ret = hvx_vm_set_region(&vm, 0, 0, 0, MEM_SIZE, mem);
	if (ret)
		die("hvx_vm_set_region", ret);

	/* The vCPU and its run page, in real mode at CS:IP 0:CODE_GPA. */
	ret = hvx_vcpu_create(&vm, 0, &vcpu);
	if (ret)
		die("hvx_vcpu_create", ret);
	ret = hvx_setup_mode(&vcpu, mem, MEM_SIZE, HVX_MODE_REAL, CODE_GPA, 0);
	if (ret)
		die("hvx_setup_mode", ret);
	memset(&state, 0, sizeof(state));
	ret = hvx_vcpu_get_state(&vcpu, &state, HVX_STATE_REGS);
	if (ret)
		die("hvx_vcpu_get_state", ret);
	state.regs.rbx = X;
	state.regs.rcx = Y;
	ret = hvx_vcpu_set_state(&vcpu, &state, HVX_STATE_REGS);
	if (ret)
		die("hvx_vcpu_set_state", ret);

	run = vcpu.run;
	for (;;) {
		ret = hvx_vcpu_run(&vcpu);
		if (ret == -EINTR)
			continue;
		if (ret)
			die("hvx_vcpu_run", ret);
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
			fprintf(stderr, "hvx-hello-lib: unexpected exit %s at rip %#llx\n",
				hvx_exit_name(run->exit_reason), (unsigned long long)run->rip);
			return 1;
		}
	}

	if (strcmp(text, GREETING) || sum != X + Y) {
		fprintf(stderr, "hvx-hello-lib: wrong guest output: expected the greeting "
			"and the sum %d\n", X + Y);
		return 1;
	}
	hvx_vcpu_destroy(&vcpu);
	hvx_vm_destroy(&vm);
	munmap(mem, MEM_SIZE);
	hvx_close(&sys);
	return 0;
}
