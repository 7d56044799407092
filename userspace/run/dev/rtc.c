// SPDX-License-Identifier: GPL-2.0
/*
 * CMOS RAM and the MC146818 RTC at 0x70 (index; bit 7 masks NMI) and 0x71
 * (data).  The clock reads the host's UTC time, in BCD and 24-hour mode
 * unless the guest sets register B otherwise; no update cycle is ever in
 * progress and no RTC interrupt is raised.  The memory-size bytes are
 * those a PC BIOS leaves (base 0x15, extended 0x17 and 0x30 in KiB, above
 * 16M 0x34 in 64K units, above 4G 0x5b).
 */
#include <time.h>

#include "../hvx-run.h"

#define REG_A		0x0a
#define REG_B		0x0b
#define REG_C		0x0c
#define REG_D		0x0d
#define REG_CENTURY	0x32
#define B_24H		0x02
#define B_BINARY	0x04

static __u8 encode(const struct rtc *rtc, unsigned int v)
{
	if (rtc->ram[REG_B] & B_BINARY)
		return v;
	return ((v / 10) << 4) | (v % 10);
}

static __u8 clock_reg(const struct rtc *rtc, unsigned int idx)
{
	struct tm tm;
	time_t t = time(NULL);
	unsigned int hour;

	gmtime_r(&t, &tm);
	switch (idx) {
	case 0x00:
		return encode(rtc, tm.tm_sec);
	case 0x02:
		return encode(rtc, tm.tm_min);
	case 0x04:
		if (rtc->ram[REG_B] & B_24H)
			return encode(rtc, tm.tm_hour);
		hour = tm.tm_hour % 12 ? tm.tm_hour % 12 : 12;
		return encode(rtc, hour) | (tm.tm_hour >= 12 ? 0x80 : 0);
	case 0x06:
		return encode(rtc, tm.tm_wday + 1);
	case 0x07:
		return encode(rtc, tm.tm_mday);
	case 0x08:
		return encode(rtc, tm.tm_mon + 1);
	case 0x09:
		return encode(rtc, tm.tm_year % 100);
	default:
		return encode(rtc, (tm.tm_year + 1900) / 100);
	}
}

static void rtc_write(struct hvx_runner *r, void *dev, unsigned int off, unsigned int size,
		      __u32 val)
{
	struct rtc *rtc = dev;

	(void)r;
	(void)size;
	if (off == 0) {
		rtc->index = val & 0x7f;
		return;
	}
	switch (rtc->index) {
	case REG_A:
		rtc->ram[REG_A] = (val & 0x7f);		/* UIP is read-only */
		break;
	case REG_C:
	case REG_D:
		break;					/* read-only */
	default:
		rtc->ram[rtc->index] = val;
	}
}

static void rtc_read(struct hvx_runner *r, void *dev, unsigned int off, unsigned int size,
		     __u32 *val)
{
	struct rtc *rtc = dev;
	unsigned int idx = rtc->index;

	(void)r;
	(void)size;
	if (off == 0) {
		*val = 0xff;		/* the index register is write-only */
		return;
	}
	switch (idx) {
	case 0x00: case 0x02: case 0x04: case 0x06: case 0x07: case 0x08: case 0x09:
	case REG_CENTURY:
		*val = clock_reg(rtc, idx);
		break;
	case REG_C:
		*val = rtc->ram[REG_C];
		rtc->ram[REG_C] = 0;	/* flags clear on read */
		break;
	default:
		*val = rtc->ram[idx];
	}
}

int rtc__init(struct hvx_runner *r)
{
	struct rtc *rtc = &r->rtc;
	__u64 ext_kb, above16, above4g = 0;

	rtc->ram[REG_A] = 0x26;		/* 32.768 kHz time base, 1024 Hz rate */
	rtc->ram[REG_B] = B_24H;
	rtc->ram[REG_D] = 0x80;		/* valid RAM and time */
	rtc->ram[0x10] = 0;		/* no floppy drives */
	rtc->ram[0x14] = 0x06;		/* equipment: FPU, display per EGA/VGA BIOS */
	rtc->ram[0x15] = 640 & 0xff;	/* base memory: 640K */
	rtc->ram[0x16] = 640 >> 8;
	ext_kb = r->mem_size > (1ULL << 20) ? (r->mem_size - (1ULL << 20)) >> 10 : 0;
	if (ext_kb > 0xffff)
		ext_kb = 0xffff;
	rtc->ram[0x17] = rtc->ram[0x30] = ext_kb & 0xff;
	rtc->ram[0x18] = rtc->ram[0x31] = ext_kb >> 8;
	above16 = r->mem_size > (16ULL << 20) ? (r->mem_size - (16ULL << 20)) >> 16 : 0;
	if (above16 > 0xffff)
		above16 = 0xffff;
	rtc->ram[0x34] = above16 & 0xff;
	rtc->ram[0x35] = above16 >> 8;
	rtc->ram[0x5b] = above4g & 0xff;
	rtc->ram[0x5c] = (above4g >> 8) & 0xff;
	rtc->ram[0x5d] = (above4g >> 16) & 0xff;
	return io__register(r, "rtc", 0x70, 2, rtc_read, rtc_write, rtc);
}
