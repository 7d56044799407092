/* SPDX-License-Identifier: GPL-2.0 */
/* The flat image of a C guest (BLOB_BIN) as blob BLOB_NAME (GUEST_CODE). */
#include "guest.h"

/* One more expansion, so that BLOB_NAME becomes the name before pasting. */
#define BLOB_BEGIN(name)	GUEST_BEGIN(name)
#define BLOB_END(name)		GUEST_END(name)

BLOB_BEGIN(BLOB_NAME)
	.incbin BLOB_BIN
BLOB_END(BLOB_NAME)
