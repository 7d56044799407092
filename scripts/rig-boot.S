/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rig-boot.S: boot sector of the rig's Bochs disk (scripts/rig.sh).
 *
 * Bochs has no -kernel, so this sector boots Linux directly through its
 * PVH entry point (the XEN_ELFNOTE_PHYS32_ENTRY of vmlinux), which needs
 * no decompression under emulation and no boot loader.  From the BIOS it
 * takes only the E820 memory map; then, in 32-bit protected mode, it
 * reads the disk with ATA PIO (primary channel, LBA28), fills a PVH
 * hvm_start_info (memory map, one module = the initramfs, command line,
 * RSDP) and jumps to the entry with %ebx pointing at it, as the PVH boot
 * ABI asks: flat 32-bit segments, paging off, interrupts off.
 *
 * The disk, as scripts/rig.sh writes it (sectors of 512 bytes):
 *   LBA 0   this sector
 *   LBA 1   parameters, read to 0x7e00, little-endian:
 *             0  struct hvm_start_info, filled in but for the memory map
 *                and the RSDP, which this sector adds
 *            64  struct hvm_modlist_entry of the initramfs
 *            96  32-bit words: kernel LBA, sectors, address, entry point;
 *                initramfs LBA, sectors, address
 *           128  the command line, NUL-terminated
 *   then the flattened kernel (objcopy -O binary, trailing zeros cut) and
 *   the initramfs, each from the LBA the parameters give.
 * On any error it prints "hvx-boot: error X" on COM1 and triple-faults,
 * which ends the Bochs run.
 */

	.equ	MEMMAP, 0x6000		/* struct hvm_memmap_table_entry[] */
	.equ	MEMMAP_MAX, 128
	.equ	PARAMS, 0x7e00		/* LBA 1 */
	.equ	SMAP, 0x534d4150
	.equ	PVH_MAGIC, 0x336ec578
	.equ	ATA_DATA, 0x1f0
	.equ	ATA_STATUS, 0x1f7	/* also the command register */
	.equ	COM1, 0x3f8

	.text
	.code16
	.globl	_start
_start:
	cli
	cld
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	$0x7c00, %sp
	/*
	 * E820 map, straight into the PVH memmap table: its entries have the
	 * layout of ACPI 3 E820 entries, whose last word PVH wants zero.
	 */
	movw	$MEMMAP, %di
	xorl	%ebx, %ebx
	xorw	%bp, %bp
e820_next:
	movl	$1, 20(%di)
	movl	$0xe820, %eax
	movl	$24, %ecx
	movl	$SMAP, %edx
	int	$0x15
	jc	e820_done
	cmpl	$SMAP, %eax
	jne	e820_done
	movl	$0, 20(%di)
	addw	$24, %di
	incw	%bp
	cmpw	$MEMMAP_MAX, %bp
	jae	e820_done
	testl	%ebx, %ebx
	jnz	e820_next
e820_done:
	movw	%bp, nmemmap

	/* A20 through port 0x92, then protected mode. */
	inb	$0x92, %al
	orb	$2, %al
	andb	$0xfe, %al
	outb	%al, $0x92
	lgdtl	gdt_desc
	movl	%cr0, %eax
	orb	$1, %al
	movl	%eax, %cr0
	ljmpl	$0x08, $pm32

	.code32
pm32:
	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	%ax, %fs
	movw	%ax, %gs
	movl	$0x7c00, %esp
	/* Polled I/O: no interrupts from the drive (nIEN). */
	movw	$0x3f6, %dx
	movb	$2, %al
	outb	%al, %dx

	movl	$1, %ebp
	movl	$1, %ecx
	movl	$PARAMS, %edi
	call	ata_read
	movb	$'P', %al
	cmpl	$PVH_MAGIC, PARAMS
	jne	fail
	movl	PARAMS + 96, %ebp
	movl	PARAMS + 100, %ecx
	movl	PARAMS + 104, %edi
	call	ata_read
	movl	PARAMS + 112, %ebp
	movl	PARAMS + 116, %ecx
	movl	PARAMS + 120, %edi
	call	ata_read

	movl	$MEMMAP, PARAMS + 40		/* memmap_paddr */
	movzwl	nmemmap, %eax
	movl	%eax, PARAMS + 48		/* memmap_entries */

	/* The ACPI RSDP, in the BIOS area on a 16-byte boundary. */
	movl	$0xe0000, %esi
rsdp_next:
	cmpl	$0x20445352, (%esi)		/* "RSD " */
	jne	1f
	cmpl	$0x20525450, 4(%esi)		/* "PTR " */
	je	rsdp_found
1:	addl	$16, %esi
	cmpl	$0x100000, %esi
	jb	rsdp_next
	xorl	%esi, %esi			/* none: the kernel looks itself */
rsdp_found:
	movl	%esi, PARAMS + 32		/* rsdp_paddr */

	movl	$PARAMS, %ebx
	jmp	*PARAMS + 108

/*
 * ata_read: %ecx sectors from LBA %ebp to %edi, at most 256 per READ
 * SECTORS command.  Clobbers %eax, %ebx, %edx, %esi.
 */
ata_read:
	jecxz	9f
	movl	$256, %ebx
	cmpl	%ebx, %ecx
	jae	1f
	movl	%ecx, %ebx
1:	movw	$ATA_STATUS, %dx
2:	inb	%dx, %al
	testb	$0x80, %al			/* BSY */
	jnz	2b
	movw	$0x1f2, %dx
	movb	%bl, %al			/* 256 is written as 0 */
	outb	%al, %dx
	movl	%ebp, %eax
	incw	%dx
	outb	%al, %dx			/* LBA 0-7 */
	shrl	$8, %eax
	incw	%dx
	outb	%al, %dx			/* LBA 8-15 */
	shrl	$8, %eax
	incw	%dx
	outb	%al, %dx			/* LBA 16-23 */
	shrl	$8, %eax
	andb	$0x0f, %al
	orb	$0xe0, %al			/* LBA mode, master */
	incw	%dx
	outb	%al, %dx
	movb	$0x20, %al			/* READ SECTORS */
	incw	%dx
	outb	%al, %dx
	movl	%ebx, %esi
3:	inb	%dx, %al
	testb	$0x80, %al
	jnz	3b
	testb	$0x21, %al			/* ERR, DF */
	jnz	disk_error
	testb	$0x08, %al			/* DRQ */
	jz	3b
	pushl	%ecx
	movl	$256, %ecx
	movw	$ATA_DATA, %dx
	rep insw
	popl	%ecx
	movw	$ATA_STATUS, %dx
	decl	%esi
	jnz	3b
	addl	%ebx, %ebp
	subl	%ebx, %ecx
	jmp	ata_read
9:	ret

disk_error:
	movb	$'D', %al
/* fail: print the message with code %al on COM1, then triple-fault. */
fail:
	movb	%al, errcode
	movl	$errmsg, %esi
1:	lodsb
	testb	%al, %al
	jz	3f
	movb	%al, %ah
	movw	$COM1 + 5, %dx
2:	inb	%dx, %al
	testb	$0x20, %al			/* THR empty */
	jz	2b
	movb	%ah, %al
	movw	$COM1, %dx
	outb	%al, %dx
	jmp	1b
3:	lidt	gdt				/* limit 0: no IDT */
	int3

	.balign	8
gdt:
	.quad	0
	.quad	0x00cf9a000000ffff		/* 0x08: code, flat, 32-bit */
	.quad	0x00cf92000000ffff		/* 0x10: data, flat */
gdt_desc:
	.word	gdt_desc - gdt - 1
	.long	gdt
nmemmap:
	.word	0
errmsg:
	.ascii	"\nhvx-boot: error "
errcode:
	.ascii	"?\n\0"

	.org	510
	.byte	0x55, 0xaa
