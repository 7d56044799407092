// SPDX-License-Identifier: GPL-2.0
/*
 * Debian's own kernel boots under hvx-run to a busybox initramfs, a shell
 * on the serial console runs what the test types into hvx-run's stdin,
 * and poweroff -f / reboot -f end hvx-run with status 0: as a PC with the
 * PIC only (--no-apic, Linux told noapic nolapic), and as an SMP PC with
 * four vCPUs, local APICs and the I/O APIC, which Linux finds in the MP
 * table.  The kernel and
 * the initramfs are linux/vmlinuz and linux/initrd.gz of $HVX_GUEST_DIR
 * (the rig puts its own kernel there, with scripts/guest-init.sh as the
 * initramfs's /init).
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "launch.h"
#include "libhvx.h"
#include "test_util.h"

/* What the rig's guest /init prints before it starts the shell. */
#define INIT_MARKER	"GUEST-INIT"
/*
 * The command lines a user needs on this platform (see
 * Documentation/hvx-run.rst): a uniprocessor PC with the PIC only
 * (hvx-run --no-apic), and a PC with APICs (the default), which needs
 * nothing said.
 */
#define APPEND_BASE	"console=ttyS0 earlyprintk=serial,ttyS0,115200 panic=-1 loglevel=5"
#define APPEND_PIC	APPEND_BASE " noapic nolapic"
#define SMP_CPUS	"4"
/* Kernel reports that fail the boot wherever they appear in the guest's output. */
#define SPLAT_RE	"WARNING:|BUG:|Oops|general protection|Call Trace:|" \
			"unchecked MSR access|Kernel panic|ACPI Error"

FIXTURE(guest) {
	struct launch l;
	char kernel[4096], initrd[4096];
	bool slow_cpu;			/* HVX_SLOW_CPU: a longer launch timeout */
};

/*
 * Each paging mode the module offers; the others skip.  Under shadow
 * paging the guest runs without Meltdown's page-table isolation (PTI),
 * as the rig's own host kernel does: a PTI kernel (an Intel CPU makes one)
 * loads CR3 at every entry and exit, and every load drops the shadow
 * translations of its kernel, which is not global then
 * (Documentation/mmu.rst, "Limits"); an emulated CPU makes that boot last
 * many minutes.  With nested paging the guest keeps its own default.
 */
FIXTURE_VARIANT(guest) {
	const char *paging;
	__u32 cap;
	const char *append;
	bool smp;		/* --cpus 4 with the APIC; else --no-apic */
};

FIXTURE_VARIANT_ADD(guest, nested) {
	.paging = "nested", .cap = HVX_CAP_PAGING_NESTED, .append = APPEND_PIC,
};

FIXTURE_VARIANT_ADD(guest, shadow) {
	.paging = "shadow", .cap = HVX_CAP_PAGING_SHADOW, .append = APPEND_PIC " mitigations=off",
};

FIXTURE_VARIANT_ADD(guest, smp_nested) {
	.paging = "nested", .cap = HVX_CAP_PAGING_NESTED, .append = APPEND_BASE, .smp = true,
};

FIXTURE_VARIANT_ADD(guest, smp_shadow) {
	.paging = "shadow", .cap = HVX_CAP_PAGING_SHADOW, .append = APPEND_BASE " mitigations=off",
	.smp = true,
};

FIXTURE_SETUP(guest)
{
	struct hvx_sys sys;
	__u64 have = 0;

	memset(&self->l, 0, sizeof(self->l));
	TVM_REQUIRE_GUEST_FILE("linux/vmlinuz", self->kernel);
	TVM_REQUIRE_GUEST_FILE("linux/initrd.gz", self->initrd);
	TVM_REQUIRE_HVX();
	ASSERT_EQ(0, hvx_open(&sys));
	ASSERT_EQ(0, hvx_check_cap(&sys, variant->cap, &have));
	hvx_close(&sys);
	if (!have)
		SKIP(return, "no %s paging on this CPU or module", variant->paging);
	if (variant->smp) {
		__u64 real_mode = 0;

		ASSERT_EQ(0, hvx_open(&sys));
		ASSERT_EQ(0, hvx_check_cap(&sys, HVX_CAP_LAPIC, &have));
		ASSERT_EQ(0, hvx_check_cap(&sys, variant->cap == HVX_CAP_PAGING_NESTED ?
					   HVX_CAP_UNRESTRICTED_GUEST : HVX_CAP_SHADOW_REAL_MODE,
					   &real_mode));
		hvx_close(&sys);
		ASSERT_EQ(1, have) TH_LOG("the module has no in-kernel APIC");
		/* hvx-run refuses it then (launcher_test checks the message). */
		if (!real_mode)
			SKIP(return, "the APs' real mode does not run under %s paging on this CPU",
			     variant->paging);
	}
	self->slow_cpu = getenv("HVX_SLOW_CPU") != NULL;
}

FIXTURE_TEARDOWN(guest)
{
	launch_free(&self->l);
}

/* The number of words in s, as wc -w counts them. */
static unsigned int words(const char *s)
{
	unsigned int n = 0;

	for (; *s; s++)
		if (*s != ' ' && (s[1] == ' ' || !s[1]))
			n++;
	return n;
}

/*
 * A guest that stops making progress: the module's counters of hvx-run's
 * VM, and their rates over a second (which exit spins?), from hvxstat,
 * before launch_run() asks hvx-run for its own state report (SIGUSR1).
 */
static void report_vm(pid_t pid)
{
	char cmd[128], line[8192], key[32], *p;
	unsigned int id;
	int found = 0;
	FILE *f;

	f = popen("hvxstat --json 2>&1", "r");
	if (!f)
		return;
	snprintf(key, sizeof(key), "\"pid\":%d,", (int)pid);
	while (!found && fgets(line, sizeof(line), f)) {
		for (p = strstr(line, key); p && p > line; p--) {
			if (sscanf(p, "{\"id\":%u,", &id) == 1) {
				found = 1;
				break;
			}
		}
	}
	pclose(f);
	if (!found) {
		ksft_print_msg("hung guest: no hvx VM of pid %d in hvxstat --json\n", (int)pid);
		return;
	}
	snprintf(cmd, sizeof(cmd), "hvxstat --json --watch 1 --count 2 %u 2>&1", id);
	f = popen(cmd, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		ksft_print_msg("hung guest: %s: %s", cmd, line);
	pclose(f);
}

/* The counts, summed over the CPUs, on the /proc/interrupts line that ends with what; -1 if none. */
static long irq_count(const char *out, const char *what)
{
	const char *p = strstr(out, what), *line;
	long n, sum = 0;
	int k = 0;

	if (!p)
		return -1;
	for (line = p; line > out && line[-1] != '\n'; line--)
		;
	sscanf(line, " %*d:%n", &k);
	if (!k)
		return -1;
	for (line += k; line < p && sscanf(line, " %ld%n", &n, &k) == 1; line += k)
		sum += n;
	return sum;
}

/* Boots the variant's guest, its command line followed by extra if not NULL. */
static void boot(struct __test_metadata *_metadata, FIXTURE_DATA(guest) *self,
		 const FIXTURE_VARIANT(guest) *variant, const char *extra, const char *input)
{
	char append[512];
	char *argv[] = {
		(char *)launch_hvx_run(), "--verbose", "--paging", (char *)variant->paging,
		"--mem", "256M", "--kernel", self->kernel,
		"--initrd", self->initrd, "--append", append,
		variant->smp ? "--cpus" : "--no-apic", variant->smp ? SMP_CPUS : NULL, NULL,
	};
	struct launch *l = &self->l;
	regmatch_t m;
	regex_t re;

	snprintf(append, sizeof(append), "%s%s%s", variant->append, extra ? " " : "",
		 extra ? extra : "");

	/* A guest that stops making progress fails, with hvxstat's view and hvx-run's report. */
	launch_on_timeout = report_vm;
	ASSERT_EQ(0, launch_run(argv, INIT_MARKER, input, self->slow_cpu ? 420 : 150, l));
	if (l->status != 0 || !strstr(l->out, "GUEST-CMD 42"))
		TH_LOG("status %d; stdout:\n%s\nstderr:\n%s", l->status, l->out, l->err);
	ASSERT_EQ(0, regcomp(&re, SPLAT_RE, REG_EXTENDED));
	if (!regexec(&re, l->out, 1, &m, 0))
		TH_LOG("guest kernel report: %.120s; the guest's output:\n%s", l->out + m.rm_so,
		       l->out);
	EXPECT_NE(0, regexec(&re, l->out, 1, &m, 0));
	regfree(&re);
	ksft_print_msg("hvx-run: Linux guest, %s paging, %s: launch to /init %.1f s, to exit %.1f s (hvx-run CPU %.1f s)\n",
		       variant->paging, variant->smp ? SMP_CPUS " vCPUs" : "PIC only", l->marker_s,
		       l->wall_s, l->cpu_s);
}

/*
 * The port exits hvx-run --verbose counted for a device ("hvx-run: port
 * exits by device: com1 N ..."): 0 if it took none, -1 without the line.
 */
static long long device_exits(const char *err, const char *dev)
{
	const char *line = strstr(err, "hvx-run: port exits by device:"), *p;
	char key[64];
	long long n;

	if (!line)
		return -1;
	snprintf(key, sizeof(key), " %s ", dev);
	p = strstr(line, key);
	if (!p || p > line + strcspn(line, "\n"))
		return 0;
	return sscanf(p + strlen(key), "%lld", &n) == 1 ? n : -1;
}

/* Prints the guest's kernel messages about its TSC and clock source (at most 20). */
static void print_clock_messages(const char *out)
{
	const char *p = out, *e;
	int n = 0;

	for (; *p && n < 20; p = *e ? e + 1 : e) {
		e = p + strcspn(p, "\n");
		if ((memmem(p, e - p, "tsc:", 4) || memmem(p, e - p, "clocksource:", 12)) &&
		    !memmem(p, e - p, "grep", 4)) {
			ksft_print_msg("guest: %.*s\n", (int)(e - p), p);
			n++;
		}
	}
}

/* The counts of the "LOC:" line of /proc/interrupts, one per CPU: how many, -1 if none. */
static int local_timer_counts(const char *out, long *n, int max)
{
	const char *p = strstr(out, "LOC:");
	int i, k;

	if (!p)
		return -1;
	p += 4;
	for (i = 0; i < max; i++, p += k)
		if (sscanf(p, " %ld%n", &n[i], &k) != 1)
			break;
	return i;
}

TEST_F_TIMEOUT(guest, shell_runs_command_then_poweroff, 900)
{
	struct launch *l = &self->l;
	const char *p;
	char want[64];
	long loc[8];
	int i, n, tsc_arg;

	boot(_metadata, self, variant, NULL,
	     "echo GUEST-CMD $((6 * 7)) $(cat /proc/cmdline | wc -w)\n"
			      "echo CPUS $(grep -c ^processor /proc/cpuinfo)\n"
			      "echo CLOCKEVENT $(cat /sys/devices/system/clockevents/clockevent0/current_device)\n"
			      "echo CLOCKSOURCE $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)\n"
			      "echo TSCARG $(grep -o 'tsc_early_khz=[0-9]*' /proc/cmdline)\n"
			      "echo PCIARG $(grep -o 'pci=[a-z]*' /proc/cmdline) END\n"
			      "dmesg | grep -i -E 'tsc[:=]|clocksource:|TSC'\n"
			      "cat /proc/interrupts\n"
			      "poweroff -f\n");
	EXPECT_EQ(0, l->status);
	EXPECT_GE(l->marker_s, 0);
	/*
	 * The whole command line reached the guest, and hvx-run's
	 * tsc_early_khz= where CPUID does not give the TSC's frequency: on
	 * AMD (Linux reads leaf 0x15 only on Intel) and without the APIC
	 * (which fills leaf 0x15).
	 */
	tsc_arg = !tvm_host_is_intel() || !variant->smp;
	snprintf(want, sizeof(want), "GUEST-CMD 42 %u", words(variant->append) + tsc_arg + 1);
	EXPECT_TRUE(strstr(l->out, want) != NULL) TH_LOG("no '%s' in the output", want);
	EXPECT_EQ(tsc_arg, strstr(l->out, "TSCARG tsc_early_khz=") != NULL);
	/*
	 * hvx-run's pci=off: the PC has no PCI device, and Linux does not
	 * scan for one (hvx-run --verbose counts the port exits by device).
	 * A few accesses remain (2 with the PIC, 12 with SMP on 6.12); a
	 * scan of even one bus would take 64.
	 */
	EXPECT_TRUE(strstr(l->out, "PCIARG pci=off END") != NULL);
	EXPECT_LT(device_exits(l->err, "pci-conf1"), 32);
	EXPECT_GE(device_exits(l->err, "pci-conf1"), 0);
	EXPECT_GT(device_exits(l->err, "com1"), 0);
	for (p = strstr(l->out, "CLOCKSOURCE "); p && p[12] == '$'; p = strstr(p + 1, "CLOCKSOURCE "))
		;
	if (p)
		ksft_print_msg("%.*s\n", (int)strcspn(p, "\r\n"), p);
	print_clock_messages(l->out);
	/* Without ACPI, Linux powers off by halting every CPU with interrupts off. */
	EXPECT_TRUE(strstr(l->err, "hvx-run: guest halted with interrupts off") != NULL);
	if (!variant->smp) {
		EXPECT_TRUE(strstr(l->out, "CPUS 1") != NULL);
		/* The PIT's and the UART's interrupts reached the guest through the PIC. */
		EXPECT_GT(irq_count(l->out, "XT-PIC      timer"), 10);
		EXPECT_GT(irq_count(l->out, "XT-PIC      ttyS0"), 0);
		return;
	}
	/* The guest's answer, not the shell's echo of the command. */
	for (p = strstr(l->out, "CLOCKEVENT "); p && p[11] == '$'; p = strstr(p + 1, "CLOCKEVENT "))
		;
	if (p)
		ksft_print_msg("%.*s\n", (int)strcspn(p, "\r\n"), p);
	/*
	 * Every CPU came up, its local APIC timer is the clock event device
	 * and ticks; in TSC-deadline mode, which Linux uses only when it
	 * knows the TSC's frequency without calibrating it (leaf 0x15 on
	 * Intel, tsc_early_khz= on AMD).
	 */
	EXPECT_TRUE(strstr(l->out, "CPUS " SMP_CPUS) != NULL) TH_LOG("not " SMP_CPUS " CPUs online");
	EXPECT_TRUE(strstr(l->out, "CLOCKEVENT lapic-deadline") != NULL)
		TH_LOG("the clock event device is not the local APIC's TSC-deadline timer");
	n = local_timer_counts(l->out, loc, 8);
	EXPECT_EQ(atoi(SMP_CPUS), n);
	for (i = 0; i < n; i++)
		EXPECT_GT(loc[i], 10) TH_LOG("CPU %d: %ld local timer interrupts", i, loc[i]);
	/* The PIT's IRQ 0 came through I/O APIC pin 2 (Linux's timer check), the UART's through pin 4. */
	EXPECT_GT(irq_count(l->out, "IO-APIC   2-edge      timer"), 0);
	EXPECT_GT(irq_count(l->out, "IO-APIC   4-edge      ttyS0"), 0);
}

/*
 * reboot -f ends hvx-run.  The command line sets tsc_early_khz= itself (to
 * the right value) and a pci= option: hvx-run adds no second one, nor its
 * pci=off.
 */
TEST_F_TIMEOUT(guest, reboot_ends_hvx_run, 900)
{
	struct launch *l = &self->l;
	char tsc_arg[64], want[96];
	struct hvx_sys sys;
	long long probes;
	__u64 khz = 0;

	ASSERT_EQ(0, hvx_open(&sys));
	ASSERT_EQ(0, hvx_check_cap(&sys, HVX_CAP_TSC_KHZ, &khz));
	hvx_close(&sys);
	snprintf(tsc_arg, sizeof(tsc_arg), "tsc_early_khz=%llu", (unsigned long long)khz);
	strcat(tsc_arg, " pci=nommconf");
	boot(_metadata, self, variant, tsc_arg,
	     "echo GUEST-CMD $((6 * 7))\n"
	     "echo TSCARGS $(grep -o 'tsc_early_khz=[0-9]*' /proc/cmdline) END\n"
	     "echo PCIARGS $(grep -o 'pci=[a-z]*' /proc/cmdline) END\n"
	     "reboot -f\n");
	EXPECT_EQ(0, l->status);
	EXPECT_TRUE(strstr(l->out, "GUEST-CMD 42") != NULL);
	*strchr(tsc_arg, ' ') = '\0';
	snprintf(want, sizeof(want), "TSCARGS %s END", tsc_arg);
	EXPECT_TRUE(strstr(l->out, want) != NULL) TH_LOG("no '%s' in the output", want);
	/*
	 * A pci= of the user's: no pci=off, and Linux scans for PCI devices,
	 * an address write and a data read per probe: at least the 32
	 * device numbers of bus 0 (6.12 probes 34,231 times on AMD, where
	 * its early scan reads all 256 buses, and 1,165 times on Intel).
	 */
	EXPECT_TRUE(strstr(l->out, "PCIARGS pci=nommconf END") != NULL);
	probes = device_exits(l->err, "pci-conf1");
	EXPECT_GE(probes, 32 * 2);
	ksft_print_msg("port exits of PCI configuration probes without pci=off: %lld\n", probes);
	/* Linux's default without ACPI: the keyboard controller's reset line. */
	EXPECT_TRUE(strstr(l->err, "hvx-run: reset through the i8042") != NULL);
}

TEST_HARNESS_MAIN
